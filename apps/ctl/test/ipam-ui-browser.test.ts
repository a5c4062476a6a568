/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import fs from 'node:fs';
import path from 'node:path';
import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import { parseCidr } from '@atoll/ipmath';
import { blockKey } from '@atoll/model';
import { EtcdDatastore } from '@atoll/store';
import type { Browser, Page } from 'puppeteer-core';
import { freePort } from '../../../tools/etcd/launcher';
import { ATOLLCTL_BIN, startStack, type Stack } from './stack';
import { closeChromium, launchChromium, startUi, type RunningUi } from './ui-browser';

// `atollctl ipam ui` in a real headless Chromium, against a real allocator on a private
// etcd: pools of both families, addresses on several nodes, a reservation, a borrowed and
// a tunnel address, then a leak written straight into etcd. Screenshots go to .bench/ui/.

const SHOTS = path.resolve(__dirname, '../../../.bench/ui');

const POOLS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pods-a}
spec: {cidr: 10.1.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: big}
spec: {cidr: 10.64.0.0/12}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pods-v6}
spec: {cidr: 'fd00:10::/112', blockSize: 122}
---
apiVersion: projectcalico.org/v3
kind: IPReservation
metadata: {name: appliances}
spec: {reservedCIDRs: [10.1.0.32/28]}
${['node-a', 'node-b', 'node-c'].map((n) => `---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: ${n}}\nspec: {}\n`).join('')}`;

async function assign(clients: AllocatorClients, node: string, pod: string, pools: { v4?: string; v6?: string }): Promise<string> {
  const r = await clients.ipam.autoAssign({
    num4: pools.v4 ? 1 : 0,
    num6: pools.v6 ? 1 : 0,
    handleId: `k8s-pod-network.${pod}`,
    attributes: { node, namespace: 'default', pod },
    hostname: node,
    ipv4Pools: pools.v4 ? [pools.v4] : [],
    ipv6Pools: pools.v6 ? [pools.v6] : [],
    maxBlocksPerHost: 0,
    intendedUse: IntendedUse.INTENDED_USE_WORKLOAD,
    namespaceLabels: {},
    allOrNothing: true,
  });
  const ips = [...(r.ipv4?.ips ?? []), ...(r.ipv6?.ips ?? [])];
  if (ips.length === 0) throw new Error(`no address for ${pod}: ${JSON.stringify(r)}`);
  return ips[0]!.split('/')[0]!;
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent ?? '');

describe('atollctl ipam ui in a browser', () => {
  let stack: Stack;
  let clients: AllocatorClients;
  let ui: RunningUi;
  let browser: Browser;
  let page: Page;
  const addresses = new Map<string, string>();
  let firstBlock = '';
  const pageErrors: string[] = [];
  const offSite: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(ATOLLCTL_BIN)) throw new Error(`${ATOLLCTL_BIN} is missing: run 'npx nx build @atoll/ctl' first`);
    fs.mkdirSync(SHOTS, { recursive: true });
    stack = await startStack();
    clients = connectAllocator(stack.address);
    const applied = await stack.ctl(['apply', '-f', '-'], { stdin: POOLS });
    if (applied.code !== 0) throw new Error(applied.stderr);
    // node-a fills a block and a half; node-b and node-c a few addresses each, in other pools too.
    for (let i = 0; i < 40; i++) addresses.set(`web-${i}`, await assign(clients, 'node-a', `web-${i}`, { v4: '10.1.0.0/16' }));
    for (let i = 0; i < 5; i++) addresses.set(`db-${i}`, await assign(clients, 'node-b', `db-${i}`, { v4: '10.1.0.0/16' }));
    for (let i = 0; i < 3; i++) addresses.set(`v6-${i}`, await assign(clients, 'node-c', `v6-${i}`, { v6: 'fd00:10::/112' }));
    for (let i = 0; i < 2; i++) addresses.set(`batch-${i}`, await assign(clients, 'node-c', `batch-${i}`, { v4: '10.64.0.0/12' }));
    // A borrowed address (node-b's pod in node-a's first block) and node-b's IPIP tunnel address there.
    firstBlock = `${addresses.get('web-0')!.split('.').slice(0, 3).join('.')}.${Number(addresses.get('web-0')!.split('.')[3]) & ~63}/26`;
    const inFirst = (n: number) => firstBlock.replace(/\.\d+\/26$/, `.${Number(firstBlock.split('.')[3]!.split('/')[0]) + n}`);
    await clients.ipam.assignIp({ ip: inFirst(60), handleId: 'k8s-pod-network.guest', attributes: { node: 'node-b', namespace: 'default', pod: 'guest' }, hostname: 'node-b', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
    await clients.ipam.assignIp({ ip: inFirst(61), handleId: 'ipip-tunnel-addr-node-b', attributes: { node: 'node-b', type: 'ipipTunnelAddress' }, hostname: 'node-b', intendedUse: IntendedUse.INTENDED_USE_TUNNEL });
    for (let i = 40; i < 70; i++) addresses.set(`web-${i}`, await assign(clients, 'node-a', `web-${i}`, { v4: '10.1.0.0/16' }));
    ui = await startUi([], { ATOLL_ALLOCATOR: stack.address });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (r) => {
      if (!r.url().startsWith(ui.url) && !r.url().startsWith('data:')) offSite.push(r.url());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(ui.url);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; page errors: ${pageErrors.join('; ')}; ${ui.output()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await closeChromium(browser);
    await ui?.stop();
    clients?.close();
    await stack?.stop();
  }, 30_000);

  it('draws every pool as its address space with one tile per block', async () => {
    const usage = await clients.ipam.getUtilization({ poolNames: [] });
    const blocksOf = (cidr: string) => usage.pools.find((p) => p.cidr === cidr)!.blocks.length;
    const pools = await page.$$eval('section.pool', (ss) =>
      ss.map((s) => {
        const svg = s.querySelector('svg.grid')!;
        return { name: s.getAttribute('data-pool-name'), tiles: svg.querySelectorAll('.tile').length, cells: svg.querySelectorAll('.cell').length, viewBox: svg.getAttribute('viewBox'), crumbs: s.querySelector('.crumbs')!.textContent };
      }),
    );
    // 10.1.0.0/16 in /26 blocks: 1,024 slots, 64 × 16 cells of 13 px; tiles only where blocks exist.
    expect(pools.find((p) => p.name === 'pods-a')).toEqual({ name: 'pods-a', tiles: blocksOf('10.1.0.0/16'), cells: 0, viewBox: '0 0 832 208', crumbs: '1024 block slots' });
    expect(blocksOf('10.1.0.0/16')).toBeGreaterThanOrEqual(3);
    // 10.64.0.0/12: 16,384 slots shown as 4,096 cells of 4 blocks.
    expect(pools.find((p) => p.name === 'big')).toMatchObject({ tiles: 0, cells: 1, viewBox: '0 0 832 832' });
    expect(pools.find((p) => p.name === 'big')!.crumbs).toContain('16384 block slots, 4 per cell');
    expect(pools.find((p) => p.name === 'pods-v6')).toMatchObject({ tiles: blocksOf('fd00:10::/112'), viewBox: '0 0 832 208' });
    await page.screenshot({ path: path.join(SHOTS, 'overview.png'), fullPage: true });
  });

  it('marks borrowed and tunnel addresses and hatches the reservation', async () => {
    const first = await page.$eval(`.tile[data-cidr="${firstBlock}"]`, (g) => ({
      label: g.getAttribute('aria-label'),
      borrowed: g.querySelectorAll('.mark-borrowed').length,
      tunnel: g.querySelectorAll('.mark-tunnel').length,
    }));
    expect(first.label).toMatch(new RegExp(`^block ${firstBlock.replace(/\./g, '\\.')}, node node-a, \\d+ of 64 in use, .*2 borrowed, 1 tunnel$`));
    expect(first).toMatchObject({ borrowed: 1, tunnel: 1 });
    expect(await page.$$eval('section[data-pool-name="pods-a"] svg.grid > rect.reserved', (rs) => rs.map((r) => r.textContent))).toEqual(['reserved by appliances: 10.1.0.32/28']);
  });

  it('zooms into an aggregated cell and back with the keyboard', async () => {
    const usage = await clients.ipam.getUtilization({ poolNames: [] });
    const bigBlocks = usage.pools.find((p) => p.cidr === '10.64.0.0/12')!.blocks.map((b) => b.cidr);
    await page.$eval('section[data-pool-name="big"] .cell', (g) => (g as unknown as HTMLElement).focus());
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('section[data-pool-name="big"] .tile') !== null);
    expect(await page.$$eval('section[data-pool-name="big"] .tile', (ts) => ts.map((t) => t.getAttribute('data-cidr')))).toEqual(bigBlocks);
    expect(await text(page, 'section[data-pool-name="big"] .crumbs')).toMatch(/^slots \d+–\d+ of 16384 Up Whole pool$/);
    await page.click('section[data-pool-name="big"] [data-whole]');
    await page.waitForSelector('section[data-pool-name="big"] .cell');
  });

  it('opens a block with Enter and shows who holds an address when clicked', async () => {
    const [pod, ip] = ['web-69', addresses.get('web-69')!];
    const cidr = (await clients.ipam.getAssignmentAttributes({ ip })).block;
    expect(cidr).not.toBe(firstBlock);
    await page.$eval(`.tile[data-cidr="${cidr}"]`, (g) => (g as unknown as HTMLElement).focus());
    await page.keyboard.press('Enter');
    await page.waitForFunction((want) => document.getElementById('detail-cidr')?.textContent === want, {}, cidr);
    const details = await text(page, '#details');
    expect(details).toContain('node-a');
    expect(details).toMatch(/in use\s*\d+ of 64/);
    await page.click(`.addr[data-address="${ip}"]`);
    expect(await text(page, '#holder')).toBe(`${ip}: pod default/${pod}, node node-a, handle k8s-pod-network.${pod}`);
  });

  it('finds a pod by name and jumps to its tile', async () => {
    const ip = addresses.get('db-3')!;
    await page.click('#search-input', { count: 3 });
    await page.type('#search-input', 'db-3');
    await page.keyboard.press('Enter');
    await page.waitForFunction((want) => document.querySelector('#holder')?.textContent?.startsWith(want), {}, `${ip}: pod default/db-3`);
    const cidr = await text(page, '#detail-cidr');
    expect(await page.$eval(`.tile[data-cidr="${cidr}"]`, (g) => g.classList.contains('selected') && document.activeElement === g)).toBe(true);
    expect(await text(page, '#search-results')).toContain(`default/db-3 ${ip}`);
    await page.screenshot({ path: path.join(SHOTS, 'search.png') });
  });

  it('lists nodes against the block limit', async () => {
    const rows = await page.$$eval('#nodes tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['node-a', '2 / 20'],
      ['node-c', '2 / 20'],
      ['node-b', '1 / 20'],
    ]);
    expect(await text(page, '#nodes p')).toContain('block limit 20 per node (maxBlocksPerHost 0: the default)');
  });

  it('finds a node and an address, and marks the node near its block limit once the limit changes', async () => {
    await page.click('#search-input', { count: 3 });
    await page.type('#search-input', 'node-c');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.tile.match');
    const usage = await clients.ipam.getUtilization({ poolNames: [] });
    const nodeC = usage.pools.flatMap((p) => p.blocks).filter((b) => b.affinity === 'host:node-c').map((b) => b.cidr);
    // node-c's IPv6 block is a tile; its IPv4 block in the /12 is a tile once zoomed in, where the search went.
    expect((await page.$$eval('.tile.match', (ts) => ts.map((t) => t.getAttribute('data-cidr')))).sort()).toEqual([...nodeC].sort());

    const ip = addresses.get('v6-1')!;
    await page.click('#search-input', { count: 3 });
    await page.type('#search-input', ip);
    await page.keyboard.press('Enter');
    await page.waitForFunction((want) => document.querySelector('#holder')?.textContent === want, {}, `${ip}: pod default/v6-1, node node-c, handle k8s-pod-network.v6-1`);

    expect(await stack.ctl(['ipam', 'configure', '--strictaffinity=true', '--max-blocks-per-host=2'])).toMatchObject({ code: 0 });
    try {
      await page.waitForSelector('#nodes tr.near-limit', { timeout: 15_000 });
      expect(await page.$$eval('#nodes tr.near-limit', (trs) => trs.map((tr) => tr.querySelector('td')!.textContent))).toEqual(['node-anear limit', 'node-cnear limit']);
      expect(await text(page, '#nodes p')).toContain('block limit 2 per node; strict affinity on; 2 near the limit.');
    } finally {
      await stack.ctl(['ipam', 'configure', '--max-blocks-per-host=0', '--strictaffinity=false']);
    }
    await page.waitForFunction(() => document.querySelector('#nodes tr.near-limit') === null, { timeout: 15_000 });
  }, 40_000);

  it('shows a leak written into etcd under Problems, linked to its tile, on its own', async () => {
    expect(await text(page, '#problems')).toBe('No problems found.');
    const ds = new EtcdDatastore({ endpoints: stack.etcd.endpoints });
    try {
      // Ordinal 5 held for a handle that does not exist.
      const allocations: (number | null)[] = Array.from({ length: 64 }, () => null);
      allocations[5] = 0;
      const block = JSON.stringify({
        cidr: '10.1.200.0/26',
        affinity: 'host:node-b',
        allocations,
        unallocated: Array.from({ length: 64 }, (_, i) => i).filter((i) => i !== 5),
        attributes: [{ handle_id: 'k8s-pod-network.gone', secondary: { node: 'node-b', namespace: 'default', pod: 'gone' } }],
        sequenceNumber: 1,
        sequenceNumberForAllocation: { '5': 1 },
        deleted: false,
      });
      await ds.commit({ preconditions: [], mutations: [{ op: 'put', key: blockKey(parseCidr('10.1.200.0/26')), value: block }] });
    } finally {
      await ds.close();
    }
    await page.waitForSelector('#problems li[data-kind="leaked-address"]', { timeout: 15_000 });
    expect(await text(page, '#problems li[data-kind="leaked-address"]')).toContain('10.1.200.5 is held for handle k8s-pod-network.gone, which does not exist');
    expect(await page.$eval('.tile[data-cidr="10.1.200.0/26"]', (g) => g.querySelectorAll('.mark-problem').length)).toBe(1);
    await page.click('#problems li[data-kind="leaked-address"] button');
    await page.waitForFunction(() => document.getElementById('detail-cidr')?.textContent === '10.1.200.0/26');
    expect(await text(page, '#holder')).toBe('10.1.200.5: pod default/gone, node node-b, handle k8s-pod-network.gone');
    expect(await text(page, '#status')).toMatch(/^Allocator reachable\. Picture taken (just now|\d s ago)/);
    await page.screenshot({ path: path.join(SHOTS, 'problems.png'), fullPage: true });
  }, 30_000);

  it('ran without a script error, asking for nothing but atollctl', () => {
    expect(pageErrors).toEqual([]);
    expect(offSite).toEqual([]);
  });

  it('says when the allocator cannot be reached', async () => {
    const dead = await startUi([], { ATOLL_ALLOCATOR: `127.0.0.1:${await freePort()}` });
    try {
      const p = await browser.newPage();
      await p.goto(dead.url);
      await p.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('Allocator unreachable'), { timeout: 15_000 });
      expect(await p.$eval('#status', (e) => e.getAttribute('data-reachable'))).toBe('false');
      await p.close();
    } finally {
      await dead.stop();
    }
  }, 30_000);
});

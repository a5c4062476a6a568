// host-gw routing at scale: how long a node agent takes to install the routes to N other
// nodes' blocks (and to B borrowed addresses) from the allocator's WatchRoutes stream, and
// how long one block claimed or released elsewhere takes to reach its kernel routing
// table. The baseline, in the same run and the same kind of namespace: the same routes
// written by one `ip -batch` directly (what any agent must at least spend). Everything runs
// in a network namespace the benchmark makes; nothing touches the machine's routes.
// Run: npm run bench:routes
//
// Options (env): BENCH_ROUTES_NODES (1000 other nodes, one /26 block each),
// BENCH_ROUTES_BORROWED (200 borrowed addresses), BENCH_ROUTES_CHANGES (20 claims and 20
// releases, one at a time, 200 ms apart: the agent coalesces changes within 100 ms).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, IntendedUse } from '@atoll/api';
import { formatIp, parseIp } from '@atoll/ipmath';
import { createNetns, runCommand, uniqueNetnsName } from '../netns/netns';
import { binPath, startAllocatorProcess, startProcess } from '../src/processes';
import { machineFacts, unsetExtraCaCerts } from './machine';
import { boundedMap, envNumber, progress, ratio, summarize, writeResult } from './results';
import { startEtcd } from './stack';
import { runBenchmark } from './teardown';

const NODES = envNumber('BENCH_ROUTES_NODES', 1000);
const BORROWED = envNumber('BENCH_ROUTES_BORROWED', 200);
const CHANGES = envNumber('BENCH_ROUTES_CHANGES', 20);
const PROTOCOL = 197;
const POOL_BASE = parseIp('10.128.0.0').value;
const SEGMENT_SELF = '172.16.255.254';

const blockOf = (i: number) => `${formatIp({ version: 4, value: POOL_BASE + BigInt(i) * 64n })}/26`;
const addressIn = (i: number, ordinal: number) => formatIp({ version: 4, value: POOL_BASE + BigInt(i) * 64n + BigInt(ordinal) });
/** Node i on the nodes' /16 segment (172.16.0.1 …); this node is 172.16.255.254. */
const nodeAddress = (i: number) => `172.16.${(i >> 8) & 255}.${i & 255}`;
const nodeName = (i: number) => `bench-node-${i}`;

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates a network namespace');
  if (NODES + CHANGES > 65000) throw new Error('BENCH_ROUTES_NODES + BENCH_ROUTES_CHANGES must stay below 65000 (one /16 segment of node addresses)');
  const facts = await machineFacts();
  const etcd = await startEtcd(teardown);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-routes-bench-'));
  teardown.add('temporary directory', async () => fs.rmSync(dir, { recursive: true, force: true }));
  const listen = `unix:${path.join(dir, 'allocator/allocator.sock')}`;
  const allocator = await startAllocatorProcess({ etcdEndpoints: etcd.endpoints, listen });
  teardown.add(`allocator (pid ${allocator.pid})`, () => allocator.stop());
  const client = connectAllocator(allocator.address, { defaultTimeoutMs: 30_000 });
  teardown.add('allocator client', async () => client.close());
  await client.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'bench' }, spec: { cidr: '10.128.0.0/9', blockSize: 26, nodeSelector: 'all()' } }) });

  progress(`routes: ${NODES} nodes with one block each, ${BORROWED} borrowed addresses`);
  const addNode = async (i: number) => {
    await client.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: nodeName(i) }, spec: { bgp: { ipv4Address: `${nodeAddress(i)}/16` } } }) });
    const claimed = await client.ipam.claimAffinity({ cidr: blockOf(i), host: nodeName(i) });
    if (claimed.failed.length > 0) throw new Error(`claiming ${blockOf(i)} for ${nodeName(i)} failed`);
  };
  await boundedMap(Array.from({ length: NODES }, (_, i) => i + 1), 20, (i) => addNode(i));
  // Borrowed: an address of node i's block used on node i+1.
  await boundedMap(Array.from({ length: BORROWED }, (_, k) => k + 1), 20, async (i) => {
    const other = (i % NODES) + 1;
    await client.ipam.assignIp({ ip: addressIn(i, 5), handleId: `bench.borrowed-${i}`, attributes: { node: nodeName(other) }, hostname: nodeName(other), intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
  });

  // The node: a namespace whose uplink is on the nodes' segment, so every gateway is on-link.
  const ns = await createNetns(uniqueNetnsName('atoll-brt-'));
  teardown.add(`namespace ${ns.name}`, () => ns.delete());
  const ip = async (args: string[], input?: string) => {
    const r = await runCommand('ip', ['-n', ns.name, ...args], input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ip(['-batch', '-'], ['link add up0 type veth peer name up1', `addr add ${SEGMENT_SELF}/16 dev up0`, 'link set up0 up', 'link set up1 up', ''].join('\n'));
  const ours = async () => (await ip(['route', 'show', 'proto', String(PROTOCOL)])).split('\n').filter(Boolean).length;
  const wanted = NODES + BORROWED;

  // Baseline: the same routes, one ip -batch, straight into the table (then removed again).
  const lines = [
    ...Array.from({ length: NODES }, (_, k) => `route add ${blockOf(k + 1)} via ${nodeAddress(k + 1)} proto ${PROTOCOL}`),
    ...Array.from({ length: BORROWED }, (_, k) => `route add ${addressIn(k + 1, 5)}/32 via ${nodeAddress((k + 1) % NODES + 1)} proto ${PROTOCOL}`),
  ];
  const b0 = performance.now();
  await ip(['-batch', '-'], `${lines.join('\n')}\n`);
  const rawInstallMs = performance.now() - b0;
  if ((await ours()) !== wanted) throw new Error(`baseline installed ${await ours()} routes, expected ${wanted}`);
  await ip(['route', 'flush', 'proto', String(PROTOCOL)]);

  // The agent, from its start until every route is in the table.
  const socket = path.join(dir, 'agent/agent.sock');
  const t0 = performance.now();
  const agent = startProcess('nsenter', [`--net=${ns.path}`, binPath('atoll-node-agent'), '--node-name', 'bench-self', '--labels', 'bench=routes', '--node-ip', `${SEGMENT_SELF}/16`, '--routing', 'host-gw', '--allocator', allocator.address, '--socket', socket, '--metrics-listen', '127.0.0.1:0', '--log-level', 'warn']);
  teardown.add(`node agent (pid ${agent.pid})`, () => agent.stop());
  const waitFor = async (what: string, ok: () => Promise<boolean>, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (agent.child.exitCode !== null) throw new Error(`the agent exited: ${agent.output()}`);
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (${await ours()} routes); agent: ${agent.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitFor('initial routes', async () => (await ours()) === wanted);
  const initialMs = performance.now() - t0;
  progress(`routes: ${wanted} routes installed ${Math.round(initialMs)} ms after the agent started (raw ip -batch ${Math.round(rawInstallMs)} ms)`);

  // One claim at a time elsewhere, then its release: until the kernel table follows.
  const claimMs: number[] = [];
  const releaseMs: number[] = [];
  for (let c = 0; c < CHANGES; c++) {
    const i = NODES + 1 + c;
    await client.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: nodeName(i) }, spec: { bgp: { ipv4Address: `${nodeAddress(i)}/16` } } }) });
    const has = async () => (await ip(['route', 'show', blockOf(i), 'proto', String(PROTOCOL)])).includes(nodeAddress(i));
    // Changes apart by more than the agent's 100 ms coalescing interval: each one alone.
    await new Promise((r) => setTimeout(r, 200));
    const s0 = performance.now();
    await client.ipam.claimAffinity({ cidr: blockOf(i), host: nodeName(i) });
    await waitFor(`route to ${blockOf(i)}`, has, 10_000);
    claimMs.push(performance.now() - s0);
    await new Promise((r) => setTimeout(r, 200));
    const r0 = performance.now();
    await client.ipam.releaseAffinity({ cidr: blockOf(i), host: nodeName(i), mustBeEmpty: true });
    await waitFor(`no route to ${blockOf(i)}`, async () => !(await has()), 10_000);
    releaseMs.push(performance.now() - r0);
  }
  const claim = summarize(claimMs);
  const release = summarize(releaseMs);
  process.stdout.write(
    [
      `initial: ${wanted} routes (${NODES} blocks, ${BORROWED} borrowed) in the kernel ${Math.round(initialMs)} ms after the agent started; the same routes by one raw ip -batch ${Math.round(rawInstallMs)} ms → ${ratio(initialMs, rawInstallMs)}×`,
      `a block claimed elsewhere → its route in this node's table: median ${claim.medianMs} ms (p90 ${claim.p90Ms}); released → route gone: median ${release.medianMs} ms (p90 ${release.p90Ms})`,
      '',
    ].join('\n'),
  );
  writeResult('routes', facts, { nodes: NODES, borrowed: BORROWED, changes: CHANGES, initialMs: Math.round(initialMs), rawInstallMs: Math.round(rawInstallMs), claim, release, targets: [] });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import { EtcdDatastore } from '@atoll/store';
import { startAllocatorProcess, startKubeApiStandIn, testNamespace, type AllocatorProcess, type KubeApiStandIn } from '@atoll/test-tools';

// The leak collector end to end: allocator processes on the real etcd, the Kubernetes API
// stand-in for pods and nodes, a 2 s grace period and a 2 s leader lease.

const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const GRACE_MS = 2000;
const gcArgs = (kubeconfig: string) => ['--kubeconfig', kubeconfig, '--leak-grace-period', '2s', '--gc-interval', '250ms', '--gc-leader-lease', '2s', '--log-level', 'info'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const metricsText = async (p: AllocatorProcess) => (await fetch(`${p.metricsUrl}/metrics`)).text();
const isLeader = async (p: AllocatorProcess) => /^atoll_gc_leader 1$/m.test(await metricsText(p).catch(() => ''));
const logLines = (p: AllocatorProcess) =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the leak collector in allocator processes', () => {
  let ns: string;
  let api: KubeApiStandIn;
  let procs: AllocatorProcess[];
  let clients: AllocatorClients[];
  let c: AllocatorClients;
  let cleanups: (() => Promise<void> | void)[];

  const start = async (kubeconfig = api.kubeconfigPath) => {
    const p = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: ns, extraArgs: gcArgs(kubeconfig) });
    procs.push(p);
    const client = connectAllocator(p.address);
    clients.push(client);
    return { p, c: client };
  };
  const applyPool = (name: string, cidr: string) =>
    c.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr } }) });
  const addNode = async (name: string) => {
    await api.createNode(name);
    await c.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} }) });
  };
  /** A pod as the CNI plugin would have set it up: an address under `k8s-pod-network.<name>`, then (optionally) reported by the kubelet. */
  const runPod = async (name: string, node: string, opts: { num4?: number; report?: 'all' | 'first' | 'none' } = {}) => {
    await api.createPod({ metadata: { name, namespace: 'default' }, spec: { nodeName: node } });
    const handleId = `k8s-pod-network.${name}`;
    const r = await c.ipam.autoAssign({
      num4: opts.num4 ?? 1,
      num6: 0,
      handleId,
      attributes: { node, namespace: 'default', pod: name },
      hostname: node,
      ipv4Pools: [],
      ipv6Pools: [],
      maxBlocksPerHost: 0,
      intendedUse: IntendedUse.INTENDED_USE_WORKLOAD,
      namespaceLabels: {},
      allOrNothing: true,
    });
    const ips = r.ipv4!.ips.map((x) => x.split('/')[0]!);
    const report = opts.report ?? 'all';
    if (report !== 'none') await reportIps(name, report === 'all' ? ips : ips.slice(0, 1));
    return { handleId, ips };
  };
  const reportIps = (name: string, ips: string[]) => api.setPodStatus('default', name, { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) });
  const held = (handleId: string) => c.ipam.ipsByHandle({ handleId }).then((r) => r.ips, () => undefined);
  const gone = async (handleId: string) => (await held(handleId)) === undefined;
  const withEtcd = async <T>(fn: (ds: EtcdDatastore) => Promise<T>) => {
    const ds = new EtcdDatastore({ endpoints, namespace: ns });
    try {
      return await fn(ds);
    } finally {
      await ds.close();
    }
  };

  beforeEach(async () => {
    ns = testNamespace();
    api = await startKubeApiStandIn();
    procs = [];
    clients = [];
    cleanups = [];
  });
  afterEach(async () => {
    for (const cl of clients) cl.close();
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    for (const fn of cleanups) await fn();
    await api.stop();
  });

  it('releases the address of a pod deleted without a CNI DEL after the grace period, not before, and never a live pod\'s', async () => {
    const a = await start();
    c = a.c;
    await applyPool('pool-a', '10.20.0.0/24');
    await addNode('node-1');
    const live = await runPod('live', 'node-1');
    const slow = await runPod('slow', 'node-1', { report: 'none' });
    const victim = await runPod('victim', 'node-1');
    await waitFor('the allocator to be elected', () => isLeader(a.p));

    await api.deletePod('default', 'victim');
    const deletedAt = Date.now();
    await sleep(GRACE_MS - 300);
    expect(await held(victim.handleId)).toEqual(victim.ips);
    await waitFor('the leaked address to be released', () => gone(victim.handleId));
    const tookMs = Date.now() - deletedAt;
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect(tookMs).toBeLessThan(GRACE_MS + 5000);

    // The slow pod's IP shows up only now, well past the grace period: it was never a leak.
    await reportIps('slow', slow.ips);
    await sleep(GRACE_MS + 1000);
    expect(await held(live.handleId)).toEqual(live.ips);
    expect(await held(slow.handleId)).toEqual(slow.ips);

    const metrics = await metricsText(a.p);
    expect(metrics).toContain('ipam_allocations_gc_reclamations{ippool="pool-a",node="node-1"} 1');
    expect(metrics).toContain('ipam_allocations_gc_candidates{ippool="pool-a",node="node-1"} 0');
    const released = await waitFor('the release to be logged', async () => {
      const lines = logLines(a.p).filter((l) => l['msg'] === 'released leaked addresses');
      return lines.length > 0 && lines;
    });
    expect(released).toEqual([expect.objectContaining({ handle: victim.handleId, node: 'node-1', addresses: victim.ips, component: 'gc' })]);
  });

  it('cleans up a deleted node: its pods\' addresses, its tunnel address and its block affinities', async () => {
    const a = await start();
    c = a.c;
    await applyPool('pool-a', '10.21.0.0/24');
    await addNode('node-1');
    await addNode('node-2');
    const stays = await runPod('stays', 'node-1');
    const onNode2 = await runPod('on-node-2', 'node-2');
    const tunnel = await c.ipam.autoAssign({
      num4: 1, num6: 0, handleId: 'ipip-tunnel-addr-node-2', attributes: { node: 'node-2', type: 'ipipTunnelAddress' }, hostname: 'node-2',
      ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: IntendedUse.INTENDED_USE_TUNNEL, namespaceLabels: {}, allOrNothing: true,
    });
    expect(tunnel.ipv4!.ips).toHaveLength(1);
    const affinities = (node: string) => withEtcd(async (ds) => (await ds.list(`/calico/ipam/v2/host/${node}/`)).items.length);
    expect(await affinities('node-2')).toBeGreaterThan(0);
    await waitFor('the allocator to be elected', () => isLeader(a.p));
    await sleep(GRACE_MS); // long enough that nothing is released while the node exists

    expect(await held(onNode2.handleId)).toEqual(onNode2.ips);
    await api.deletePod('default', 'on-node-2');
    await api.deleteNode('node-2');
    await waitFor('the deleted node\'s addresses, tunnel address and affinities to go', async () =>
      (await gone(onNode2.handleId)) && (await gone('ipip-tunnel-addr-node-2')) && (await affinities('node-2')) === 0);
    const blocks = (await c.ipam.getUtilization({ poolNames: [] })).pools.flatMap((p) => p.blocks);
    expect(blocks.map((b) => b.affinity)).toEqual(['host:node-1']);
    expect(await held(stays.handleId)).toEqual(stays.ips);
    expect(await affinities('node-1')).toBe(1);
  });

  it('holds a handle while one of its addresses is in use, then releases all of them together', async () => {
    const a = await start();
    c = a.c;
    await applyPool('pool-a', '10.22.0.0/24');
    await addNode('node-1');
    const pair = await runPod('pair', 'node-1', { num4: 2, report: 'first' });
    await waitFor('the allocator to be elected', () => isLeader(a.p));
    await sleep(GRACE_MS * 2);
    expect(await held(pair.handleId)).toEqual(pair.ips);
    await api.deletePod('default', 'pair');
    await waitFor('the handle to be released', () => gone(pair.handleId));
    // The log line is written just after the release commits; reading it may take a moment longer.
    const released = await waitFor('the release to be logged', async () => {
      const lines = logLines(a.p).filter((l) => l['msg'] === 'released leaked addresses');
      return lines.length > 0 && lines;
    });
    expect(released).toEqual([expect.objectContaining({ handle: pair.handleId, addresses: pair.ips })]);
  });

  it('fails over: when the collecting replica is SIGKILLed, the other takes the lease and still collects', async () => {
    const first = await start();
    const second = await start();
    c = first.c;
    await applyPool('pool-a', '10.23.0.0/24');
    await addNode('node-1');
    const leader = await waitFor('one replica to be elected', async () => ((await isLeader(first.p)) ? first : (await isLeader(second.p)) ? second : undefined));
    const other = leader === first ? second : first;
    await sleep(1500);
    expect([await isLeader(first.p), await isLeader(second.p)].filter(Boolean)).toHaveLength(1);

    await leader.p.stop('SIGKILL');
    c = other.c;
    const killedAt = Date.now();
    await waitFor('the other replica to take over', () => isLeader(other.p));
    expect(Date.now() - killedAt).toBeLessThan(5000);

    const orphan = await runPod('orphan', 'node-1');
    await api.deletePod('default', 'orphan');
    await waitFor('the new leader to release the leak', () => gone(orphan.handleId));
    await waitFor('the new leader to log the release', async () =>
      logLines(other.p).some((l) => l['msg'] === 'released leaked addresses' && l['handle'] === orphan.handleId),
    );
  });

  it('a replica that is not elected never collects', async () => {
    const first = await start();
    const second = await start();
    c = first.c;
    await applyPool('pool-a', '10.24.0.0/24');
    await addNode('node-1');
    const leader = await waitFor('one replica to be elected', async () => ((await isLeader(first.p)) ? first : (await isLeader(second.p)) ? second : undefined));
    const other = leader === first ? second : first;
    const orphan = await runPod('orphan', 'node-1');
    await api.deletePod('default', 'orphan');
    await waitFor('the leak to be released', () => gone(orphan.handleId));
    expect(logLines(other.p).filter((l) => l['component'] === 'gc' && l['msg'] !== 'campaigning to run the leak collector')).toEqual([]);
    expect(await metricsText(other.p)).toMatch(/^atoll_gc_leader 0$/m);
  });

  it('never releases an address that a new pod received between the scan and the release', async () => {
    // A proxy in front of the stand-in runs the race inside the collector's live GET of
    // the leaked pod — after its scan, before its release: the CNI DEL of the old pod and
    // the ADD of a new pod that gets the same address.
    let raced = false;
    let race: (() => Promise<void>) | undefined;
    const upstream = new URL(api.url);
    const proxy = http.createServer((req, res) => {
      void (async () => {
        if (req.method === 'GET' && req.url === '/api/v1/namespaces/default/pods/victim' && race) {
          const run = race;
          race = undefined;
          await run();
          raced = true;
        }
        const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        req.pipe(out);
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(path.join(tmpdir(), 'atoll-gc-proxy-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(api.kubeconfigPath, 'utf8').replace(api.url, `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => new Promise<void>((r) => proxy.close(() => r())), () => proxy.closeAllConnections());

    const a = await start(kubeconfig);
    c = a.c;
    await applyPool('pool-a', '10.25.0.0/24');
    await addNode('node-1');
    const victim = await runPod('victim', 'node-1');
    const address = victim.ips[0]!;
    await waitFor('the allocator to be elected', () => isLeader(a.p));
    race = async () => {
      await c.ipam.releaseByHandle({ handleId: victim.handleId });
      await c.ipam.assignIp({ ip: address, handleId: 'k8s-pod-network.newcomer', attributes: { node: 'node-1', namespace: 'default', pod: 'newcomer' }, hostname: 'node-1', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
      await api.createPod({ metadata: { name: 'newcomer', namespace: 'default' }, spec: { nodeName: 'node-1' } });
      await reportIps('newcomer', [address]);
    };
    await api.deletePod('default', 'victim');

    await waitFor('the collector to re-check the leaked pod', async () => raced);
    await waitFor('the collector to report the refused release', async () => logLines(a.p).some((l) => l['msg'] === 'leaked addresses changed since the scan; not released'));
    const refused = logLines(a.p).find((l) => l['msg'] === 'leaked addresses changed since the scan; not released')!;
    expect(refused).toMatchObject({ handle: victim.handleId, node: 'node-1', addresses: [address] });
    await sleep(GRACE_MS + 1000);
    expect(await c.ipam.getAssignmentAttributes({ ip: address })).toMatchObject({ handleId: 'k8s-pod-network.newcomer' });
    expect(logLines(a.p).filter((l) => l['msg'] === 'released leaked addresses')).toEqual([]);
    expect(await metricsText(a.p)).not.toContain('ipam_allocations_gc_reclamations{');
  });

  it.each([
    [['--leak-grace-period', '0'], '--leak-grace-period is 0'],
    [[], 'no Kubernetes configuration (no --kubeconfig and not running in a cluster)'],
  ])('stays off with %j', async (args, reason) => {
    const p = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: ns, extraArgs: [...args, '--log-level', 'info'] });
    procs.push(p);
    await waitFor('the off notice', async () => logLines(p).find((l) => l['msg'] === 'leak collector off'));
    expect(logLines(p).find((l) => l['msg'] === 'leak collector off')).toMatchObject({ reason });
    expect(await metricsText(p)).toMatch(/^atoll_gc_leader 0$/m);
  });
});

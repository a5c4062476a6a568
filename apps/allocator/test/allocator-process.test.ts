import { coalesceIpamCalls, connectAllocator, IntendedUse, RpcError, type AllocatorClients } from '@atoll/api';
import { binPath, startAllocatorProcess, startEtcdCluster, startProcess, testNamespace, type AllocatorProcess } from '@atoll/test-tools';

// The allocator as a process against the real etcd the test run started.
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra } });
const node = (name: string) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} });
const WORKLOAD = IntendedUse.INTENDED_USE_WORKLOAD;

describe('the allocator process', () => {
  let ns: string;
  let procs: AllocatorProcess[];
  let clients: AllocatorClients[];

  const start = async () => {
    const p = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: ns });
    procs.push(p);
    const c = connectAllocator(p.address);
    clients.push(c);
    return { p, c };
  };

  beforeEach(() => {
    ns = testNamespace();
    procs = [];
    clients = [];
  });
  afterEach(async () => {
    for (const c of clients) c.close();
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  });

  it('applies a pool and a node, then assigns, looks up and releases addresses', async () => {
    const { c } = await start();
    await c.resources.apply({ resourceJson: pool('default-ipv4-ippool', '192.168.0.0/16') });
    await c.resources.apply({ resourceJson: node('node-1') });
    const r = await c.ipam.autoAssign({ num4: 2, num6: 0, handleId: 'k8s-pod-network.abc', attributes: { node: 'node-1' }, hostname: 'node-1', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    expect(r.ipv4!.ips).toHaveLength(2);
    expect(r.ipv4!.ips[0]).toMatch(/^192\.168\.\d+\.\d+\/26$/);
    expect(await c.ipam.ipsByHandle({ handleId: 'k8s-pod-network.abc' })).toEqual({ ips: r.ipv4!.ips.map((x) => x.split('/')[0]) });
    const attrs = await c.ipam.getAssignmentAttributes({ ip: r.ipv4!.ips[0]!.split('/')[0]! });
    expect(attrs.handleId).toBe('k8s-pod-network.abc');
    expect(BigInt(attrs.sequenceNumber)).toBeGreaterThan(1n << 60n);
    expect((await c.ipam.releaseByHandle({ handleId: 'k8s-pod-network.abc' })).released).toHaveLength(2);
    expect((await c.ipam.check({})).problems).toBe(0);
  });

  it('serves 40 concurrent requests of one agent in a few batch calls, each answered as if sent alone', async () => {
    const { p, c } = await start();
    await c.resources.apply({ resourceJson: pool('p', '10.70.0.0/16') });
    await c.resources.apply({ resourceJson: node('node-1') });
    const wire = { singles: 0, batches: 0 };
    const calls = coalesceIpamCalls({
      ...c.ipam,
      autoAssign: (r, o) => (wire.singles++, c.ipam.autoAssign(r, o)),
      autoAssignBatch: (r, o) => (wire.batches++, c.ipam.autoAssignBatch(r, o)),
    });
    const request = (handleId: string, hostname = 'node-1') => ({ num4: 1, num6: 0, handleId, attributes: { node: hostname }, hostname, ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    const handles = Array.from({ length: 40 }, (_, i) => `k8s-pod-network.batch-${i}`);
    const assigned = await Promise.all(handles.map((h) => calls.autoAssign(request(h))));
    const ips = assigned.map((r) => r.ipv4!.ips[0]!.split('/')[0]!);
    expect(new Set(ips).size).toBe(40);
    // a request that fails alone fails the same way inside a batch, without its neighbours
    const mixed = await Promise.allSettled([calls.autoAssign(request('k8s-pod-network.ok-1')), calls.autoAssign(request('k8s-pod-network.no-node', 'node-unknown')), calls.autoAssign(request('k8s-pod-network.ok-2'))]);
    expect(mixed.map((m) => m.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((mixed[1] as PromiseRejectedResult).reason).toBeInstanceOf(RpcError);

    const released = await Promise.all([...handles, 'k8s-pod-network.ok-1', 'k8s-pod-network.ok-2'].map((h) => calls.releaseByHandle({ handleId: h })));
    expect(released.slice(0, 40).map((r) => r.released[0])).toEqual(ips);
    await expect(calls.releaseByHandle({ handleId: 'k8s-pod-network.batch-0' })).rejects.toMatchObject({ code: 'not-found', grpcCode: 5 });
    expect((await c.ipam.check({})).problems).toBe(0);

    const metrics = await (await fetch(`${p.metricsUrl}/metrics`)).text();
    const count = (method: string) => Number(new RegExp(`atoll_allocator_rpc_duration_seconds_count\\{method="${method}",code="ok"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    // every request is served and counted as itself, but most travelled in batches
    expect(count('autoAssign')).toBe(42);
    expect(count('autoAssignBatch')).toBe(wire.batches);
    expect(wire.batches).toBeGreaterThan(0);
    expect(wire.singles + wire.batches).toBeLessThan(20);
    expect(count('releaseByHandleBatch')).toBeGreaterThan(0);
  });

  it.each([
    ['1.1.1.1', 'not-in-pool', 'The provided IP address is not in a configured pool\n'],
    ['192.168.0.300', 'invalid-argument', 'invalid IP address or CIDR "192.168.0.300": not an IPv4 or IPv6 address'],
  ])('refuses AssignIP %s with the stable code %s and Calico\'s message', async (ip, code, message) => {
    const { c } = await start();
    await c.resources.apply({ resourceJson: pool('p', '192.168.0.0/16') });
    const err = await c.ipam.assignIp({ ip, handleId: 'h', attributes: {}, hostname: 'node-1', intendedUse: WORKLOAD }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code, message });
  });

  it('refuses an overlapping pool with Calico\'s message', async () => {
    const { c } = await start();
    await c.resources.apply({ resourceJson: pool('a', '10.0.0.0/16') });
    await expect(c.resources.apply({ resourceJson: pool('b', '10.0.5.0/24') })).rejects.toThrow('IPPool(b) CIDR overlaps with IPPool(a) CIDR 10.0.0.0/16');
  });

  it('fails an all-or-nothing dual-stack request and leaves nothing allocated when one family has no pool', async () => {
    const { c } = await start();
    await c.resources.apply({ resourceJson: pool('v4', '10.0.0.0/24') });
    await c.resources.apply({ resourceJson: node('n') });
    const err = (await c.ipam
      .autoAssign({ num4: 1, num6: 1, handleId: 'dual', attributes: {}, hostname: 'n', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true })
      .catch((e: unknown) => e)) as RpcError;
    expect(err.code).toBe('no-qualified-pool');
    expect((await c.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations).toEqual([]);
  });

  it('serves two replicas interleaving requests for the same hosts without a duplicate address', async () => {
    const a = await start();
    const b = await start();
    await a.c.resources.apply({ resourceJson: pool('p', '10.1.0.0/22', { blockSize: 28 }) });
    for (let h = 0; h < 4; h++) await a.c.resources.apply({ resourceJson: node(`n${h}`) });
    await b.c.resources.get({ kind: 'IPPool', name: 'p' });
    const replicas = [a.c, b.c];
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        replicas[i % 2]!.ipam.autoAssign({ num4: 1, num6: 0, handleId: `h${i}`, attributes: { node: `n${i % 4}` }, hostname: `n${i % 4}`, ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true }),
      ),
    );
    const ips = results.map((r) => r.ipv4!.ips[0]);
    expect(new Set(ips).size).toBe(120);
    expect((await a.c.ipam.check({})).problems).toBe(0);
  });

  it('loses nothing when restarted mid-run', async () => {
    const first = await start();
    await first.c.resources.apply({ resourceJson: pool('p', '10.2.0.0/24') });
    await first.c.resources.apply({ resourceJson: node('n') });
    const before = await first.c.ipam.autoAssign({ num4: 3, num6: 0, handleId: 'keep', attributes: {}, hostname: 'n', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    await first.p.stop('SIGKILL');
    const second = await start();
    expect((await second.c.ipam.ipsByHandle({ handleId: 'keep' })).ips).toEqual(before.ipv4!.ips.map((x) => x.split('/')[0]));
    const after = await second.c.ipam.autoAssign({ num4: 1, num6: 0, handleId: 'new', attributes: {}, hostname: 'n', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    expect(before.ipv4!.ips).not.toContain(after.ipv4!.ips[0]);
  });

  it('answers probes and exports metrics', async () => {
    const { p, c } = await start();
    await c.ipam.ipsByHandle({ handleId: 'none' }).catch(() => undefined);
    expect((await fetch(`${p.metricsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${p.metricsUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${p.metricsUrl}/metrics`)).text();
    expect(metrics).toContain('atoll_allocator_rpc_errors_total{method="ipsByHandle",code="not-found"} 1');
  });

  it('exports Calico\'s IPAM metrics with ippool and node labels', async () => {
    const a = await start();
    await a.c.resources.apply({ resourceJson: pool('pool-m', '10.9.0.0/24') });
    await a.c.resources.apply({ resourceJson: node('n1') });
    await a.c.ipam.autoAssign({ num4: 3, num6: 0, handleId: 'm', attributes: { node: 'n1' }, hostname: 'n1', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    const b = await start(); // computes its gauges at start
    let text = '';
    for (let i = 0; i < 50 && !text.includes('ipam_allocations_in_use{'); i++) {
      text = await (await fetch(`${b.p.metricsUrl}/metrics`)).text();
      if (!text.includes('ipam_allocations_in_use{')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toContain('ipam_allocations_in_use{ippool="pool-m",node="n1"} 3');
    expect(text).toContain('ipam_ippool_size{ippool="pool-m"} 256');
    expect(text).toContain('ipam_blocks{ippool="pool-m",node="n1"} 1');
    expect(text).toContain('ipam_allocations_per_node{node="n1"} 3');
  });

  it('finishes in-flight requests and exits 0 on SIGTERM', async () => {
    const { p, c } = await start();
    await c.resources.apply({ resourceJson: pool('p', '10.3.0.0/24') });
    await c.resources.apply({ resourceJson: node('n') });
    const inflight = c.ipam.autoAssign({ num4: 5, num6: 0, handleId: 'late', attributes: {}, hostname: 'n', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    await new Promise((r) => setTimeout(r, 5));
    const code = p.stop('SIGTERM');
    await expect(inflight).resolves.toMatchObject({ ipv4: { requested: 5 } });
    expect(await code).toBe(0);
  });

  it.each([
    [['--listen', 'nope'], '--listen: expected host:port, got "nope"'],
    [['--etcd-endpoints', 'localhost:2379'], '--etcd-endpoints: "localhost:2379" is not an http(s)://host:port URL'],
    [['--log-level', 'loud'], '--log-level: expected one of'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses the flags %j with one clear line and exit code 2', async (args, message) => {
    const p = startProcess(binPath('atoll-allocator'), args);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain(message);
  });
});

describe('the allocator when etcd is down', () => {
  it('answers UNAVAILABLE, retryable, within a bounded time, and serves again when etcd is back', async () => {
    const cluster = await startEtcdCluster();
    const p = await startAllocatorProcess({ etcdEndpoints: cluster.endpoints });
    const c = connectAllocator(p.address);
    try {
      await c.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n' }, spec: {} }) });
      await cluster.members[0]!.kill();
      const t0 = Date.now();
      const err = (await c.ipam.ipsByHandle({ handleId: 'h' }, { timeoutMs: 30_000 }).catch((e: unknown) => e)) as RpcError;
      expect(err).toBeInstanceOf(RpcError);
      expect(err.code).toBe('unavailable');
      expect(err.retryable).toBe(true);
      expect(err.grpcCode).toBe(14);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect((await fetch(`${p.metricsUrl}/readyz`)).status).toBe(503);
      cluster.members[0]!.start();
      await cluster.members[0]!.waitHealthy();
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await c.resources.get({ kind: 'Node', name: 'n' }).then(() => true, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ok).toBe(true);
    } finally {
      c.close();
      await p.stop('SIGKILL');
      await cluster.stop();
    }
  });
});

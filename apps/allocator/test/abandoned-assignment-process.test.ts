import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import { startAllocatorProcess, testNamespace, type AllocatorProcess } from '@atoll/test-tools';
import { startFaultProxy, type FaultProxy } from '../../../tools/chaos/fault-proxy';

// The allocator process reaches the run's etcd only through a proxy that can swallow every
// byte (a blackhole). A caller that gives up while etcd is cut off has been told "try
// again later": whatever its request still assigns once etcd is back must be released by
// the allocator itself, not left for the runtime's DEL.
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const WORKLOAD = IntendedUse.INTENDED_USE_WORKLOAD;
const CALLER_TIMEOUT_MS = 1500;
// Shorter than the store's 5 s bound, so the engine's work completes after the heal.
const CUT_MS = 2500;

const pool = (name: string, cidr: string) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr } });
const node = (name: string) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} });
const autoAssign = (handleId: string) => ({ num4: 1, num6: 0, handleId, attributes: { node: 'node-1' }, hostname: 'node-1', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: WORKLOAD, namespaceLabels: {}, allOrNothing: true });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isReady = (p: AllocatorProcess) => fetch(`${p.metricsUrl}/readyz`).then((r) => r.status === 200, () => false);

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(200);
  }
}

describe('an allocator cut off from etcd while callers give up', () => {
  let proxy: FaultProxy;
  let allocator: AllocatorProcess;
  let client: AllocatorClients;

  beforeEach(async () => {
    proxy = await startFaultProxy(endpoints[0]!);
    allocator = await startAllocatorProcess({ etcdEndpoints: [`http://${proxy.address}`], namespace: testNamespace() });
    client = connectAllocator(allocator.address);
    await client.resources.apply({ resourceJson: pool('p', '10.93.0.0/24') });
    await client.resources.apply({ resourceJson: node('node-1') });
    // warm: the node's block exists, so the ADDs below need only a block write
    await client.ipam.autoAssign(autoAssign('warm'));
    await client.ipam.releaseByHandle({ handleId: 'warm' });
  });
  afterEach(async () => {
    client.close();
    await allocator.stop('SIGKILL');
    await proxy.close();
  });

  it('answers 11-worthy errors, reports not ready, leaves nothing assigned to the callers that gave up, and serves again after the heal', async () => {
    proxy.mode = 'blackhole';
    const gaveUp = await Promise.allSettled([
      client.ipam.autoAssign(autoAssign('gave-up-auto'), { timeoutMs: CALLER_TIMEOUT_MS }),
      client.ipam.assignIp({ ip: '10.93.0.200', handleId: 'gave-up-static', attributes: { node: 'node-1' }, hostname: 'node-1', intendedUse: WORKLOAD }, { timeoutMs: CALLER_TIMEOUT_MS }),
    ]);
    for (const g of gaveUp) {
      expect(g.status).toBe('rejected');
      expect((g as PromiseRejectedResult).reason).toMatchObject({ retryable: true });
    }
    await eventually('the allocator reports not ready while etcd is cut off', async () => !(await isReady(allocator)), 10_000);
    await sleep(Math.max(0, CUT_MS - CALLER_TIMEOUT_MS));
    proxy.mode = 'pass';

    await eventually('the allocator is ready again after the heal', () => isReady(allocator), 15_000);
    const served = await client.ipam.autoAssign(autoAssign('after-heal'));
    expect(served.ipv4!.ips).toHaveLength(1);
    // The engine's work for the two callers completed after the heal; its result must be gone.
    await eventually(
      'nothing is assigned to the requests whose callers gave up',
      async () => {
        const held = (await client.ipam.listAllocations({ node: '', handlePrefix: 'gave-up-' })).allocations;
        return held.length === 0;
      },
      20_000,
    );
    const all = (await client.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations;
    expect(all.map((a) => a.handleId)).toEqual(['after-heal']);
    expect((await client.ipam.check({})).problems).toBe(0);
  }, 60_000);

  it('keeps what a caller that waited was given, and a later ADD of the same pod keeps its own address', async () => {
    const first = await client.ipam.autoAssign(autoAssign('pod-a'));
    expect(first.ipv4!.ips).toHaveLength(1);
    // the same handle again (a runtime retrying ADD of one container): both addresses stay
    const second = await client.ipam.autoAssign(autoAssign('pod-a'));
    await sleep(500);
    const held = (await client.ipam.ipsByHandle({ handleId: 'pod-a' })).ips.sort();
    expect(held).toEqual([first.ipv4!.ips[0]!, second.ipv4!.ips[0]!].map((c) => c.split('/')[0]!).sort());
    // the request tag the undo relies on is the allocator's own: callers see their attributes only
    expect((await client.ipam.getAssignmentAttributes({ ip: held[0]! })).attributes).toEqual({ node: 'node-1' });
    expect((await client.ipam.listAllocations({ node: '', handlePrefix: 'pod-a' })).allocations.map((a) => a.attributes)).toEqual([{ node: 'node-1' }, { node: 'node-1' }]);
  });
});

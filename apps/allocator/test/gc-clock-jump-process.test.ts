import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import { startAllocatorProcess, startKubeApiStandIn, testNamespace, type AllocatorProcess, type KubeApiStandIn } from '@atoll/test-tools';

// The leak collector's grace period against a wall clock stepped an hour forward while the
// allocator runs (NTP or an operator setting the time). The allocator runs under Debian's
// libfaketime, whose offset it re-reads from a file on every clock read; the monotonic
// clock is left alone, as a real clock step leaves it (DONT_FAKE_MONOTONIC).

const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find(existsSync);
const GRACE = '30s';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('the leak collector when the allocator\'s clock jumps an hour forward', () => {
  let api: KubeApiStandIn;
  let allocator: AllocatorProcess;
  let client: AllocatorClients;
  let dir: string;

  beforeAll(() => {
    if (!LIBFAKETIME) throw new Error('libfaketime is missing: run tools/install-system-deps.sh (Debian package faketime)');
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'atoll-clock-'));
    writeFileSync(path.join(dir, 'offset'), '+0');
    api = await startKubeApiStandIn();
    allocator = await startAllocatorProcess({
      etcdEndpoints: endpoints,
      namespace: testNamespace(),
      extraArgs: ['--kubeconfig', api.kubeconfigPath, '--leak-grace-period', GRACE, '--gc-interval', '250ms', '--gc-leader-lease', '2s', '--log-level', 'info'],
      env: { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: path.join(dir, 'offset'), FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' },
    });
    client = connectAllocator(allocator.address);
  });
  afterEach(async () => {
    client.close();
    await allocator.stop('SIGKILL');
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('still waits the whole grace period before releasing an address whose pod is gone', async () => {
    await client.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.94.0.0/24' } }) });
    await api.createNode('node-1');
    await client.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-1' }, spec: {} }) });
    await api.createPod({ metadata: { name: 'slow', namespace: 'default' }, spec: { nodeName: 'node-1' } });
    const r = await client.ipam.autoAssign({
      num4: 1, num6: 0, handleId: 'k8s-pod-network.slow', attributes: { node: 'node-1', namespace: 'default', pod: 'slow' }, hostname: 'node-1',
      ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: IntendedUse.INTENDED_USE_WORKLOAD, namespaceLabels: {}, allOrNothing: true,
    });
    const ip = r.ipv4!.ips[0]!.split('/')[0]!;
    // The pod is gone from the API (its DEL never came): a leak candidate from the next pass on.
    await api.deletePod('default', 'slow');
    const metrics = () => fetch(`${allocator.metricsUrl}/metrics`).then((m) => m.text(), () => '');
    await waitFor('the address to be seen as a leak candidate', async () => /^ipam_allocations_gc_candidates\{ippool="p",node="node-1"\} 1$/m.test(await metrics()));

    writeFileSync(path.join(dir, 'offset'), '+1h');
    const jumpedAt = Date.now();
    await sleep(3000); // a dozen passes on the jumped clock

    // The allocator's wall clock did jump: its log lines are stamped an hour ahead.
    await client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.nobody' }).catch(() => undefined);
    await waitFor('the refusal to be logged', async () => allocator.output().includes('k8s-pod-network.nobody'), 5000);
    const stamps = allocator.output().split('\n').filter((l) => l.startsWith('{')).map((l) => Date.parse((JSON.parse(l) as { time?: string }).time ?? '') || 0);
    expect(Math.max(...stamps) - jumpedAt).toBeGreaterThan(50 * 60_000);
    // ...and the grace period did not pass with it.
    expect((await client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.slow' })).ips).toEqual([ip]);
  }, 60_000);
});

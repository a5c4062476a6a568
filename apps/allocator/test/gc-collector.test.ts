import { IpamEngine, IpamGcOperations, StoreResourceView, type GcPod } from '@atoll/ipam';
import { resourceKey } from '@atoll/model';
import type { Datastore } from '@atoll/store';
import { makeEtcdTestStore, type EtcdTestStore } from '@atoll/store/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { LeakCollector } from '../src/gc/collector';
import { createGcMetrics, type GcMetrics } from '../src/gc/gc-metrics';
import type { KubeView } from '../src/gc/kube-view';

// The collector in-process, on the real etcd, with a fake Kubernetes and a fake clock: each
// test runs passes at chosen times and can act at the exact moment between the scan and
// the release (the live re-check of the pod).

const GRACE = 60_000;
const T0 = Date.parse('2026-08-01T10:00:00Z');

class FakeKube implements KubeView {
  readonly pods = new Map<string, GcPod>();
  readonly nodes = new Set<string>(['n1']);
  isSynced = true;
  /** Runs inside the live GET of a pod, i.e. after the scan and before the release. */
  duringLiveGet: ((namespace: string, name: string) => Promise<void>) | undefined;
  synced = () => this.isSynced;
  pod = (ns: string, name: string) => this.pods.get(`${ns}/${name}`);
  nodeNames = () => new Set(this.nodes);
  getPodLive = async (ns: string, name: string) => {
    await this.duringLiveGet?.(ns, name);
    return this.pods.get(`${ns}/${name}`);
  };
  nodeExistsLive = async (name: string) => this.nodes.has(name);
  statefulSetsSynced = () => true;
  statefulSet = () => undefined;
  getStatefulSetLive = async () => undefined;
  getNamespaceAnnotationsLive = async () => undefined;
  onNodeDeleted = () => undefined;
  stop = async () => undefined;
  runPod(name: string, ips: string[], node = 'n1') {
    this.pods.set(`ns/${name}`, { namespace: 'ns', name, nodeName: node, phase: 'Running', podIPs: ips });
  }
}

async function put(ds: Datastore, key: string, value: unknown) {
  await ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] });
}

describe('the leak collector (in-process, real etcd)', () => {
  let etcd: EtcdTestStore;
  let clock: number;
  let engine: IpamEngine;
  let kube: FakeKube;
  let leader: boolean;
  let metrics: GcMetrics;
  let registry: Registry;
  let logLines: Record<string, unknown>[];
  let collector: LeakCollector;

  beforeEach(async () => {
    etcd = await makeEtcdTestStore();
    const ds = etcd.store;
    await put(ds, resourceKey('ippools', 'pool-a'), { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.9.0.0/24' } });
    await put(ds, resourceKey('nodes', 'n1'), { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n1' }, spec: {} });
    clock = T0;
    const now = () => new Date(clock);
    engine = new IpamEngine({ datastore: ds, now });
    kube = new FakeKube();
    leader = true;
    registry = new Registry();
    metrics = createGcMetrics(registry);
    logLines = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    collector = new LeakCollector(
      {
        engine,
        operations: new IpamGcOperations({ datastore: ds, now }),
        kube,
        pools: async () => (await new StoreResourceView(ds).context()).pools,
        metrics,
        log,
        isLeader: () => leader,
        now: () => clock,
      },
      { gracePeriodMs: GRACE, intervalMs: GRACE / 2 },
    );
  });
  afterEach(async () => {
    await collector.stop();
    await etcd.cleanup();
  });

  const assignPod = async (name: string, opts: { num4?: number; handle?: string } = {}) => {
    const handleId = opts.handle ?? `k8s-pod-network.${name}`;
    const r = await engine.autoAssign({ num4: opts.num4 ?? 1, num6: 0, handleId, attributes: { node: 'n1', namespace: 'ns', pod: name }, hostname: 'n1', intendedUse: 'Workload' });
    return { handleId, ips: r.ipv4.ips.map((ip) => ip.split('/')[0]!) };
  };
  const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);
  const releaseLines = () => logLines.filter((l) => l['msg'] === 'released leaked addresses');
  const at = async (t: number) => {
    clock = t;
    return collector.runPass();
  };

  it('releases the address of a pod deleted without a CNI DEL once the grace period has passed, not before', async () => {
    const { handleId, ips } = await assignPod('web');
    kube.runPod('web', ips);
    expect(await at(T0)).toMatchObject({ candidates: 0, released: [] });
    kube.pods.delete('ns/web');
    expect(await at(T0 + 1000)).toMatchObject({ candidates: 1, released: [] });
    expect(await metric('ipam_allocations_gc_candidates')).toEqual([[{ ippool: 'pool-a', node: 'n1' }, 1]]);
    expect(await at(T0 + 1000 + GRACE)).toMatchObject({ candidates: 1, released: [] });
    expect(await engine.ipsByHandle(handleId)).toEqual(ips);
    expect(await at(T0 + 1001 + GRACE)).toMatchObject({ confirmed: 1, released: ips });
    await expect(engine.ipsByHandle(handleId)).rejects.toMatchObject({ code: 'not-found' });
    expect(await metric('ipam_allocations_gc_reclamations')).toEqual([[{ ippool: 'pool-a', node: 'n1' }, 1]]);
    expect(releaseLines()).toEqual([expect.objectContaining({ handle: handleId, node: 'n1', addresses: ips, pods: ['ns/web'], reason: 'pod not found' })]);
    expect(await metric('ipam_allocations_gc_candidates')).toEqual([[{ ippool: 'pool-a', node: 'n1' }, 1]]);
    expect(await at(T0 + 2000 + GRACE)).toMatchObject({ candidates: 0, confirmed: 0 });
    expect(await metric('ipam_allocations_gc_candidates')).toEqual([[{ ippool: 'pool-a', node: 'n1' }, 0]]);
  });

  it.each([
    ['to a new pod under another handle', 'k8s-pod-network.new-pod'],
    ['under the same handle again (only the sequence number differs)', 'k8s-pod-network.web'],
  ])('never releases an address reassigned %s between the scan and the release', async (_how, newHandle) => {
    const { handleId, ips } = await assignPod('web');
    const address = ips[0]!;
    await at(T0);
    await at(T0 + GRACE + 1);
    await expect(engine.ipsByHandle(handleId)).rejects.toMatchObject({ code: 'not-found' });
    // Again, and this time a CNI DEL and a new ADD for the same address land in between.
    const second = await assignPod('web');
    expect(second.ips).not.toContain(address);
    await at(T0 + 2 * GRACE);
    let raced = false;
    kube.duringLiveGet = async () => {
      raced = true;
      await engine.releaseByHandle(second.handleId);
      await engine.assignIP({ ip: second.ips[0]!, handleId: newHandle, hostname: 'n1', attributes: { node: 'n1', namespace: 'ns', pod: 'new-pod' } });
      kube.runPod('new-pod', second.ips);
    };
    const report = await at(T0 + 3 * GRACE + 1);
    expect(raced).toBe(true);
    expect(report).toMatchObject({ released: [], refused: second.ips });
    const now = await engine.getAssignmentAttributes(second.ips[0]!);
    expect(now.handleId).toBe(newHandle);
    expect(now.attributes['pod']).toBe('new-pod');
    expect(await metric('ipam_allocations_gc_reclamations')).toEqual([[{ ippool: 'pool-a', node: 'n1' }, 1]]);
    expect(logLines.find((l) => l['msg'] === 'leaked addresses changed since the scan; not released')).toMatchObject({ handle: second.handleId, node: 'n1' });
  });

  it('keeps a confirmed leak whose pod the live re-check finds with the address (the cache was behind)', async () => {
    const { handleId, ips } = await assignPod('late');
    await at(T0);
    kube.duringLiveGet = async () => kube.runPod('late', ips);
    expect(await at(T0 + GRACE + 1)).toMatchObject({ confirmed: 1, released: [], resurrected: [handleId] });
    expect(await engine.ipsByHandle(handleId)).toEqual(ips);
    kube.duringLiveGet = undefined;
    kube.pods.delete('ns/late');
    expect((await at(T0 + GRACE + 2)).candidates).toBe(1); // its grace period starts over
  });

  it('stops before releasing once it is no longer the leader', async () => {
    const { handleId, ips } = await assignPod('a');
    await assignPod('b');
    await at(T0);
    kube.duringLiveGet = async () => {
      leader = false;
    };
    expect(await at(T0 + GRACE + 1)).toMatchObject({ released: [], skipped: 'lost the lease' });
    expect(await engine.ipsByHandle(handleId)).toEqual(ips);
    expect(await at(T0 + GRACE + 2)).toMatchObject({ skipped: 'not the leader' });
  });

  it('does nothing while the Kubernetes caches are not synced', async () => {
    const { handleId, ips } = await assignPod('a');
    kube.isSynced = false;
    for (const t of [T0, T0 + GRACE + 1, T0 + 5 * GRACE]) expect(await at(t)).toMatchObject({ skipped: 'the Kubernetes caches are not synced' });
    expect(await engine.ipsByHandle(handleId)).toEqual(ips);
  });

  it('releases a handle\'s addresses together, only once every one of them is a confirmed leak', async () => {
    const { handleId, ips } = await assignPod('pair', { num4: 2 });
    kube.runPod('pair', [ips[0]!]); // the pod reports only one of its two addresses
    await at(T0);
    expect(await at(T0 + GRACE + 1)).toMatchObject({ candidates: 0, confirmed: 1, released: [] });
    expect(await engine.ipsByHandle(handleId)).toEqual(ips);
    kube.pods.delete('ns/pair');
    await at(T0 + GRACE + 2);
    expect(await at(T0 + 2 * GRACE + 3)).toMatchObject({ released: ips });
    expect(releaseLines()).toHaveLength(1);
  });

  it('frees cooled-down addresses and releases an empty block seen empty across the grace period, keeping the node\'s last block', async () => {
    await engine.updateIPAMConfig({ ipCooldownSeconds: 30 });
    const { handleId } = await assignPod('big', { num4: 70 });
    kube.runPod('big', []);
    await engine.releaseByHandle(handleId);
    const blocks = async () => (await engine.getUtilization()).pools[0]!.blocks.map((b) => b.cidr);
    expect(await blocks()).toHaveLength(2);
    expect(await at(T0 + 10_000)).toMatchObject({ cooledDownFreed: 0 });
    expect(await at(T0 + 31_000)).toMatchObject({ cooledDownFreed: 70, emptyBlocksReleased: [] });
    expect(await at(T0 + 31_000 + GRACE)).toMatchObject({ emptyBlocksReleased: [] });
    const report = await at(T0 + 31_001 + GRACE);
    expect(report.emptyBlocksReleased).toHaveLength(1);
    expect(await blocks()).toHaveLength(1);
    expect((await at(T0 + 31_002 + 3 * GRACE)).emptyBlocksReleased).toEqual([]);
  });
});

import { IpamEngine, IpamGcOperations, StoreResourceView, type GcPod } from '@atoll/ipam';
import { resourceKey } from '@atoll/model';
import type { Datastore } from '@atoll/store';
import { makeEtcdTestStore, type EtcdTestStore } from '@atoll/store/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { LeakCollector } from '../src/gc/collector';
import { createGcMetrics } from '../src/gc/gc-metrics';
import type { GcStatefulSet, KubeView } from '../src/gc/kube-view';

// Sticky StatefulSet addresses and the leak collector, in-process on the real etcd with a
// fake Kubernetes and a fake clock: never a leak while the ordinal exists; released after
// the grace once the set is deleted, scaled below the ordinal, or no longer sticky.

const GRACE = 60_000;
const T0 = Date.parse('2026-08-01T10:00:00Z');

class FakeKube implements KubeView {
  readonly pods = new Map<string, GcPod>();
  readonly sets = new Map<string, GcStatefulSet>();
  readonly namespaces = new Map<string, Record<string, string>>();
  synced = () => true;
  setsSynced = true;
  statefulSetsSynced = () => this.setsSynced;
  pod = (ns: string, name: string) => this.pods.get(`${ns}/${name}`);
  nodeNames = () => new Set(['n1']);
  getPodLive = async (ns: string, name: string) => this.pods.get(`${ns}/${name}`);
  nodeExistsLive = async (name: string) => name === 'n1';
  statefulSet = (ns: string, name: string) => this.sets.get(`${ns}/${name}`);
  getStatefulSetLive = async (ns: string, name: string) => this.sets.get(`${ns}/${name}`);
  getNamespaceAnnotationsLive = async (name: string) => this.namespaces.get(name);
  onNodeDeleted = () => undefined;
  stop = async () => undefined;
}

async function put(ds: Datastore, key: string, value: unknown) {
  await ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] });
}

describe('the leak collector and sticky StatefulSet addresses (in-process, real etcd)', () => {
  let etcd: EtcdTestStore;
  let clock: number;
  let engine: IpamEngine;
  let kube: FakeKube;
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
    registry = new Registry();
    logLines = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    collector = new LeakCollector(
      {
        engine,
        operations: new IpamGcOperations({ datastore: ds, now }),
        kube,
        pools: async () => (await new StoreResourceView(ds).context()).pools,
        metrics: createGcMetrics(registry),
        log,
        isLeader: () => true,
        now: () => clock,
      },
      { gracePeriodMs: GRACE, intervalMs: GRACE / 2 },
    );
  });
  afterEach(async () => {
    await collector.stop();
    await etcd.cleanup();
  });

  const sticky = async (set: string, ordinal: number, idle = true) => {
    const handleId = `atoll-sticky${idle ? '-idle' : ''}.db.${set}.${ordinal}`;
    const r = await engine.autoAssign({ num4: 1, num6: 0, handleId, attributes: { node: 'n1', namespace: 'db', pod: `${set}-${ordinal}` }, hostname: 'n1', intendedUse: 'Workload' });
    return { handleId, ip: r.ipv4.ips[0]!.split('/')[0]! };
  };
  const held = async (handleId: string) => engine.ipsByHandle(handleId).then((ips) => ips.length, () => 0);
  const at = async (t: number) => {
    clock = t;
    return collector.runPass();
  };
  const releases = async () => (await registry.getSingleMetric('atoll_sticky_releases_total')!.get()).values.map((v) => [v.labels['reason'], v.value]);
  const stickySet = (replicas: number, annotations: Record<string, string> = { 'atoll.io/sticky': 'true' }) => ({ replicas, templateAnnotations: annotations });

  it('never counts the addresses of existing ordinals as leaks, although no pod holds them', async () => {
    kube.sets.set('db/pg', stickySet(3));
    const handles = [await sticky('pg', 0), await sticky('pg', 1), await sticky('pg', 2, false)];
    for (const t of [T0, T0 + GRACE + 1, T0 + 5 * GRACE]) expect(await at(t)).toMatchObject({ candidates: 0, confirmed: 0, released: [], stickyReleased: [] });
    for (const h of handles) expect(await held(h.handleId)).toBe(1);
  });

  it('releases the ordinals a scale-down removed after the grace, with a log line and the metric', async () => {
    kube.sets.set('db/pg', stickySet(5));
    const all = [];
    for (let i = 0; i < 5; i++) all.push(await sticky('pg', i));
    await at(T0);
    kube.sets.set('db/pg', stickySet(2));
    expect((await at(T0 + 1000)).stickyReleased).toEqual([]);
    expect((await at(T0 + 1000 + GRACE)).stickyReleased).toEqual([]);
    expect((await at(T0 + 1001 + GRACE)).stickyReleased.sort()).toEqual(all.slice(2).map((h) => h.ip).sort());
    expect(await Promise.all(all.map((h) => held(h.handleId)))).toEqual([1, 1, 0, 0, 0]);
    expect(await releases()).toEqual([['scaled-down', 3]]);
    expect(logLines.filter((l) => l['msg'] === 'released sticky addresses')).toContainEqual(expect.objectContaining({ handle: 'atoll-sticky-idle.db.pg.4', identity: 'db/pg/4', reason: 'scaled-down', addresses: [all[4]!.ip] }));
  });

  it('judges nothing while the StatefulSet cache is not synced', async () => {
    const h = await sticky('pg', 0);
    kube.setsSynced = false;
    for (const t of [T0, T0 + GRACE + 1, T0 + 5 * GRACE]) expect((await at(t)).stickyReleased).toEqual([]);
    expect(await held(h.handleId)).toBe(1);
  });

  it('keeps them when the set grows back within the grace', async () => {
    kube.sets.set('db/pg', stickySet(1));
    const h = await sticky('pg', 1);
    await at(T0);
    kube.sets.set('db/pg', stickySet(2));
    await at(T0 + GRACE + 1);
    expect(await held(h.handleId)).toBe(1);
  });

  it('releases them when the set is deleted, and when neither its template nor its namespace says sticky', async () => {
    const gone = await sticky('old', 0);
    kube.sets.set('db/pg', stickySet(2, {}));
    kube.namespaces.set('db', { 'atoll.io/sticky': 'true' });
    const byNs = await sticky('pg', 0);
    await at(T0);
    expect(await held(byNs.handleId)).toBe(1);
    kube.namespaces.set('db', {});
    await at(T0 + 1);
    expect((await at(T0 + GRACE + 2)).stickyReleased.sort()).toEqual([gone.ip, byNs.ip].sort());
    expect((await releases()).sort()).toEqual([['not-sticky', 1], ['statefulset-deleted', 1]]);
  });

  it('keeps an address a sandbox still uses while its pod exists, though its set is gone (orphaned)', async () => {
    const h = await sticky('orphan', 0, false);
    kube.pods.set('db/orphan-0', { namespace: 'db', name: 'orphan-0', nodeName: 'n1', phase: 'Running', podIPs: [h.ip] });
    await at(T0);
    expect((await at(T0 + GRACE + 1)).stickyReleased).toEqual([]);
    expect(await held(h.handleId)).toBe(1);
    kube.pods.delete('db/orphan-0');
    expect((await at(T0 + GRACE + 2)).stickyReleased).toEqual([h.ip]);
  });
});

import { DEFAULT_IPAM_CONFIG, ipamConfigKey, resourceKey } from '@atoll/model';
import { IpamEngine } from './engine';
import { describeWithStores, putNode, putPool, putReservation, deletePool, WORKLOAD } from './testing/fixtures';
import { WatchedResourceView } from './watched-resource-view';

describeWithStores('the watch-fed resource view', (env) => {
  let view: WatchedResourceView | undefined;
  afterEach(async () => {
    await view?.close();
    view = undefined;
  });

  /** Waits until the view has every change made so far: a marker written last on each watched prefix. */
  const settle = async () => {
    const marker = resourceKey('nodes', 'settle-marker');
    const { revision } = await env().ds.commit({ preconditions: [], mutations: [{ op: 'put', key: marker, value: JSON.stringify({ metadata: { name: 'settle-marker' } }) }] });
    await view!.waitForWrite(marker, revision);
    const config = await env().ds.get(ipamConfigKey());
    if (config) await view!.waitForWrite(config.key, config.revision);
  };

  it('sees pools, reservations, nodes and config written before and after it started', async () => {
    await putPool(env().ds, 'a', { cidr: '10.0.0.0/24' });
    view = await WatchedResourceView.start(env().ds);
    expect((await view.context()).pools.map((p) => p.name)).toEqual(['a']);
    await putPool(env().ds, 'b', { cidr: '10.1.0.0/24', disabled: true });
    await putReservation(env().ds, 'r', ['10.0.0.0/30']);
    await putNode(env().ds, 'n1', { zone: 'z1' });
    await env().engine.setIPAMConfig({ ...DEFAULT_IPAM_CONFIG, strictAffinity: true });
    await settle();
    const ctx = await view.context();
    expect(ctx.pools.map((p) => [p.name, p.enabled])).toEqual([['a', true], ['b', false]]);
    expect(ctx.reservations.cidrs).toHaveLength(1);
    expect(ctx.config.strictAffinity).toBe(true);
    expect(await view.node('n1')).toEqual({ name: 'n1', labels: { zone: 'z1' } });
    await deletePool(env().ds, 'a');
    await settle();
    expect((await view.context()).pools.map((p) => p.name)).toEqual(['b']);
  });

  it('reads a node it has not seen yet from the datastore', async () => {
    view = await WatchedResourceView.start(env().ds);
    await putNode(env().ds, 'fresh');
    expect(await view.node('fresh')).toEqual({ name: 'fresh', labels: {} });
    expect(await view.node('never')).toBeUndefined();
  });

  it('serves an engine that allocates without reading resources', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
    await putNode(env().ds, 'host-a');
    view = await WatchedResourceView.start(env().ds);
    const engine = new IpamEngine({ datastore: env().ds, resources: view });
    const r = await engine.autoAssign({ ...WORKLOAD, num4: 2, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.ips).toHaveLength(2);
  });
});

describe('the watch-fed resource view started before the datastore answers', () => {
  it('reports unavailable until its first load succeeds, then serves', async () => {
    const { MemoryDatastore, StoreUnavailableError } = await import('@atoll/store');
    const inner = new MemoryDatastore();
    let failures = 4; // each load lists two prefixes: two failed loads
    const flaky = Object.create(inner) as typeof inner;
    flaky.list = (prefix: string) => (failures-- > 0 ? Promise.reject(new StoreUnavailableError('etcd down')) : inner.list(prefix));
    await putPool(inner, 'p', { cidr: '10.0.0.0/24' });
    const retries: number[] = [];
    const view = WatchedResourceView.startInBackground(flaky, (_err, delay) => retries.push(delay));
    try {
      const loaded = view.whenLoaded();
      expect(view.isLoaded).toBe(false);
      await expect(view.context()).rejects.toMatchObject({ code: 'unavailable', retryable: true });
      await loaded;
      expect(view.isLoaded).toBe(true);
      expect(retries).toEqual([500, 1000]);
      expect((await view.context()).pools.map((p) => p.name)).toEqual(['p']);
    } finally {
      await view.close();
    }
  });
});

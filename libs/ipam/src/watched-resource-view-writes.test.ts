import { ipamConfigKey, resourceKey } from '@atoll/model';
import type { Datastore, Kv, StoreError, WatchEvent, WatchHandle } from '@atoll/store';
import { InterceptingDatastore } from '@atoll/store/testing';
import { ResourceRepository } from './resources/resource-repository';
import { ipamConfiguration, ipv4Pool, node, reservation } from './resources/resource-test-fixtures';
import { describeWithStores, EngineEnv } from './testing/fixtures';
import { WatchedResourceView, WatchedResourceViewOptions } from './watched-resource-view';

// Read-your-writes: a resource write through the repository returns only once the view
// shows it, by waiting for the watch event of that write — never by re-reading everything.

/**
 * The view's datastore in these tests: counts its reads, and can hold back a prefix's watch
 * events or a list's answer, to put the view's inputs in an exact order.
 */
class ViewDatastore extends InterceptingDatastore {
  lists = 0;
  gets = 0;
  /** Watch events of these prefixes are kept back until release() (or dropped for good). */
  private readonly held = new Map<string, { events: WatchEvent[]; deliver: ((e: WatchEvent) => void) | undefined; dropped: boolean }>();
  private heldLists: { count: number; read: () => void; gate: Promise<void> } | undefined;

  constructor(inner: Datastore) {
    super(inner);
  }

  holdEvents(prefix: string, opts: { drop?: boolean } = {}): void {
    this.held.set(prefix, { events: [], deliver: undefined, dropped: opts.drop ?? false });
  }

  /** Delivers what was held for `prefix`, and from now on everything at once. */
  release(prefix: string): void {
    const hold = this.held.get(prefix);
    this.held.delete(prefix);
    if (hold?.deliver) for (const e of hold.events) hold.deliver(e);
  }

  /**
   * Holds back the answers of the next `count` lists: `read` resolves once all of them
   * have read their snapshot, and they answer when `answer()` is called.
   */
  holdLists(count: number): { read: Promise<void>; answer: () => void } {
    let answer: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    let read: () => void = () => undefined;
    const allRead = new Promise<void>((resolve) => (read = resolve));
    this.heldLists = { count, read, gate };
    return { read: allRead, answer };
  }

  override async get(key: string): Promise<Kv | undefined> {
    this.gets++;
    return super.get(key);
  }

  override async list(prefix: string): Promise<{ items: Kv[]; revision: bigint }> {
    this.lists++;
    const held = this.heldLists;
    if (held && --held.count === 0) this.heldLists = undefined;
    const answer = await super.list(prefix);
    if (!held) return answer;
    if (held.count === 0) held.read();
    await held.gate;
    return answer;
  }

  override watch(prefix: string, fromRevision: bigint, onEvent: (e: WatchEvent) => void, onError: (err: StoreError) => void): Promise<WatchHandle> {
    return super.watch(
      prefix,
      fromRevision,
      (e) => {
        const hold = this.held.get(prefix);
        if (!hold) return onEvent(e);
        hold.deliver = onEvent;
        if (!hold.dropped) hold.events.push(e);
      },
      onError,
    );
  }
}

const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';

async function put(ds: Datastore, key: string, value: unknown): Promise<bigint> {
  return (await ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] })).revision;
}

describeWithStores('the watch-fed resource view after a write', (env) => {
  let view: WatchedResourceView | undefined;
  let viewStore: ViewDatastore;
  afterEach(async () => {
    await view?.close();
    view = undefined;
  });

  const startView = async (opts: WatchedResourceViewOptions = {}) => {
    viewStore = new ViewDatastore(env().ds);
    view = await WatchedResourceView.start(viewStore, opts);
    viewStore.lists = 0;
    viewStore.gets = 0;
    return view;
  };
  /** A repository that waits for `view` after each write, as the allocator's does. */
  const repoOver = (e: EngineEnv, v: WatchedResourceView) =>
    new ResourceRepository({ datastore: e.ds, engine: e.engine, poolDeleteGraceMs: 0, whenWritten: (key, revision) => v.waitForWrite(key, revision) });
  const poolNames = async () => (await view!.context()).pools.map((p) => p.name);

  it('shows every kind of resource write, and delete, as soon as the write returns', async () => {
    const v = await startView();
    const repo = repoOver(env(), v);

    await repo.apply(ipv4Pool('p', { cidr: '10.0.0.0/24' }));
    expect(await poolNames()).toEqual(['p']);
    await repo.apply(ipv4Pool('p', { cidr: '10.0.0.0/24', disabled: true }));
    expect((await v.context()).pools.map((p) => p.enabled)).toEqual([false]);
    await repo.create(reservation('r', ['10.0.0.0/30']));
    expect((await v.context()).reservations.cidrs).toHaveLength(1);
    await repo.apply(node('n1', { zone: 'z1' }));
    expect(await v.node('n1')).toEqual({ name: 'n1', labels: { zone: 'z1' } });
    expect(viewStore.gets).toBe(0); // the node came from the cache, not a read
    await repo.apply(ipamConfiguration({ strictAffinity: true }));
    expect((await v.context()).config.strictAffinity).toBe(true);

    await repo.delete('IPReservation', 'r');
    expect((await v.context()).reservations.cidrs).toHaveLength(0);
    await repo.delete('Node', 'n1');
    expect(await v.node('n1')).toBeUndefined();
    await repo.delete('IPPool', 'p');
    expect(await poolNames()).toEqual([]);
    await repo.delete('IPAMConfiguration', 'default');
    expect((await v.context()).config.strictAffinity).toBe(false);
  });

  it('re-reads nothing for a write: fifty writes, no list by the view', async () => {
    const v = await startView();
    const repo = repoOver(env(), v);
    for (let i = 0; i < 25; i++) {
      await repo.apply(node(`n${i}`, { i: String(i) }));
      await repo.apply(ipv4Pool(`p${i}`, { cidr: `10.${i}.0.0/24` }));
    }
    expect(viewStore.lists).toBe(0);
    expect((await v.context()).pools).toHaveLength(25);
    expect(await v.node('n24')).toEqual({ name: 'n24', labels: { i: '24' } });
    expect(viewStore.gets).toBe(0);
  });

  it('serves concurrent writes each as soon as its own event arrives', async () => {
    const v = await startView();
    const repo = repoOver(env(), v);
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        await repo.apply(ipv4Pool(`p${i}`, { cidr: `10.${i}.0.0/24` }));
        expect((await v.context()).pools.map((p) => p.name)).toContain(`p${i}`);
      }),
    );
    expect(viewStore.lists).toBe(0);
  });

  it('waits for the resources watch even when the config watch has delivered a later revision', async () => {
    const v = await startView();
    viewStore.holdEvents(RESOURCES_PREFIX);
    const poolKey = resourceKey('ippools', 'late');
    const poolRevision = await put(env().ds, poolKey, ipv4Pool('late', { cidr: '10.9.0.0/24' }));
    const configRevision = await put(env().ds, ipamConfigKey(), { strict_affinity: true });
    expect(configRevision).toBeGreaterThan(poolRevision);

    await v.waitForWrite(ipamConfigKey(), configRevision);
    let poolSeen = false;
    const poolWait = v.waitForWrite(poolKey, poolRevision).then(() => (poolSeen = true));
    await new Promise((r) => setImmediate(r));
    expect(poolSeen).toBe(false);
    expect(await poolNames()).toEqual([]);

    viewStore.release(RESOURCES_PREFIX);
    await poolWait;
    expect(await poolNames()).toEqual(['late']);
    expect(viewStore.lists).toBe(0);
  });

  it('falls back to one re-read when the watch does not deliver the write within the bound', async () => {
    const v = await startView({ writeVisibilityTimeoutMs: 50 });
    viewStore.holdEvents(RESOURCES_PREFIX, { drop: true });
    const key = resourceKey('ippools', 'unseen');
    const revision = await put(env().ds, key, ipv4Pool('unseen', { cidr: '10.8.0.0/24' }));
    await v.waitForWrite(key, revision);
    expect(await poolNames()).toEqual(['unseen']);
    expect(viewStore.lists).toBe(2); // one re-read: the resources and the config prefix
  });

  it('re-reads at once for a write whose revision is unknown', async () => {
    // A bound no test run reaches: were it waited for, the test would time out.
    const v = await startView({ writeVisibilityTimeoutMs: 600_000 });
    viewStore.holdEvents(RESOURCES_PREFIX, { drop: true });
    const key = resourceKey('ippools', 'gone');
    await put(env().ds, key, ipv4Pool('gone', { cidr: '10.7.0.0/24' }));
    await v.waitForWrite(key, undefined);
    expect(await poolNames()).toEqual(['gone']);
    expect(viewStore.lists).toBe(2);
  });

  it('does not go back when a re-read answers after the view applied a newer change', async () => {
    const v = await startView();
    const lists = viewStore.holdLists(2); // a re-read lists two prefixes
    const staleRefresh = v.refresh();
    await lists.read;

    const key = resourceKey('ippools', 'newer');
    const revision = await put(env().ds, key, ipv4Pool('newer', { cidr: '10.6.0.0/24' }));
    await v.waitForWrite(key, revision);
    expect(await poolNames()).toEqual(['newer']);

    lists.answer();
    await staleRefresh;
    expect(await poolNames()).toEqual(['newer']);
  });

  it('applies every event of a transaction that writes several resources', async () => {
    const v = await startView();
    const a = resourceKey('ippools', 'a');
    const b = resourceKey('ippools', 'b');
    const { revision } = await env().ds.commit({
      preconditions: [],
      mutations: [
        { op: 'put', key: a, value: JSON.stringify(ipv4Pool('a', { cidr: '10.1.0.0/24' })) },
        { op: 'put', key: b, value: JSON.stringify(ipv4Pool('b', { cidr: '10.2.0.0/24' })) },
      ],
    });
    await v.waitForWrite(b, revision);
    // Both events carry one revision; the second must not be taken for already applied.
    // A later write, once seen, proves every event before it was handled.
    const c = resourceKey('ippools', 'c');
    await v.waitForWrite(c, await put(env().ds, c, ipv4Pool('c', { cidr: '10.3.0.0/24' })));
    expect(await poolNames()).toEqual(['a', 'b', 'c']);
  });
});

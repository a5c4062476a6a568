import { etcdTestEndpoints, makeEtcdTestStore, type EtcdTestStore } from '../testing/etcd-test-store';
import { EtcdDatastore } from './etcd-datastore';

describe('EtcdDatastore namespaces', () => {
  let first: EtcdTestStore;
  let second: EtcdTestStore;
  let root: EtcdDatastore;

  beforeEach(async () => {
    first = await makeEtcdTestStore();
    second = await makeEtcdTestStore();
    // No namespace: sees the real keys, to check where the namespaced stores wrote.
    root = new EtcdDatastore({ endpoints: etcdTestEndpoints() });
  });
  afterEach(async () => {
    await Promise.all([first.cleanup(), second.cleanup(), root.close()]);
  });

  const put = (store: EtcdDatastore, key: string, value: string) =>
    store.commit({ preconditions: [{ key, absent: true }], mutations: [{ op: 'put', key, value }] });

  it('stores keys under the namespace and returns them without it', async () => {
    const { revision } = await put(first.store, '/calico/ipam/v2/config', 'cfg');
    await expect(root.get(`${first.namespace}/calico/ipam/v2/config`)).resolves.toEqual({
      key: `${first.namespace}/calico/ipam/v2/config`,
      value: 'cfg',
      revision,
    });
    expect((await first.store.list('/calico/')).items.map((kv) => kv.key)).toEqual(['/calico/ipam/v2/config']);
    await expect(first.store.listKeys('/calico/')).resolves.toEqual(['/calico/ipam/v2/config']);
  });

  it('lets two namespaces hold the same key without seeing or conflicting with each other', async () => {
    await put(first.store, '/k', 'first');
    await expect(put(second.store, '/k', 'second')).resolves.toBeDefined();
    expect((await first.store.list('')).items.map((kv) => kv.value)).toEqual(['first']);
    expect((await second.store.list('')).items.map((kv) => kv.value)).toEqual(['second']);
  });

  it('reads one snapshot and reports conflicts by the caller-visible key', async () => {
    const a = await put(first.store, '/a', '1');
    const conflict = await first.store
      .commit({ preconditions: [{ key: '/a', absent: true }], mutations: [] })
      .catch((err: unknown) => err);
    expect(conflict).toMatchObject({ code: 'conflict', current: new Map([['/a', { key: '/a', value: '1', revision: a.revision }]]) });
    await expect(first.store.getMany(['/a'])).resolves.toEqual(new Map([['/a', { key: '/a', value: '1', revision: a.revision }]]));
  });

  it('removes everything under the namespace on cleanup', async () => {
    const own = await makeEtcdTestStore();
    for (let i = 0; i < 130; i++) await put(own.store, `/bulk/${i}`, 'v');
    await own.cleanup();
    expect((await root.list(own.namespace)).items).toEqual([]);
  });

  it('uses a different random namespace for every test store', () => {
    expect(first.namespace).not.toBe(second.namespace);
    expect(first.namespace).toMatch(/^\/atoll-test\/[0-9a-f-]{36}\/$/);
  });
});

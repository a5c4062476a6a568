import { makeEtcdTestStore, type EtcdTestStore } from '../testing/etcd-test-store';
import { EtcdDatastore } from './etcd-datastore';
import { listEtcdPage } from './etcd-reads';
import { callOptionsWithin } from './etcd-call';
import { Etcd3 } from 'etcd3';

// list() is a series of range requests of listPageSize keys, all at the first page's
// revision: one consistent snapshot however many pages it takes.
describe('EtcdDatastore list pages', () => {
  let t: EtcdTestStore;
  let client: Etcd3;
  beforeEach(async () => {
    t = await makeEtcdTestStore({ listPageSize: 3 });
    client = new Etcd3({ hosts: (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',') });
  });
  afterEach(async () => {
    client.close();
    await t.cleanup();
  });

  const put = (store: EtcdDatastore, key: string, value: string) => store.commit({ preconditions: [], mutations: [{ op: 'put', key, value }] });

  it('returns every key of the prefix in order across pages, and nothing outside it', async () => {
    for (let i = 0; i < 10; i++) await put(t.store, `/p/k${String(i).padStart(2, '0')}`, `v${i}`);
    await put(t.store, '/q/outside', 'x');
    const { items, revision } = await t.store.list('/p/');
    expect(items.map((kv) => kv.key)).toEqual(Array.from({ length: 10 }, (_, i) => `/p/k${String(i).padStart(2, '0')}`));
    expect(items.map((kv) => kv.value)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
    expect(revision).toBe((await put(t.store, '/q/after', 'y')).revision - 1n);
  });

  it("reads later pages at the first page's revision: writes made meanwhile are not seen", async () => {
    for (let i = 0; i < 6; i++) await put(t.store, `/p/k${i}`, `old${i}`);
    const ns = client.namespace(t.namespace);
    const call = () => callOptionsWithin(5000);
    const first = await listEtcdPage(ns, '/p/', { limit: 3 }, call());
    expect(first.items.map((kv) => kv.key)).toEqual(['/p/k0', '/p/k1', '/p/k2']);
    // between the pages: one key of the second page changes, one appears, one goes
    await put(t.store, '/p/k4', 'new4');
    await put(t.store, '/p/k45', 'appeared');
    await t.store.commit({ preconditions: [], mutations: [{ op: 'delete', key: '/p/k5' }] });
    const second = await listEtcdPage(ns, '/p/', { after: first.nextAfter!, revision: first.revision, limit: 3 }, call());
    expect(second.items.map((kv) => [kv.key, kv.value])).toEqual([
      ['/p/k3', 'old3'],
      ['/p/k4', 'old4'],
      ['/p/k5', 'old5'],
    ]);
    expect(second.revision).toBe(first.revision);
    expect(second.nextAfter).toBeUndefined();
  });
});

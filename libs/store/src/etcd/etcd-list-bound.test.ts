import { makeEtcdTestStore, type EtcdTestStore } from '../testing/etcd-test-store';
import { StoreUnavailableError } from '../errors';
import { EtcdDatastore } from './etcd-datastore';

// list() answers with a whole prefix in one range request (one snapshot); at 5000 blocks
// that is ~30 MiB, so it has its own bound, listTimeoutMs, not requestTimeoutMs.
describe('EtcdDatastore list bound', () => {
  let t: EtcdTestStore;
  beforeAll(async () => {
    t = await makeEtcdTestStore();
    const value = 'x'.repeat(1024);
    for (let batch = 0; batch < 40; batch++) {
      const mutations = Array.from({ length: 100 }, (_, i) => ({ op: 'put' as const, key: `/big/${String(batch * 100 + i).padStart(5, '0')}`, value }));
      await t.store.commit({ preconditions: [], mutations });
    }
  });
  afterAll(() => t.cleanup());

  it('lets a large listing run past requestTimeoutMs, up to listTimeoutMs, while other calls keep the short bound', async () => {
    const impatient = new EtcdDatastore({ endpoints: (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(','), namespace: t.namespace, requestTimeoutMs: 1, listTimeoutMs: 20_000 });
    try {
      const { items } = await impatient.list('/big/');
      expect(items).toHaveLength(4000);
      await expect(impatient.listKeys('/big/')).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await impatient.close();
    }
  });
});

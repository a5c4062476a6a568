import { startEtcdCluster, type EtcdCluster } from '../../../../tools/etcd/launcher';
import { StoreUnavailableError } from '../errors';
import { ETCD_OUT_OF_SPACE, EtcdDatastore } from './etcd-datastore';

// An etcd whose database reaches its quota raises its NOSPACE alarm and refuses writes with
// "resource exhausted". This fills a private member with a tiny quota, so it never runs
// against the shared one.

describe('EtcdDatastore when etcd is out of space', () => {
  let cluster: EtcdCluster;
  let store: EtcdDatastore;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ extraArgs: ['--quota-backend-bytes', String(2 * 1024 * 1024)] });
    store = new EtcdDatastore({ endpoints: [...cluster.endpoints], requestTimeoutMs: 5000 });
  });

  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('says first, in an operator\'s words, that etcd is out of space and what to do; reads still work', async () => {
    const value = 'x'.repeat(256 * 1024);
    let refusal: unknown;
    for (let i = 0; i < 64 && refusal === undefined; i++) {
      await store.commit({ preconditions: [], mutations: [{ op: 'put', key: `/fill/${i}`, value }] }).catch((err: unknown) => {
        refusal = err;
      });
    }
    expect(refusal).toBeInstanceOf(StoreUnavailableError);
    expect((refusal as Error).message.startsWith(ETCD_OUT_OF_SPACE)).toBe(true);
    expect((refusal as StoreUnavailableError).retryable).toBe(true);
    // etcd keeps serving reads with the alarm raised
    expect((await store.get('/fill/0'))?.value.length).toBe(value.length);
  }, 60_000);
});

import { randomUUID } from 'node:crypto';
import type { Datastore } from '../datastore';
import { EtcdDatastore } from '../etcd/etcd-datastore';
import { MAX_OPERATIONS_PER_TRANSACTION } from '../request-validation';

/** The etcd client URLs jest's global setup (or the caller) put in ATOLL_TEST_ETCD_ENDPOINTS. */
export function etcdTestEndpoints(): string[] {
  const raw = process.env.ATOLL_TEST_ETCD_ENDPOINTS;
  const endpoints = (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (endpoints.length === 0) {
    throw new Error(
      'ATOLL_TEST_ETCD_ENDPOINTS is not set: run tests through jest (its global setup starts etcd, ' +
        'see tools/jest/global-setup.js) or set it to comma-separated etcd client URLs, e.g. http://127.0.0.1:2379',
    );
  }
  return endpoints;
}

export interface EtcdTestStore {
  store: EtcdDatastore;
  /** The fresh key prefix this store works under, e.g. `/atoll-test/<uuid>/`. */
  namespace: string;
  /** Deletes every key under the namespace and closes the store (safe if already closed). */
  cleanup(): Promise<void>;
}

/** An EtcdDatastore on the test etcd, isolated from every other test by a fresh random namespace. */
export async function makeEtcdTestStore(options: { requestTimeoutMs?: number } = {}): Promise<EtcdTestStore> {
  const endpoints = etcdTestEndpoints();
  const namespace = `/atoll-test/${randomUUID()}/`;
  const store = new EtcdDatastore({ endpoints, namespace, ...options });
  return {
    store,
    namespace,
    cleanup: async () => {
      await store.close();
      // A separate client: the test may have closed (or broken) its own store.
      const janitor = new EtcdDatastore({ endpoints, namespace });
      try {
        await deleteEverything(janitor);
      } finally {
        await janitor.close();
      }
    },
  };
}

async function deleteEverything(store: Datastore): Promise<void> {
  const { items } = await store.list('');
  for (let i = 0; i < items.length; i += MAX_OPERATIONS_PER_TRANSACTION) {
    const chunk = items.slice(i, i + MAX_OPERATIONS_PER_TRANSACTION);
    await store.commit({ preconditions: [], mutations: chunk.map((kv) => ({ op: 'delete', key: kv.key })) });
  }
}

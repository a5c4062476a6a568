// Counts what an in-process engine (or a baseline) asks of its datastore: commits,
// conflicts (commits refused because a precondition failed) and reads. A Proxy, so that
// it forwards whatever the Datastore port grows without being edited.
import { StoreConflictError, type Datastore } from '@atoll/store';

export interface DatastoreCounts {
  commits: number;
  conflicts: number;
  reads: number;
}

export function countingDatastore(inner: Datastore): { datastore: Datastore; counts: DatastoreCounts; reset(): void } {
  const counts: DatastoreCounts = { commits: 0, conflicts: 0, reads: 0 };
  const datastore = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'commit') {
        return async (...args: unknown[]) => {
          counts.commits++;
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (err) {
            if (err instanceof StoreConflictError) counts.conflicts++;
            throw err;
          }
        };
      }
      if (prop === 'get' || prop === 'getMany' || prop === 'list' || prop === 'listKeys') {
        return (...args: unknown[]) => {
          counts.reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return {
    datastore,
    counts,
    reset() {
      counts.commits = 0;
      counts.conflicts = 0;
      counts.reads = 0;
    },
  };
}

/** Deletes every key of a namespaced store (100 per transaction) and closes it. */
export async function emptyAndClose(store: Datastore): Promise<void> {
  const { items } = await store.list('');
  for (let i = 0; i < items.length; i += 100) {
    await store.commit({ preconditions: [], mutations: items.slice(i, i + 100).map((kv) => ({ op: 'delete' as const, key: kv.key })) });
  }
  await store.close();
}

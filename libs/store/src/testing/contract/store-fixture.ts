import type { Datastore, Kv } from '../../datastore';

export type StoreFactory = () => Promise<{ store: Datastore; cleanup(): Promise<void> }>;

export interface StoreFixture {
  /** A fresh, empty store for the current test. */
  readonly store: Datastore;
}

/** Gives every test its own store (a new instance or a fresh namespace) and cleans it up after. */
export function useStoreFixture(makeStore: StoreFactory): StoreFixture {
  let current: { store: Datastore; cleanup(): Promise<void> } | undefined;
  beforeEach(async () => {
    current = await makeStore();
  });
  afterEach(async () => {
    const finished = current;
    current = undefined;
    await finished?.cleanup();
  });
  return {
    get store(): Datastore {
      if (!current) throw new Error('the store fixture is only available inside a test');
      return current.store;
    },
  };
}

/** Writes `key` unconditionally and returns what was stored. */
export async function put(store: Datastore, key: string, value: string): Promise<Kv> {
  const { revision } = await store.commit({ preconditions: [], mutations: [{ op: 'put', key, value }] });
  return { key, value, revision };
}

/** The settled result of a promise, for asserting on many concurrent outcomes. */
export async function outcome<T>(work: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    return { ok: false, error };
  }
}

import type { Transaction } from '../datastore';
import { StoreConflictError, StoreUnavailableError } from '../errors';
import { MemoryDatastore } from '../memory/memory-datastore';
import { InterceptingDatastore, type CommitOutcome } from './intercepting-datastore';
import { describeStoreContract } from './store-contract';

// With no hooks and no injected failures the wrapper must be invisible.
describeStoreContract('InterceptingDatastore over MemoryDatastore', async () => {
  const store = new InterceptingDatastore(new MemoryDatastore());
  return { store, cleanup: () => store.close() };
});

const create = (key: string, value: string): Transaction => ({
  preconditions: [{ key, absent: true }],
  mutations: [{ op: 'put', key, value }],
});

describe('InterceptingDatastore', () => {
  let inner: MemoryDatastore;
  let store: InterceptingDatastore;
  beforeEach(() => {
    inner = new MemoryDatastore();
    store = new InterceptingDatastore(inner);
  });
  afterEach(() => store.close());

  it('runs a competing writer between a read and the commit that depends on it', async () => {
    const read = await store.get('/k');
    store.beforeNextCommit(async () => {
      await inner.commit(create('/k', 'competitor'));
    });
    const error = await store.commit(create('/k', 'mine')).catch((err: unknown) => err);
    expect(read).toBeUndefined();
    expect(error).toBeInstanceOf(StoreConflictError);
    expect((error as StoreConflictError).current.get('/k')?.value).toBe('competitor');
  });

  it('runs a one-shot hook once, and the standing hook on every commit', async () => {
    const calls: string[] = [];
    store.beforeCommit = async (txn) => {
      calls.push(`every:${txn.mutations[0]?.key}`);
    };
    store.beforeNextCommit(async () => {
      calls.push('once');
    });
    await store.commit(create('/a', '1'));
    await store.commit(create('/b', '1'));
    expect(calls).toEqual(['once', 'every:/a', 'every:/b']);
    expect(store.commitCalls).toBe(2);
  });

  it.each([
    ['before-apply', undefined],
    ['after-apply', 'v'],
  ] as const)('fails the next commit %s with StoreUnavailableError', async (mode, stored) => {
    store.failNextCommits(1, mode);
    await expect(store.commit(create('/k', 'v'))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect((await inner.get('/k'))?.value).toBe(stored);
  });

  it('fails exactly the next N commits, then lets commits through', async () => {
    store.failNextCommits(2);
    await expect(store.commit(create('/k', '1'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.commit(create('/k', '2'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.commit(create('/k', '3'))).resolves.toEqual({ revision: 2n });
    expect((await store.get('/k'))?.value).toBe('3');
  });

  it('shows the after-commit hook the revision and error of every outcome', async () => {
    const outcomes: CommitOutcome[] = [];
    store.afterCommit = async (_txn, outcome) => {
      outcomes.push(outcome);
    };
    await store.commit(create('/k', '1'));
    await store.commit(create('/k', '2')).catch(() => undefined);
    store.failNextCommits(1, 'after-apply');
    await store.commit(create('/j', '1')).catch(() => undefined);

    expect(outcomes[0]).toEqual({ revision: 2n });
    expect(outcomes[1]?.revision).toBeUndefined();
    expect(outcomes[1]?.error).toBeInstanceOf(StoreConflictError);
    expect(outcomes[2]?.revision).toBe(3n);
    expect(outcomes[2]?.error).toBeInstanceOf(StoreUnavailableError);
  });
});

import type { Datastore, Kv, Mutation, Precondition, Transaction } from '../../datastore';
import { StoreConflictError, StoreError, StoreInvalidRequestError } from '../../errors';
import { MAX_OPERATIONS_PER_TRANSACTION } from '../../request-validation';
import { put, type StoreFixture } from './store-fixture';

const KEY = '/c/key';

/** What exists before the commit under test: nothing, one write, or a write then a rewrite. */
type Given = 'absent' | 'written' | 'rewritten';

interface PreconditionCase {
  name: string;
  given: Given;
  precondition: (history: Kv[]) => Precondition;
  mutation: Mutation;
  applies: boolean;
}

const preconditionCases: PreconditionCase[] = [
  {
    name: 'creates a key whose absent precondition holds',
    given: 'absent',
    precondition: () => ({ key: KEY, absent: true }),
    mutation: { op: 'put', key: KEY, value: 'new' },
    applies: true,
  },
  {
    name: 'refuses to create a key that already exists',
    given: 'written',
    precondition: () => ({ key: KEY, absent: true }),
    mutation: { op: 'put', key: KEY, value: 'new' },
    applies: false,
  },
  {
    name: 'updates a key whose mod revision matches',
    given: 'written',
    precondition: ([first]) => ({ key: KEY, modRevision: first!.revision }),
    mutation: { op: 'put', key: KEY, value: 'new' },
    applies: true,
  },
  {
    name: 'refuses an update with a stale mod revision',
    given: 'rewritten',
    precondition: ([first]) => ({ key: KEY, modRevision: first!.revision }),
    mutation: { op: 'put', key: KEY, value: 'new' },
    applies: false,
  },
  {
    name: 'refuses an update of a key that does not exist',
    given: 'absent',
    precondition: () => ({ key: KEY, modRevision: 1n }),
    mutation: { op: 'put', key: KEY, value: 'new' },
    applies: false,
  },
  {
    name: 'deletes a key whose mod revision matches',
    given: 'rewritten',
    precondition: (history) => ({ key: KEY, modRevision: history[history.length - 1]!.revision }),
    mutation: { op: 'delete', key: KEY },
    applies: true,
  },
  {
    name: 'refuses a delete with a stale mod revision',
    given: 'rewritten',
    precondition: ([first]) => ({ key: KEY, modRevision: first!.revision }),
    mutation: { op: 'delete', key: KEY },
    applies: false,
  },
];

const invalidTransactions: Array<[string, Transaction]> = [
  [
    'a key changed twice',
    { preconditions: [], mutations: [{ op: 'put', key: '/c/a', value: '1' }, { op: 'delete', key: '/c/a' }] },
  ],
  ['a mod revision of zero', { preconditions: [{ key: '/c/a', modRevision: 0n }], mutations: [] }],
  ['an empty key', { preconditions: [], mutations: [{ op: 'put', key: '', value: '1' }] }],
  [
    `more than ${MAX_OPERATIONS_PER_TRANSACTION} mutations`,
    {
      preconditions: [],
      mutations: Array.from({ length: MAX_OPERATIONS_PER_TRANSACTION + 1 }, (_, i) => ({
        op: 'put' as const,
        key: `/c/${i}`,
        value: 'v',
      })),
    },
  ],
  [
    `more than ${MAX_OPERATIONS_PER_TRANSACTION} preconditions`,
    {
      preconditions: Array.from({ length: MAX_OPERATIONS_PER_TRANSACTION + 1 }, (_, i) => ({
        key: `/c/${i}`,
        absent: true as const,
      })),
      mutations: [{ op: 'put', key: '/c/a', value: '1' }],
    },
  ],
];

async function arrange(store: Datastore, given: Given): Promise<Kv[]> {
  if (given === 'absent') return [];
  const history = [await put(store, KEY, 'old')];
  if (given === 'rewritten') history.push(await put(store, KEY, 'older-than-new'));
  return history;
}

async function conflictOf(work: Promise<unknown>): Promise<StoreConflictError> {
  const error = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(StoreConflictError);
  return error as StoreConflictError;
}

export function describeCommitContract(fixture: StoreFixture): void {
  describe('commit', () => {
    it.each(preconditionCases)('$name', async ({ given, precondition, mutation, applies }) => {
      const history = await arrange(fixture.store, given);
      const before = await fixture.store.get(KEY);
      const commit = fixture.store.commit({ preconditions: [precondition(history)], mutations: [mutation] });
      if (!applies) {
        await conflictOf(commit);
        await expect(fixture.store.get(KEY)).resolves.toEqual(before);
        return;
      }
      const { revision } = await commit;
      const after = await fixture.store.get(KEY);
      expect(after).toEqual(mutation.op === 'put' ? { key: KEY, value: mutation.value, revision } : undefined);
    });

    it('writes nothing when one of several preconditions fails', async () => {
      const a = await put(fixture.store, '/c/a', 'a1');
      const b = await put(fixture.store, '/c/b', 'b1');
      const c = await put(fixture.store, '/c/c', 'c1');
      await put(fixture.store, '/c/b', 'b2'); // makes the precondition on b stale
      const bNow = await fixture.store.get('/c/b');

      await conflictOf(
        fixture.store.commit({
          preconditions: [
            { key: '/c/a', modRevision: a.revision },
            { key: '/c/b', modRevision: b.revision },
            { key: '/c/d', absent: true },
          ],
          mutations: [
            { op: 'put', key: '/c/a', value: 'a2' },
            { op: 'delete', key: '/c/c' },
            { op: 'put', key: '/c/d', value: 'd1' },
          ],
        }),
      );

      const after = await fixture.store.getMany(['/c/a', '/c/b', '/c/c', '/c/d']);
      expect([...after.values()]).toEqual([a, bNow, c, undefined]);
    });

    it('reports in a conflict the current value of every precondition key, and only those', async () => {
      const a = await put(fixture.store, '/c/a', 'a1');
      const stale = await put(fixture.store, '/c/b', 'b1');
      const fresh = await put(fixture.store, '/c/b', 'b2');
      await put(fixture.store, '/c/unrelated', 'x');

      const conflict = await conflictOf(
        fixture.store.commit({
          preconditions: [
            { key: '/c/a', modRevision: a.revision },
            { key: '/c/b', modRevision: stale.revision },
            { key: '/c/missing', absent: true },
          ],
          mutations: [{ op: 'put', key: '/c/unrelated', value: 'y' }],
        }),
      );

      expect(conflict.current).toEqual(
        new Map<string, Kv | undefined>([
          ['/c/a', a],
          ['/c/b', fresh],
          ['/c/missing', undefined],
        ]),
      );
    });

    it('throws a conflict that is a retryable StoreError with the code "conflict"', async () => {
      await put(fixture.store, KEY, 'v');
      const conflict = await conflictOf(
        fixture.store.commit({ preconditions: [{ key: KEY, absent: true }], mutations: [] }),
      );
      expect(conflict).toBeInstanceOf(StoreError);
      expect(conflict.code).toBe('conflict');
      expect(conflict.retryable).toBe(true);
    });

    it('applies every mutation of one transaction at the revision commit returns', async () => {
      await put(fixture.store, '/c/gone', 'v');
      const { revision } = await fixture.store.commit({
        preconditions: [{ key: '/c/x', absent: true }],
        mutations: [
          { op: 'put', key: '/c/x', value: '1' },
          { op: 'put', key: '/c/y', value: '2' },
          { op: 'delete', key: '/c/gone' },
        ],
      });
      const { items } = await fixture.store.list('/c/');
      expect(items).toEqual([
        { key: '/c/x', value: '1', revision },
        { key: '/c/y', value: '2', revision },
      ]);
    });

    it('returns a higher revision for every later commit', async () => {
      const revisions: bigint[] = [];
      for (let i = 0; i < 5; i++) revisions.push((await put(fixture.store, `/c/${i % 2}`, String(i))).revision);
      for (let i = 1; i < revisions.length; i++) expect(revisions[i]!).toBeGreaterThan(revisions[i - 1]!);
    });

    it('returns revisions as bigints', async () => {
      const { revision } = await put(fixture.store, KEY, 'v');
      expect(typeof revision).toBe('bigint');
      expect(typeof (await fixture.store.get(KEY))?.revision).toBe('bigint');
      expect(typeof (await fixture.store.list('')).revision).toBe('bigint');
    });

    it('succeeds when it deletes a key that does not exist', async () => {
      await expect(
        fixture.store.commit({ preconditions: [], mutations: [{ op: 'delete', key: '/c/never' }] }),
      ).resolves.toEqual({ revision: expect.any(BigInt) });
      await expect(fixture.store.get('/c/never')).resolves.toBeUndefined();
    });

    it.each(invalidTransactions)('rejects a transaction with %s and writes nothing', async (_name, txn) => {
      await expect(fixture.store.commit(txn)).rejects.toBeInstanceOf(StoreInvalidRequestError);
      expect((await fixture.store.list('')).items).toEqual([]);
    });
  });
}

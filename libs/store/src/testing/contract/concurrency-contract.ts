import type { Datastore } from '../../datastore';
import { StoreConflictError } from '../../errors';
import { outcome, put, type StoreFixture } from './store-fixture';

const KEY = '/k/counter';
const WRITERS = 8;

/** Read, add one, compare-and-swap; on conflict start over from the conflict's current value. */
async function increment(store: Datastore): Promise<bigint> {
  let current = await store.get(KEY);
  for (;;) {
    try {
      const value = String(Number(current?.value ?? '0') + 1);
      const { revision } = await store.commit({
        preconditions: [current ? { key: KEY, modRevision: current.revision } : { key: KEY, absent: true }],
        mutations: [{ op: 'put', key: KEY, value }],
      });
      return revision;
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      current = err.current.get(KEY);
    }
  }
}

export function describeConcurrencyContract(fixture: StoreFixture): void {
  describe('concurrent committers', () => {
    it('let exactly one of many writers holding the same revision win', async () => {
      const start = await put(fixture.store, KEY, 'start');
      const results = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          outcome(
            fixture.store.commit({
              preconditions: [{ key: KEY, modRevision: start.revision }],
              mutations: [{ op: 'put', key: KEY, value: `writer-${i}` }],
            }),
          ),
        ),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [{ writer: i, revision: r.value.revision }] : []));
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.error instanceof StoreConflictError)).toBe(true);
      await expect(fixture.store.get(KEY)).resolves.toEqual({
        key: KEY,
        value: `writer-${winners[0]!.writer}`,
        revision: winners[0]!.revision,
      });
    });

    it('let exactly one of many writers create an absent key', async () => {
      const results = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          outcome(
            fixture.store.commit({
              preconditions: [{ key: KEY, absent: true }],
              mutations: [{ op: 'put', key: KEY, value: `writer-${i}` }],
            }),
          ),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('lose no update when read-modify-write loops race on one key', async () => {
      const perWriter = 3;
      const revisions = (
        await Promise.all(
          Array.from({ length: WRITERS }, async () => {
            const won: bigint[] = [];
            for (let i = 0; i < perWriter; i++) won.push(await increment(fixture.store));
            return won;
          }),
        )
      ).flat();
      expect((await fixture.store.get(KEY))?.value).toBe(String(WRITERS * perWriter));
      // One winner per revision: no two successful commits share a revision.
      expect(new Set(revisions).size).toBe(WRITERS * perWriter);
    });
  });
}

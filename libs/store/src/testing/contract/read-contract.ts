import { StoreInvalidRequestError } from '../../errors';
import { MAX_OPERATIONS_PER_TRANSACTION } from '../../request-validation';
import { put, type StoreFixture } from './store-fixture';

export function describeReadContract(fixture: StoreFixture): void {
  describe('reads', () => {
    it('returns undefined for a key that was never written', async () => {
      await expect(fixture.store.get('/r/missing')).resolves.toBeUndefined();
    });

    it('returns the value and the mod revision that a commit wrote', async () => {
      const written = await put(fixture.store, '/r/a', 'one');
      await expect(fixture.store.get('/r/a')).resolves.toEqual(written);
    });

    it('returns the latest value after the key is overwritten', async () => {
      await put(fixture.store, '/r/a', 'one');
      const second = await put(fixture.store, '/r/a', 'two');
      await expect(fixture.store.get('/r/a')).resolves.toEqual(second);
    });

    it('round-trips empty and non-ASCII values unchanged', async () => {
      await put(fixture.store, '/r/empty', '');
      await put(fixture.store, '/r/unicode', 'Zoë 🌴 {"a":1}\n');
      expect((await fixture.store.get('/r/empty'))?.value).toBe('');
      expect((await fixture.store.get('/r/unicode'))?.value).toBe('Zoë 🌴 {"a":1}\n');
    });

    it('getMany returns every requested key, with undefined for the missing ones', async () => {
      const a = await put(fixture.store, '/r/a', '1');
      const b = await put(fixture.store, '/r/b', '2');
      const result = await fixture.store.getMany(['/r/a', '/r/missing', '/r/b']);
      expect([...result.entries()]).toEqual([
        ['/r/a', a],
        ['/r/missing', undefined],
        ['/r/b', b],
      ]);
    });

    it('getMany of no keys returns an empty map', async () => {
      await expect(fixture.store.getMany([])).resolves.toEqual(new Map());
    });

    it('getMany sees the keys of one commit at that commit revision', async () => {
      const { revision } = await fixture.store.commit({
        preconditions: [],
        mutations: [
          { op: 'put', key: '/r/x', value: '1' },
          { op: 'put', key: '/r/y', value: '2' },
        ],
      });
      const result = await fixture.store.getMany(['/r/x', '/r/y']);
      expect(result.get('/r/x')?.revision).toBe(revision);
      expect(result.get('/r/y')?.revision).toBe(revision);
    });

    it('lists the keys under a prefix sorted in byte order', async () => {
      // Inserted out of order; '😀' (U+1F600) sorts after 'ｚ' (U+FF5A) in UTF-8 byte order,
      // although JavaScript's default string order puts it first.
      for (const key of ['/p/b', '/p/😀', '/p/a/x', '/p/ｚ', '/p/A', '/p/a']) await put(fixture.store, key, key);
      const { items } = await fixture.store.list('/p/');
      expect(items.map((kv) => kv.key)).toEqual(['/p/A', '/p/a', '/p/a/x', '/p/b', '/p/ｚ', '/p/😀']);
      expect(items.every((kv) => kv.value === kv.key)).toBe(true);
    });

    it('lists only keys that start with the prefix', async () => {
      for (const key of ['/p', '/p/in', '/px', '/q/in']) await put(fixture.store, key, 'v');
      const { items } = await fixture.store.list('/p/');
      expect(items.map((kv) => kv.key)).toEqual(['/p/in']);
    });

    it('lists every key of the store for the empty prefix', async () => {
      for (const key of ['/b', '/a']) await put(fixture.store, key, 'v');
      const { items } = await fixture.store.list('');
      expect(items.map((kv) => kv.key)).toEqual(['/a', '/b']);
    });

    it('lists with each item carrying its own mod revision', async () => {
      const a = await put(fixture.store, '/l/a', '1');
      const b = await put(fixture.store, '/l/b', '2');
      const { items } = await fixture.store.list('/l/');
      expect(items).toEqual([a, b]);
    });

    it('reports a list revision no older than the last commit', async () => {
      const written = await put(fixture.store, '/l/a', '1');
      const empty = await fixture.store.list('/nothing-here/');
      expect(empty.items).toEqual([]);
      expect(empty.revision).toBeGreaterThanOrEqual(written.revision);
    });

    it('lists keys alone: the keys list returns, in the same byte order, without values', async () => {
      for (const key of ['/k/b', '/k/😀', '/k/a/x', '/k/ｚ', '/k/A', '/k/a', '/kx', '/j/a']) await put(fixture.store, key, key);
      const keys = await fixture.store.listKeys('/k/');
      expect(keys).toEqual(['/k/A', '/k/a', '/k/a/x', '/k/b', '/k/ｚ', '/k/😀']);
      expect(keys).toEqual((await fixture.store.list('/k/')).items.map((kv) => kv.key));
    });

    it('lists the keys of the whole store for the empty prefix, and none for a prefix nothing has', async () => {
      for (const key of ['/b', '/a']) await put(fixture.store, key, 'v');
      await expect(fixture.store.listKeys('')).resolves.toEqual(['/a', '/b']);
      await expect(fixture.store.listKeys('/nothing-here/')).resolves.toEqual([]);
    });

    it('lists keys as of the last commit: created ones appear, deleted ones are gone', async () => {
      await put(fixture.store, '/d/stays', 'v');
      await put(fixture.store, '/d/goes', 'v');
      await fixture.store.commit({
        preconditions: [],
        mutations: [
          { op: 'delete', key: '/d/goes' },
          { op: 'put', key: '/d/new', value: 'v' },
        ],
      });
      await expect(fixture.store.listKeys('/d/')).resolves.toEqual(['/d/new', '/d/stays']);
    });

    it.each([
      ['get of an empty key', (s: StoreFixture['store']) => s.get('')],
      ['getMany with an empty key', (s: StoreFixture['store']) => s.getMany(['/r/a', ''])],
      [
        `getMany of more than ${MAX_OPERATIONS_PER_TRANSACTION} keys`,
        (s: StoreFixture['store']) =>
          s.getMany(Array.from({ length: MAX_OPERATIONS_PER_TRANSACTION + 1 }, (_, i) => `/r/${i}`)),
      ],
    ])('rejects %s as an invalid request', async (_name, read) => {
      await expect(read(fixture.store)).rejects.toBeInstanceOf(StoreInvalidRequestError);
    });
  });
}

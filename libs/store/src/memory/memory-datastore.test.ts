import { StoreCompactedError, StoreError, StoreInvalidRequestError } from '../errors';
import { describeLeaseContract } from '../testing/contract/lease-contract';
import { describeStoreContract } from '../testing/store-contract';
import { recordWatch } from '../testing/watch-recorder';
import { MemoryDatastore } from './memory-datastore';

describeStoreContract('MemoryDatastore', async () => {
  const store = new MemoryDatastore();
  return { store, cleanup: () => store.close() };
});

describeLeaseContract('MemoryDatastore', async () => {
  const store = new MemoryDatastore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryDatastore', () => {
  let store: MemoryDatastore;
  beforeEach(() => {
    store = new MemoryDatastore();
  });
  afterEach(() => store.close());

  const put = (key: string, value: string) =>
    store.commit({ preconditions: [], mutations: [{ op: 'put', key, value }] });

  it('starts at revision 1 and makes the first write revision 2, as etcd does', async () => {
    expect((await store.list('')).revision).toBe(1n);
    await expect(put('/a', '1')).resolves.toEqual({ revision: 2n });
  });

  it('creates no revision for a transaction that changes nothing', async () => {
    await put('/a', '1');
    await expect(
      store.commit({ preconditions: [], mutations: [{ op: 'delete', key: '/missing' }] }),
    ).resolves.toEqual({ revision: 2n });
    expect((await store.list('')).revision).toBe(2n);
  });

  it.each([
    ['below the compacted revision', 2n, true],
    ['at the compacted revision', 3n, false],
  ])('%s, rejects a watch with StoreCompactedError only when history is gone', async (_name, from, compacted) => {
    await put('/a', '1'); // revision 2
    await put('/a', '2'); // revision 3
    store.compact(3n);
    const watching = recordWatch(store, '/', from);
    if (compacted) {
      await expect(watching).rejects.toBeInstanceOf(StoreCompactedError);
      return;
    }
    const recording = await watching;
    await expect(recording.waitForEvents(1)).resolves.toEqual([{ type: 'put', key: '/a', value: '2', revision: 3n }]);
    await recording.handle.close();
  });

  it('refuses to compact beyond the current revision', () => {
    expect(() => store.compact(5n)).toThrow(StoreInvalidRequestError);
  });

  it('ends a watch whose callback throws, reporting it once through onError', async () => {
    const errors: StoreError[] = [];
    let calls = 0;
    await store.watch(
      '/',
      1n,
      () => {
        calls++;
        throw new Error('consumer bug');
      },
      (err) => errors.push(err),
    );
    await put('/a', '1');
    await put('/a', '2');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(1);
    expect(errors.map((e) => e.code)).toEqual(['internal']);
  });

  it('does not let a watch callback run inside commit', async () => {
    let delivered = false;
    await store.watch('/', 1n, () => (delivered = true), () => undefined);
    await put('/a', '1');
    expect(delivered).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toBe(true);
  });
});

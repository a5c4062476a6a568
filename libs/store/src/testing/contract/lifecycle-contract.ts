import { StoreClosedError } from '../../errors';
import { recordWatch } from '../watch-recorder';
import { put, type StoreFixture } from './store-fixture';

export function describeLifecycleContract(fixture: StoreFixture): void {
  describe('close', () => {
    it('ends open watches silently and makes every later call fail with StoreClosedError', async () => {
      const start = await put(fixture.store, '/z/a', '1');
      const recording = await recordWatch(fixture.store, '/z/', start.revision + 1n);
      await fixture.store.close();
      await expect(fixture.store.close()).resolves.toBeUndefined();

      const calls: Array<Promise<unknown>> = [
        fixture.store.get('/z/a'),
        fixture.store.getMany(['/z/a']),
        fixture.store.list('/z/'),
        fixture.store.listKeys('/z/'),
        fixture.store.commit({ preconditions: [], mutations: [{ op: 'put', key: '/z/a', value: '2' }] }),
        fixture.store.watch('/z/', 1n, () => undefined, () => undefined),
      ];
      for (const call of calls) await expect(call).rejects.toBeInstanceOf(StoreClosedError);
      expect(recording.errors).toEqual([]);
      await expect(recording.handle.close()).resolves.toBeUndefined();
    });
  });
}

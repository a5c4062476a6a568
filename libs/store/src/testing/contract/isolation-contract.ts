import { recordWatch } from '../watch-recorder';
import { put, type StoreFixture } from './store-fixture';

export function describeIsolationContract(fixture: StoreFixture): void {
  describe('prefix isolation', () => {
    it('keeps sibling prefixes apart in lists, conflicts and watches', async () => {
      const start = await put(fixture.store, '/tenant-a/k', 'a1');
      const recording = await recordWatch(fixture.store, '/tenant-b/', start.revision);
      const b = await put(fixture.store, '/tenant-b/k', 'b1');
      // A write under one prefix does not invalidate a precondition under the other.
      await put(fixture.store, '/tenant-a/k', 'a2');
      const { revision } = await fixture.store.commit({
        preconditions: [{ key: '/tenant-b/k', modRevision: b.revision }],
        mutations: [{ op: 'put', key: '/tenant-b/k', value: 'b2' }],
      });
      try {
        await expect(recording.waitForEvents(2)).resolves.toEqual([
          { type: 'put', key: '/tenant-b/k', value: 'b1', revision: b.revision },
          { type: 'put', key: '/tenant-b/k', value: 'b2', revision },
        ]);
        expect((await fixture.store.list('/tenant-a/')).items.map((kv) => kv.value)).toEqual(['a2']);
        expect((await fixture.store.list('/tenant-b/')).items.map((kv) => kv.value)).toEqual(['b2']);
      } finally {
        await recording.handle.close();
      }
    });
  });
}

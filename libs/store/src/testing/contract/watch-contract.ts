import { StoreInvalidRequestError } from '../../errors';
import { recordWatch } from '../watch-recorder';
import { put, type StoreFixture } from './store-fixture';

// How long to wait before concluding that an event is NOT coming.
const QUIET_MS = 300;
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

export function describeWatchContract(fixture: StoreFixture): void {
  describe('watch', () => {
    it('replays the changes since a past revision, then streams new ones', async () => {
      const first = await put(fixture.store, '/w/a', '1');
      const second = await put(fixture.store, '/w/b', '2');
      const recording = await recordWatch(fixture.store, '/w/', first.revision);
      const third = await put(fixture.store, '/w/a', '3');
      try {
        await expect(recording.waitForEvents(3)).resolves.toEqual([
          { type: 'put', key: '/w/a', value: '1', revision: first.revision },
          { type: 'put', key: '/w/b', value: '2', revision: second.revision },
          { type: 'put', key: '/w/a', value: '3', revision: third.revision },
        ]);
      } finally {
        await recording.handle.close();
      }
    });

    it('delivers, from the revision after a list, exactly the later changes', async () => {
      await put(fixture.store, '/w/a', 'before');
      const listed = await fixture.store.list('/w/');
      const recording = await recordWatch(fixture.store, '/w/', listed.revision + 1n);
      const after = await put(fixture.store, '/w/b', 'after');
      try {
        await recording.waitForEvents(1);
        await settle();
        expect(recording.events).toEqual([{ type: 'put', key: '/w/b', value: 'after', revision: after.revision }]);
      } finally {
        await recording.handle.close();
      }
    });

    it('delivers a delete with the revision of the deleting commit and no value', async () => {
      const written = await put(fixture.store, '/w/a', '1');
      const recording = await recordWatch(fixture.store, '/w/', written.revision + 1n);
      const { revision } = await fixture.store.commit({
        preconditions: [{ key: '/w/a', modRevision: written.revision }],
        mutations: [{ op: 'delete', key: '/w/a' }],
      });
      try {
        const [event] = await recording.waitForEvents(1);
        expect(event).toEqual({ type: 'delete', key: '/w/a', revision });
        expect(event).not.toHaveProperty('value');
      } finally {
        await recording.handle.close();
      }
    });

    it('delivers the changes of one transaction in order, sharing its revision', async () => {
      const start = await put(fixture.store, '/w/z', 'z');
      const recording = await recordWatch(fixture.store, '/w/', start.revision + 1n);
      const { revision } = await fixture.store.commit({
        preconditions: [],
        mutations: [
          { op: 'put', key: '/w/y', value: 'y' },
          { op: 'delete', key: '/w/z' },
          { op: 'put', key: '/w/x', value: 'x' },
        ],
      });
      try {
        await expect(recording.waitForEvents(3)).resolves.toEqual([
          { type: 'put', key: '/w/y', value: 'y', revision },
          { type: 'delete', key: '/w/z', revision },
          { type: 'put', key: '/w/x', value: 'x', revision },
        ]);
      } finally {
        await recording.handle.close();
      }
    });

    it('delivers only changes to keys under its prefix', async () => {
      const start = await put(fixture.store, '/elsewhere', 'x');
      const recording = await recordWatch(fixture.store, '/w/', start.revision);
      await put(fixture.store, '/wx', 'sibling');
      await put(fixture.store, '/other/w/', 'other');
      const inside = await put(fixture.store, '/w/in', 'in');
      try {
        await recording.waitForEvents(1);
        await settle();
        expect(recording.events).toEqual([{ type: 'put', key: '/w/in', value: 'in', revision: inside.revision }]);
      } finally {
        await recording.handle.close();
      }
    });

    it('delivers nothing after it is closed, and closes again without error', async () => {
      const start = await put(fixture.store, '/w/a', '1');
      const recording = await recordWatch(fixture.store, '/w/', start.revision + 1n);
      await put(fixture.store, '/w/a', '2');
      await recording.waitForEvents(1);
      await recording.handle.close();
      await put(fixture.store, '/w/a', '3');
      await settle();
      expect(recording.events).toHaveLength(1);
      expect(recording.errors).toEqual([]);
      await expect(recording.handle.close()).resolves.toBeUndefined();
    });

    it.each([0n, -1n])('rejects a fromRevision of %s as an invalid request', async (fromRevision) => {
      await expect(
        fixture.store.watch('/w/', fromRevision, () => undefined, () => undefined),
      ).rejects.toBeInstanceOf(StoreInvalidRequestError);
    });
  });
}

import type { Datastore, WatchEvent, WatchHandle } from '../datastore';
import type { StoreError } from '../errors';

export interface WatchRecording {
  readonly events: WatchEvent[];
  readonly errors: StoreError[];
  readonly handle: WatchHandle;
  /** Resolves with the first `count` events once that many have arrived; rejects after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs?: number): Promise<WatchEvent[]>;
  /** Resolves with the first error; rejects after `timeoutMs`. */
  waitForError(timeoutMs?: number): Promise<StoreError>;
}

/** Opens a watch that records what it receives, for tests that assert on events. */
export async function recordWatch(store: Datastore, prefix: string, fromRevision: bigint): Promise<WatchRecording> {
  const events: WatchEvent[] = [];
  const errors: StoreError[] = [];
  const waiters = new Set<() => void>();
  const wake = (): void => waiters.forEach((w) => w());

  const waitUntil = <T>(ready: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = ready();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${events.length} events, ${errors.length} errors`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const handle = await store.watch(
    prefix,
    fromRevision,
    (e) => {
      events.push(e);
      wake();
    },
    (err) => {
      errors.push(err);
      wake();
    },
  );
  return {
    events,
    errors,
    handle,
    waitForEvents: (count, timeoutMs = 5000) =>
      waitUntil(() => (events.length >= count ? events.slice(0, count) : undefined), timeoutMs, `${count} events`),
    waitForError: (timeoutMs = 5000) => waitUntil(() => errors[0], timeoutMs, 'a watch error'),
  };
}

import type { WatchEvent } from './datastore';
import { StoreError } from './errors';

/**
 * The delivery rules both adapters share, kept in one place so they cannot drift:
 * nothing is delivered after close() or after an error; onError fires at most once; an
 * exception thrown by onEvent ends the watch (reported through onError) instead of
 * escaping into the adapter, where it would abort a commit (memory) or crash the process
 * (etcd3 rethrows listener errors on a fresh tick).
 */
export class WatchDelivery {
  private ended = false;

  constructor(
    private readonly onEvent: (e: WatchEvent) => void,
    private readonly onError: (err: StoreError) => void,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  deliver(event: WatchEvent): void {
    if (this.ended) return;
    try {
      this.onEvent(event);
    } catch (err) {
      this.fail(new StoreError('internal', 'the watch callback threw; the watch was stopped', { retryable: false, cause: err }));
    }
  }

  fail(err: StoreError): void {
    if (this.ended) return;
    this.ended = true;
    this.onError(err);
  }

  /** Stops delivery silently (the consumer asked for it). */
  end(): void {
    this.ended = true;
  }
}

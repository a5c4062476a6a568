import type { WatchEvent, WatchHandle } from '../datastore';
import type { StoreError } from '../errors';
import { WatchDelivery } from '../watch-delivery';

/**
 * One watch on the in-memory store. Events are queued by commit() and delivered on a later
 * macrotask, as they would arrive from etcd: a commit never runs consumer code, and
 * watch() resolves before the first event is delivered.
 */
export class MemoryWatch implements WatchHandle {
  private queue: WatchEvent[] = [];
  private scheduled = false;
  private readonly delivery: WatchDelivery;

  constructor(
    readonly prefix: string,
    onEvent: (e: WatchEvent) => void,
    onError: (err: StoreError) => void,
    private readonly detach: (watch: MemoryWatch) => void,
  ) {
    this.delivery = new WatchDelivery(onEvent, onError);
  }

  /** Queues the events under this watch's prefix, keeping their revision order. */
  enqueue(events: readonly WatchEvent[]): void {
    if (this.delivery.isEnded) return;
    for (const e of events) if (e.key.startsWith(this.prefix)) this.queue.push({ ...e });
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  async close(): Promise<void> {
    this.delivery.end();
    this.queue = [];
    this.detach(this);
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const e of batch) this.delivery.deliver(e);
  }
}

import type { Datastore, Kv, StoreError, WatchEvent, WatchHandle } from '@atoll/store';

// One datastore prefix kept current: a list, then a watch from the revision after it. When
// the watch ends (etcd compacted past it, or cancelled it), the old watch is closed first,
// then the prefix is listed again and watched from there, so a re-read and the events of
// the watch before it never overlap and nothing between them is missed.

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

export interface PrefixFollowerOptions {
  readonly ds: Datastore;
  readonly prefix: string;
  /** Everything under the prefix now (first load and every re-read). */
  readonly onReset: (items: readonly Kv[]) => void;
  /** One change after the last reset, in revision order. */
  readonly onEvent: (event: WatchEvent) => void;
  /** A load failed; the next try is in `delayMs`. */
  readonly onRetry: (err: unknown, delayMs: number) => void;
  /** The watch ended on its own; the prefix is read again. */
  readonly onRestart: (err: StoreError) => void;
}

export class PrefixFollower {
  private watch: WatchHandle | undefined;
  private closed = false;

  constructor(private readonly opts: PrefixFollowerOptions) {}

  /** Lists and watches, retrying with backoff; resolves once the first load has succeeded (or on close). */
  start(): Promise<void> {
    return this.loadUntilDone();
  }

  async close(): Promise<void> {
    this.closed = true;
    const watch = this.watch;
    this.watch = undefined;
    await watch?.close();
  }

  private async loadUntilDone(): Promise<void> {
    for (let delay = FIRST_RETRY_MS; !this.closed; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
      try {
        await this.load();
        return;
      } catch (err) {
        if (this.closed) return;
        this.opts.onRetry(err, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async load(): Promise<void> {
    const { items, revision } = await this.opts.ds.list(this.opts.prefix);
    if (this.closed) return;
    this.opts.onReset(items);
    const watch = await this.opts.ds.watch(this.opts.prefix, revision + 1n, (e) => this.opts.onEvent(e), (err) => void this.restart(err));
    if (this.closed) await watch.close();
    else this.watch = watch;
  }

  private async restart(err: StoreError): Promise<void> {
    if (this.closed) return;
    this.opts.onRestart(err);
    const watch = this.watch;
    this.watch = undefined;
    await watch?.close().catch(() => undefined);
    await this.loadUntilDone();
  }
}

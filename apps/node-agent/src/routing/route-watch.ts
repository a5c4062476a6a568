import type { RouteUpdate } from '@atoll/api';
import type { ClientReadableStream, StatusObject } from '@grpc/grpc-js';
import type { Logger } from 'pino';

// The agent's WatchRoutes subscription, kept open for as long as the agent runs. When the
// stream ends — an error, or the allocator shutting down (OK) — it subscribes again after a
// backoff (200 ms doubling to 10 s, back to the start once a snapshot has arrived); the new
// stream's snapshot then replaces the agent's state, so nothing missed in between matters.

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 10_000;

export interface RouteWatchOptions {
  readonly open: () => ClientReadableStream<RouteUpdate>;
  readonly onUpdate: (update: RouteUpdate) => void;
  readonly log: Logger;
  /** Called each time a stream is opened (for metrics). */
  readonly onSubscribe?: () => void;
}

export class RouteWatch {
  private stream: ClientReadableStream<RouteUpdate> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs = FIRST_DELAY_MS;
  private stopped = false;

  constructor(private readonly opts: RouteWatchOptions) {}

  start(): void {
    this.subscribe();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.stream = undefined;
  }

  private subscribe(): void {
    if (this.stopped) return;
    const stream = this.opts.open();
    this.stream = stream;
    this.opts.onSubscribe?.();
    stream.on('data', (update: RouteUpdate) => {
      if (update.snapshot) {
        this.delayMs = FIRST_DELAY_MS;
        this.opts.log.info({ nodes: update.nodes.length, blocks: update.blocks.length, borrowed: update.borrowed.length, pools: update.pools.length }, 'route snapshot received');
      }
      this.opts.onUpdate(update);
    });
    stream.on('error', () => undefined); // reported through 'status', once
    stream.on('status', (status: StatusObject) => {
      if (this.stream !== stream || this.stopped) return;
      this.stream = undefined;
      const delay = this.delayMs;
      this.delayMs = Math.min(this.delayMs * 2, MAX_DELAY_MS);
      this.opts.log.warn({ code: status.code, reason: status.details, retryInMs: delay }, 'route watch ended; subscribing again');
      this.retryTimer = setTimeout(() => this.subscribe(), delay);
    });
  }
}

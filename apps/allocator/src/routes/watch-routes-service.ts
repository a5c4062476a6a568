import { IpamService, type RouteUpdate, type WatchRoutesRequest } from '@atoll/api';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RouteChanges } from './route-changes';
import type { RouteMetrics } from './route-metrics';
import type { RouteSubscriber, RouteView } from './route-view';

// WatchRoutes: one subscriber of the shared route view per stream. Messages are encoded
// once for all streams (the view hands out bytes; the service definition below passes
// them through). A stream that cannot keep up is not buffered without bound: while its
// socket is full, its deltas are merged into one, which it gets when the socket drains.

type RouteStream = ServerWritableStream<WatchRoutesRequest, RouteUpdate>;

/**
 * The Ipam service definition with WatchRoutes' messages sent as the bytes the route view
 * encoded (a RouteUpdate object still works, encoded as usual).
 */
export function ipamServiceWithEncodedRoutes(): typeof IpamService {
  const watch = IpamService.watchRoutes;
  return {
    ...IpamService,
    watchRoutes: { ...watch, responseSerialize: (value: RouteUpdate | Buffer) => (Buffer.isBuffer(value) ? value : watch.responseSerialize(value)) },
  };
}

class RouteStreamWriter implements RouteSubscriber {
  private backlog: RouteChanges | undefined;
  private blocked = false;

  constructor(
    private readonly call: RouteStream,
    private readonly metrics: RouteMetrics,
  ) {}

  snapshot(encoded: Buffer): void {
    this.metrics.messages.inc({ kind: 'snapshot' });
    this.write(encoded);
  }

  changes(delta: RouteChanges): void {
    if (this.blocked) {
      (this.backlog ??= new RouteChanges()).mergeFrom(delta);
      return;
    }
    this.metrics.messages.inc({ kind: 'delta' });
    this.write(delta.encode());
  }

  private write(bytes: Buffer): void {
    if (this.call.writableEnded || this.call.destroyed) return;
    if (this.call.write(bytes as unknown as RouteUpdate)) return;
    this.blocked = true;
    this.call.once('drain', () => {
      this.blocked = false;
      const backlog = this.backlog;
      this.backlog = undefined;
      if (backlog && !backlog.isEmpty) this.changes(backlog);
    });
  }
}

export interface WatchRoutesService {
  readonly handler: (call: RouteStream) => void;
  /** Ends every open stream with OK (the allocator is shutting down; clients subscribe again elsewhere). */
  endAll(): void;
}

export function watchRoutesService(view: RouteView, log: Logger, metrics: RouteMetrics): WatchRoutesService {
  const open = new Set<RouteStream>();
  let ending = false;
  const handler = (call: RouteStream) => {
    // A stream authorized while the allocator began to shut down ends at once, like the others.
    if (ending) {
      call.end();
      return;
    }
    const peer = call.getPeer();
    const unsubscribe = view.subscribe(new RouteStreamWriter(call, metrics));
    open.add(call);
    metrics.watchers.set(open.size);
    log.debug({ peer, watchers: open.size }, 'route watcher subscribed');
    let done = false;
    const finish = (why: string) => {
      if (done) return;
      done = true;
      unsubscribe();
      open.delete(call);
      metrics.watchers.set(open.size);
      log.debug({ peer, why, watchers: open.size }, 'route watcher gone');
    };
    call.on('cancelled', () => finish('cancelled'));
    call.on('error', () => finish('error'));
    call.on('finish', () => finish('ended'));
  };
  return {
    handler,
    endAll() {
      ending = true;
      for (const call of [...open]) call.end();
    },
  };
}

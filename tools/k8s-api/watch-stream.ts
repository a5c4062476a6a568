import type { ServerResponse } from 'node:http';
import { stringifyJsonLossless } from '@atoll/model';
import { HistoryExpiredError, type ObjectStore, type StoreEvent } from './object-store';
import type { ResourceType } from './resources';
import type { ObjectPredicate } from './selectors';
import type { KubeObject, WatchEventLine } from './types';

// One watch response: newline-delimited JSON events on a chunked 200 response, as the
// apiserver streams them. Replay from history (or synthetic ADDED events for the current
// state), then live changes, all started in one synchronous step so no change can fall
// between the replay and the subscription.

export interface WatchParams {
  readonly resource: ResourceType;
  /** Selectors, namespace and (for a watch on one object's path) the name, folded into one test. */
  readonly matches: ObjectPredicate;
  /** undefined or 0: start with the current state as ADDED events ("get state and start at most recent"). */
  readonly resourceVersion?: number;
  /** Explicit `sendInitialEvents=true` (watch-list): current state, then an initial-events-end bookmark. */
  readonly sendInitialEvents: boolean;
  readonly allowBookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  /** Ends the stream cleanly after this long, as `timeoutSeconds` asks. */
  readonly timeoutSeconds?: number;
}

/**
 * What one watcher sees of one change. A change that makes an object start matching the
 * watcher's selector is ADDED, one that makes it stop matching is DELETED (carrying the
 * last matching state, stamped with the change's revision) — the apiserver's watch cache
 * does the same, so a field-selected informer never keeps an object that moved away.
 */
export function watchEventFor(event: StoreEvent, matches: ObjectPredicate): WatchEventLine | undefined {
  switch (event.type) {
    case 'ADDED':
      return matches(event.object) ? { type: 'ADDED', object: event.object } : undefined;
    case 'DELETED':
      return matches(event.object) ? { type: 'DELETED', object: event.object } : undefined;
    case 'MODIFIED': {
      const now = matches(event.object);
      const before = event.previous !== undefined && matches(event.previous);
      if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: event.object };
      if (!before) return undefined;
      const last = structuredClone(event.previous!);
      last.metadata.resourceVersion = String(event.resourceVersion);
      return { type: 'DELETED', object: last };
    }
  }
}

export class WatchStream {
  private unsubscribe: (() => void) | undefined;
  /** Changes at or below this revision were already covered (a resume point ahead of now skips them). */
  private startRevision = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly res: ServerResponse,
    private readonly params: WatchParams,
    private readonly onClosed: (stream: WatchStream) => void,
  ) {}

  /** Sends the response head and the first events, then follows the store. */
  start(): void {
    const { params, res } = this;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    res.on('close', () => this.close());

    const rv = params.resourceVersion;
    if (rv === undefined || rv === 0 || params.sendInitialEvents) {
      for (const obj of this.store.list(params.resource.name).items) {
        if (params.matches(obj)) this.send({ type: 'ADDED', object: obj });
      }
      if (params.sendInitialEvents) this.sendBookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      let replay: StoreEvent[];
      try {
        replay = this.store.eventsAfter(rv);
      } catch (err) {
        if (!(err instanceof HistoryExpiredError)) throw err;
        // The apiserver answers 200 with one ERROR event and ends the stream; the client
        // then re-lists (client-node's ListWatch clears its resourceVersion on code 410).
        this.send({ type: 'ERROR', object: { ...err.status } });
        this.close();
        return;
      }
      this.startRevision = rv;
      for (const event of replay) this.forward(event);
    }
    this.unsubscribe = this.store.subscribe((event) => this.forward(event));

    if (params.allowBookmarks && params.bookmarkIntervalMs > 0) {
      this.timers.push(setInterval(() => this.sendBookmark(), params.bookmarkIntervalMs));
    }
    if (params.timeoutSeconds !== undefined && params.timeoutSeconds > 0) {
      this.timers.push(setTimeout(() => this.close(), params.timeoutSeconds * 1000));
    }
  }

  /** Ends the stream cleanly (the client sees the body end, as at a server-side timeout). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    if (!this.res.writableEnded) this.res.end();
    this.onClosed(this);
  }

  private forward(event: StoreEvent): void {
    if (event.resource !== this.params.resource.name || event.resourceVersion <= this.startRevision) return;
    const line = watchEventFor(event, this.params.matches);
    if (line) this.send(line);
  }

  /**
   * A bookmark carries only a resourceVersion (an object of the watched kind, otherwise
   * empty): the newest revision, since every change up to it has already been sent.
   */
  private sendBookmark(annotations?: Record<string, string>): void {
    const object: KubeObject = {
      kind: this.params.resource.kind,
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.store.currentRevision()), ...(annotations ? { annotations } : {}) },
    };
    this.send({ type: 'BOOKMARK', object });
  }

  private send(line: WatchEventLine): void {
    if (this.closed || this.res.writableEnded) return;
    try {
      this.res.write(`${stringifyJsonLossless(line)}\n`);
    } catch {
      // The store calls us inside a commit that has already happened: a broken stream
      // must end itself, never fail the writer.
      this.close();
    }
  }
}

import type { RouteNode, RoutePool } from '@atoll/api';
import { formatCidr } from '@atoll/ipmath';
import { blockPrefix, parseBlockKey, parseResourceKey, resourcePrefix } from '@atoll/model';
import type { Datastore, Kv, WatchEvent } from '@atoll/store';
import type { Logger } from 'pino';
import { PrefixFollower } from './prefix-follower';
import { RouteChanges } from './route-changes';
import { blockRoutesOf, routeNodeOf, routePoolOf, type BlockRoutes } from './route-records';
import { RouteTable } from './route-table';

// The one route view of an allocator, shared by every WatchRoutes stream: blocks, nodes and
// pools read once and kept current by three etcd watches, whatever the number of streams.
// Changes are gathered for `flushDelayMs` and sent to every subscriber as one delta.

const DEFAULT_FLUSH_DELAY_MS = 50;

export interface RouteSubscriber {
  /** Everything, as the first message; the bytes of a RouteUpdate with `snapshot` set. */
  snapshot(encoded: Buffer): void;
  /** What changed since the snapshot or the previous delta. Shared: never modify it. */
  changes(delta: RouteChanges): void;
}

export interface RouteViewOptions {
  readonly log: Logger;
  readonly flushDelayMs?: number;
}

export class RouteView {
  private readonly table = new RouteTable();
  private pending = new RouteChanges();
  private readonly active = new Set<RouteSubscriber>();
  /** Subscribed before the first load finished: they get their snapshot when it has. */
  private readonly waiting = new Set<RouteSubscriber>();
  private followers: PrefixFollower[] | undefined;
  private loaded = false;
  private closed = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly flushDelayMs: number;

  constructor(
    private readonly ds: Datastore,
    private readonly opts: RouteViewOptions,
  ) {
    this.flushDelayMs = opts.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
  }

  get subscriberCount(): number {
    return this.active.size + this.waiting.size;
  }

  /**
   * Adds a subscriber: its snapshot now (or once the view has first loaded), then every
   * delta. The view reads etcd only from the first subscription on, so an allocator whose
   * nodes do not route pays nothing. Returns the unsubscribe function.
   */
  subscribe(subscriber: RouteSubscriber): () => void {
    if (this.closed) throw new Error('the route view is closed');
    this.start();
    if (this.loaded) {
      // Whoever is already subscribed gets the pending changes first; the newcomer's snapshot includes them.
      this.flush();
      this.active.add(subscriber);
      subscriber.snapshot(this.table.encodeSnapshot());
    } else {
      this.waiting.add(subscriber);
    }
    return () => {
      this.active.delete(subscriber);
      this.waiting.delete(subscriber);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.active.clear();
    this.waiting.clear();
    await Promise.all((this.followers ?? []).map((f) => f.close()));
  }

  private start(): void {
    if (this.followers) return;
    const follow = (prefix: string, what: string, onReset: (items: readonly Kv[]) => void, onEvent: (e: WatchEvent) => void) =>
      new PrefixFollower({
        ds: this.ds,
        prefix,
        onReset: (items) => this.changeWith(() => onReset(items)),
        onEvent: (e) => this.changeWith(() => onEvent(e)),
        onRetry: (err, delayMs) => this.opts.log.warn({ what, reason: (err as Error).message, retryInMs: delayMs }, 'route view cannot read etcd yet'),
        onRestart: (err) => this.opts.log.warn({ what, reason: err.message }, 'route view watch ended; reading again'),
      });
    this.followers = [
      follow(blockPrefix(), 'blocks', (items) => this.resetBlocks(items), (e) => this.onBlockEvent(e)),
      follow(resourcePrefix('nodes'), 'nodes', (items) => this.resetNodes(items), (e) => this.onNodeEvent(e)),
      follow(resourcePrefix('ippools'), 'pools', (items) => this.resetPools(items), (e) => this.onPoolEvent(e)),
    ];
    void Promise.all(this.followers.map((f) => f.start())).then(() => this.markLoaded());
  }

  private markLoaded(): void {
    if (this.closed) return;
    this.loaded = true;
    // Nobody has seen anything yet: what the loads recorded is in every snapshot.
    this.pending = new RouteChanges();
    for (const subscriber of this.waiting) {
      this.active.add(subscriber);
      subscriber.snapshot(this.table.encodeSnapshot());
    }
    this.waiting.clear();
    this.opts.log.info({ subscribers: this.active.size }, 'route view loaded');
  }

  private changeWith(apply: () => void): void {
    apply();
    if (this.loaded && !this.pending.isEmpty && this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => this.flush(), this.flushDelayMs);
    }
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.loaded || this.pending.isEmpty) return;
    const delta = this.pending;
    this.pending = new RouteChanges();
    for (const subscriber of this.active) subscriber.changes(delta);
  }

  private resetBlocks(items: readonly Kv[]): void {
    const entries = new Map<string, BlockRoutes>();
    for (const kv of items) {
      const cidr = parseBlockKey(kv.key);
      const routes = cidr && blockRoutesOf(cidr, kv.value);
      if (cidr && routes) entries.set(formatCidr(cidr), routes);
    }
    this.table.replaceBlocks(entries, this.pending);
  }

  private onBlockEvent(e: WatchEvent): void {
    const cidr = parseBlockKey(e.key);
    if (!cidr) return;
    const routes = e.type === 'put' && e.value !== undefined ? blockRoutesOf(cidr, e.value) : undefined;
    this.table.setBlock(formatCidr(cidr), routes, this.pending);
  }

  private resetNodes(items: readonly Kv[]): void {
    const entries = new Map<string, RouteNode>();
    for (const kv of items) {
      const name = parseResourceKey(kv.key)?.name;
      if (name) entries.set(name, routeNodeOf(name, kv.value));
    }
    this.table.replaceNodes(entries, this.pending);
  }

  private onNodeEvent(e: WatchEvent): void {
    const name = parseResourceKey(e.key)?.name;
    if (!name) return;
    this.table.setNode(name, e.type === 'put' && e.value !== undefined ? routeNodeOf(name, e.value) : undefined, this.pending);
  }

  private resetPools(items: readonly Kv[]): void {
    const entries = new Map<string, RoutePool>();
    for (const kv of items) {
      const name = parseResourceKey(kv.key)?.name;
      const pool = name && routePoolOf(name, kv.value);
      if (name && pool) entries.set(name, pool);
    }
    this.table.replacePools(entries, this.pending);
  }

  private onPoolEvent(e: WatchEvent): void {
    const name = parseResourceKey(e.key)?.name;
    if (!name) return;
    this.table.setPool(name, e.type === 'put' && e.value !== undefined ? routePoolOf(name, e.value) : undefined, this.pending);
  }
}

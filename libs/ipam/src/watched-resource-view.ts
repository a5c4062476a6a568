import { DEFAULT_IPAM_CONFIG, decodeIpamConfig, ipamConfigKey, IpamConfig, IPPool, IPReservation, Node, parseJsonLossless, parseResourceKey } from '@atoll/model';
import { Datastore, StoreError, WatchEvent, WatchHandle } from '@atoll/store';
import { AppliedRevision } from './applied-revision';
import { IpamError } from './errors';
import { io } from './io';
import { ReservedAddresses } from './pools/reservations';
import type { IpamContext, ResourceView } from './resource-view';
import { nodeViewOf, poolViewOf, StoreResourceView } from './store-resource-view';
import type { NodeView, PoolView } from './types';

const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';
const RESTART_DELAY_MS = 500;
const MAX_LOAD_RETRY_MS = 10_000;
/**
 * How long waitForWrite trusts the watch before re-reading instead. A healthy watch
 * delivers in milliseconds; the bound is generous because the fallback lists every
 * resource, which is what made writes slow at scale.
 */
const DEFAULT_WRITE_VISIBILITY_TIMEOUT_MS = 5_000;

export interface WatchedResourceViewOptions {
  /** See DEFAULT_WRITE_VISIBILITY_TIMEOUT_MS. */
  readonly writeVisibilityTimeoutMs?: number;
}

/**
 * One watched prefix. Each watch delivers its own keys in revision order, but the two
 * watches are independent: a config event at revision 12 says nothing about whether the
 * resources watch has delivered revision 11 yet. So each prefix tracks its own revisions.
 */
interface WatchedPrefix {
  readonly prefix: string;
  /** The revision of the last re-read applied; events at or below it are already in it. */
  floor: bigint;
  /** Everything under the prefix up to this revision is applied (re-read or events). */
  readonly applied: AppliedRevision;
  /** Forgets what the prefix held, before a re-read is applied. */
  readonly clear: () => void;
}

/**
 * Pools, reservations, nodes and the IPAM config kept in memory and current by datastore
 * watches, so an allocation reads none of them. A node missing from the cache is read
 * from the datastore (it may have registered a moment ago through another replica).
 * Staleness is bounded by watch delay and is safe: every write still compares revisions.
 * A writer that needs its own write visible (read-your-writes) calls waitForWrite.
 */
export class WatchedResourceView implements ResourceView {
  private readonly pools = new Map<string, PoolView>();
  private readonly reservations = new Map<string, readonly string[]>();
  private readonly nodes = new Map<string, NodeView>();
  private config: IpamConfig = DEFAULT_IPAM_CONFIG;
  private snapshot: IpamContext | undefined;
  private watches: WatchHandle[] = [];
  /** True while both watches run; false before the first load and while a broken watch is being restarted. */
  private watching = false;
  private closed = false;
  private loaded = false;
  private readonly loadWaiters: (() => void)[] = [];
  private readonly resources: WatchedPrefix = {
    prefix: RESOURCES_PREFIX,
    floor: 0n,
    applied: new AppliedRevision(),
    clear: () => {
      this.pools.clear();
      this.reservations.clear();
      this.nodes.clear();
    },
  };
  private readonly configPrefix: WatchedPrefix = {
    prefix: ipamConfigKey(),
    floor: 0n,
    applied: new AppliedRevision(),
    clear: () => {
      this.config = DEFAULT_IPAM_CONFIG;
    },
  };
  private readonly direct: StoreResourceView;
  private readonly writeVisibilityTimeoutMs: number;

  private constructor(
    private readonly ds: Datastore,
    opts: WatchedResourceViewOptions,
  ) {
    this.direct = new StoreResourceView(ds);
    this.writeVisibilityTimeoutMs = opts.writeVisibilityTimeoutMs ?? DEFAULT_WRITE_VISIBILITY_TIMEOUT_MS;
  }

  static async start(ds: Datastore, opts: WatchedResourceViewOptions = {}): Promise<WatchedResourceView> {
    const view = new WatchedResourceView(ds, opts);
    await view.load();
    view.markLoaded();
    return view;
  }

  /**
   * Returns at once and loads in the background, retrying with backoff while the datastore
   * is unreachable — a process can start (and report not-ready) before etcd is up. Until
   * the first load, context() fails with a retryable `unavailable` error.
   */
  static startInBackground(
    ds: Datastore,
    onRetry: (err: unknown, delayMs: number) => void = () => undefined,
    opts: WatchedResourceViewOptions = {},
  ): WatchedResourceView {
    const view = new WatchedResourceView(ds, opts);
    const attempt = async (delay: number): Promise<void> => {
      if (view.closed) return;
      try {
        await view.load();
        view.markLoaded();
      } catch (err) {
        onRetry(err, delay);
        await new Promise((r) => setTimeout(r, delay));
        return attempt(Math.min(delay * 2, MAX_LOAD_RETRY_MS));
      }
    };
    void attempt(RESTART_DELAY_MS);
    return view;
  }

  /** True once pools, reservations, nodes and config have been read at least once. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Resolves when the first load has succeeded (at once if it has). */
  whenLoaded(): Promise<void> {
    return this.loaded ? Promise.resolve() : new Promise((resolve) => this.loadWaiters.push(resolve));
  }

  private markLoaded(): void {
    this.loaded = true;
    for (const resolve of this.loadWaiters.splice(0)) resolve();
  }

  async context(): Promise<IpamContext> {
    if (!this.loaded) throw new IpamError('unavailable', 'the allocator has not read its pools from etcd yet (etcd unreachable); try again');
    if (!this.snapshot) {
      const pools = [...this.pools.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
      this.snapshot = { pools, reservations: new ReservedAddresses([...this.reservations.values()].flat()), config: this.config };
    }
    return this.snapshot;
  }

  async node(name: string): Promise<NodeView | undefined> {
    return this.nodes.get(name) ?? this.direct.node(name);
  }

  /**
   * Resolves once this view shows the write of `key` committed at `revision` (or anything
   * later), so that the writer's next request sees it (read-your-writes). Costs nothing
   * but the wait: the watch delivers that very revision, since it is a change of a watched
   * key. Only when the watch is down, or has not delivered within the bound (a stalled
   * stream that has not reported an error), does it re-read everything once — correct in
   * every case, just expensive. Keys outside the watched prefixes resolve at once. A write
   * whose revision is unknown (undefined) has nothing to wait for, so it re-reads at once.
   */
  async waitForWrite(key: string, revision: bigint | undefined): Promise<void> {
    const watched = this.prefixOf(key);
    if (!watched || this.closed) return;
    if (revision !== undefined) {
      if (watched.applied.value >= revision) return;
      if (this.watching && (await watched.applied.reach(revision, this.writeVisibilityTimeoutMs))) return;
    }
    if (this.closed) return;
    await io(() => this.refresh());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watching = false;
    await Promise.all(this.watches.map((w) => w.close()));
    this.watches = [];
    this.resources.applied.abandonAll();
    this.configPrefix.applied.abandonAll();
  }

  /**
   * Re-reads everything now and applies it, so that writes that completed before this call
   * are visible when it resolves. Watch events older than the re-read are then ignored.
   */
  async refresh(): Promise<void> {
    const [resources, config] = await Promise.all([this.ds.list(RESOURCES_PREFIX), this.ds.list(ipamConfigKey())]);
    this.replace(this.resources, resources);
    this.replace(this.configPrefix, config);
  }

  private prefixOf(key: string): WatchedPrefix | undefined {
    if (key === ipamConfigKey()) return this.configPrefix;
    if (key.startsWith(RESOURCES_PREFIX)) return this.resources;
    return undefined;
  }

  /** Replaces what a prefix holds with a re-read of it (`revision`: the store revision of the read). */
  private replace(watched: WatchedPrefix, read: { items: { key: string; value: string; revision: bigint }[]; revision: bigint }): void {
    // Re-reads can overlap each other and watch events: one read before a change the view
    // has already applied would take the view back, and the change's event is not coming again.
    if (read.revision < watched.applied.value) return;
    this.snapshot = undefined;
    watched.clear();
    for (const kv of read.items) this.apply({ type: 'put', key: kv.key, value: kv.value, revision: kv.revision });
    if (read.revision > watched.floor) watched.floor = read.revision;
    watched.applied.advance(read.revision);
  }

  private async load(): Promise<void> {
    await this.refresh();
    const onError = (err: StoreError) => void this.restart(err);
    const started = await Promise.allSettled(
      [this.resources, this.configPrefix].map((watched) =>
        this.ds.watch(watched.prefix, watched.floor + 1n, (e) => this.onEvent(watched, e), onError),
      ),
    );
    const watches = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      // Half a view would miss changes silently: stop the watch that did start, and retry both.
      await Promise.all(watches.map((w) => w.close().catch(() => undefined)));
      throw failed.reason;
    }
    this.watches = watches;
    this.watching = true;
  }

  private onEvent(watched: WatchedPrefix, e: WatchEvent): void {
    // Compared with the floor, not the applied revision: the events of one transaction
    // share a revision, and the second must not be taken for already applied.
    if (e.revision <= watched.floor) return;
    this.apply(e);
    watched.applied.advance(e.revision);
  }

  private async restart(_err: StoreError): Promise<void> {
    if (this.closed || !this.watching) return;
    this.watching = false;
    await Promise.all(this.watches.map((w) => w.close().catch(() => undefined)));
    while (!this.closed) {
      try {
        await this.load();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
      }
    }
  }

  private apply(e: WatchEvent): void {
    this.snapshot = undefined;
    if (e.key === ipamConfigKey()) {
      this.config = e.type === 'put' && e.value !== undefined ? safe(() => decodeIpamConfig(e.value!)) ?? DEFAULT_IPAM_CONFIG : DEFAULT_IPAM_CONFIG;
      return;
    }
    const id = parseResourceKey(e.key);
    if (!id) return;
    const value = e.type === 'put' && e.value !== undefined ? safe(() => parseJsonLossless(e.value!) as unknown) : undefined;
    if (id.plural === 'ippools') {
      const view = value === undefined ? undefined : poolViewOf(value as IPPool);
      if (view) this.pools.set(e.key, view);
      else this.pools.delete(e.key);
    } else if (id.plural === 'ipreservations') {
      const cidrs = (value as IPReservation | undefined)?.spec?.reservedCIDRs;
      if (Array.isArray(cidrs)) this.reservations.set(e.key, cidrs);
      else this.reservations.delete(e.key);
    } else if (id.plural === 'nodes') {
      if (value === undefined) this.nodes.delete(id.name);
      else this.nodes.set(id.name, nodeViewOf(value as Node));
    }
  }
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

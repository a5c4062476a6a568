import { DEFAULT_IPAM_CONFIG, decodeIpamConfig, ipamConfigKey, IpamConfig, IPPool, IPReservation, Node, parseJsonLossless, parseResourceKey } from '@atoll/model';
import { Datastore, StoreError, WatchEvent, WatchHandle } from '@atoll/store';
import { IpamError } from './errors';
import { ReservedAddresses } from './pools/reservations';
import type { IpamContext, ResourceView } from './resource-view';
import { nodeViewOf, poolViewOf, StoreResourceView } from './store-resource-view';
import type { NodeView, PoolView } from './types';

const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';
const RESTART_DELAY_MS = 500;
const MAX_LOAD_RETRY_MS = 10_000;

/**
 * Pools, reservations, nodes and the IPAM config kept in memory and current by datastore
 * watches, so an allocation reads none of them. A node missing from the cache is read
 * from the datastore (it may have registered a moment ago through another replica).
 * Staleness is bounded by watch delay and is safe: every write still compares revisions.
 */
export class WatchedResourceView implements ResourceView {
  private readonly pools = new Map<string, PoolView>();
  private readonly reservations = new Map<string, readonly string[]>();
  private readonly nodes = new Map<string, NodeView>();
  private config: IpamConfig = DEFAULT_IPAM_CONFIG;
  private snapshot: IpamContext | undefined;
  private watches: WatchHandle[] = [];
  private closed = false;
  private loaded = false;
  private readonly loadWaiters: (() => void)[] = [];
  private appliedRevision = 0n;
  /** Revisions of the last re-read per prefix; events at or below them are already applied. */
  private resourcesFloor = 0n;
  private configFloor = 0n;
  private readonly waiters: { revision: bigint; resolve: () => void }[] = [];
  private readonly direct: StoreResourceView;

  private constructor(private readonly ds: Datastore) {
    this.direct = new StoreResourceView(ds);
  }

  static async start(ds: Datastore): Promise<WatchedResourceView> {
    const view = new WatchedResourceView(ds);
    await view.load();
    view.markLoaded();
    return view;
  }

  /**
   * Returns at once and loads in the background, retrying with backoff while the datastore
   * is unreachable — a process can start (and report not-ready) before etcd is up. Until
   * the first load, context() fails with a retryable `unavailable` error.
   */
  static startInBackground(ds: Datastore, onRetry: (err: unknown, delayMs: number) => void = () => undefined): WatchedResourceView {
    const view = new WatchedResourceView(ds);
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

  /** The revision up to which changes have been applied. */
  get revision(): bigint {
    return this.appliedRevision;
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
   * Resolves once every change up to `revision` is applied. Pass the revision of a write to
   * a watched key (a pool, reservation, node or the config): other keys' revisions are never
   * announced by these watches.
   */
  waitForRevision(revision: bigint): Promise<void> {
    if (this.appliedRevision >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.watches.map((w) => w.close()));
    this.watches = [];
  }

  /**
   * Re-reads everything now and applies it, so that writes that completed before this call
   * are visible when it resolves (read-your-writes after a resource change). Watch events
   * older than the re-read are then ignored.
   */
  async refresh(): Promise<void> {
    const [resources, config] = await Promise.all([this.ds.list(RESOURCES_PREFIX), this.ds.list(ipamConfigKey())]);
    this.pools.clear();
    this.reservations.clear();
    this.nodes.clear();
    this.config = DEFAULT_IPAM_CONFIG;
    for (const kv of [...resources.items, ...config.items]) this.apply({ type: 'put', key: kv.key, value: kv.value, revision: kv.revision });
    // Each prefix was read at its own revision: events up to it are in the read.
    if (resources.revision > this.resourcesFloor) this.resourcesFloor = resources.revision;
    if (config.revision > this.configFloor) this.configFloor = config.revision;
    this.advance(resources.revision < config.revision ? resources.revision : config.revision);
  }

  private async load(): Promise<void> {
    await this.refresh();
    const onError = (err: StoreError) => void this.restart(err);
    this.watches = await Promise.all([
      this.ds.watch(RESOURCES_PREFIX, this.resourcesFloor + 1n, (e) => this.onEvent(e), onError),
      this.ds.watch(ipamConfigKey(), this.configFloor + 1n, (e) => this.onEvent(e), onError),
    ]);
  }

  private onEvent(e: WatchEvent): void {
    const floor = e.key === ipamConfigKey() ? this.configFloor : this.resourcesFloor;
    if (e.revision <= floor) return; // already part of the last re-read
    this.apply(e);
    this.advance(e.revision);
  }

  private async restart(_err: StoreError): Promise<void> {
    if (this.closed) return;
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

  private advance(revision: bigint): void {
    if (revision <= this.appliedRevision) return;
    this.appliedRevision = revision;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.revision <= revision) this.waiters.splice(i, 1)[0]!.resolve();
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

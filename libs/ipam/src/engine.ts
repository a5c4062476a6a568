import { IpamConfig } from '@atoll/model';
import { Datastore } from '@atoll/store';
import { Allocation, AllocationFilter, listAllocations } from './allocations';
import { checkConsistency, CheckReport } from './check';
import { claimAffinity, releaseAffinity, releaseHostAffinities, releasePoolAffinities } from './affinity/host-affinities';
import { assignSpecificIp } from './assign/assign-ip';
import { handOffIp } from './assign/hand-off';
import { HostAffinityCache } from './assign/affinity-cache';
import { BlockCache } from './assign/block-cache';
import { autoAssignBatch } from './assign/auto-assign';
import { getIpamConfig, updateIpamConfig } from './config';
import { IpamError, Messages } from './errors';
import { HistoryLog, HistoryRecordingDatastore } from './history';
import { KeyedQueue } from './keyed-queue';
import type {
  AssignIpRequest,
  AssignmentAttributes,
  AutoAssignRequest,
  AutoAssignResult,
  ClaimAffinityResult,
  HandOffRequest,
  HandOffResult,
  Ipam,
  ReleaseIpsResult,
  ReleaseOptions,
  Utilization,
} from './ipam';
import { IpamRecords } from './io';
import { assignmentAttributes } from './release/attributes';
import { BlockReleaser } from './release/block-releaser';
import { HandleLocations } from './release/handle-locations';
import { ipsByHandle, releaseByHandle } from './release/by-handle';
import { releaseIps } from './release/release-ips';
import type { ResourceView } from './resource-view';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from './retry';
import { StoreResourceView } from './store-resource-view';
import { computeUtilization } from './utilization';

export interface IpamEngineOptions {
  readonly datastore: Datastore;
  /** Where pools, reservations, config and nodes are read; defaults to the datastore itself. */
  readonly resources?: ResourceView;
  readonly now?: () => Date;
  readonly retry?: RetryPolicy;
  /**
   * Most requests of one host (allocations) or of one block (releases, counted by the
   * handles they name) served by one transaction. Each adds a handle (and maybe a block)
   * to the transaction; etcd allows 128 operations in one.
   */
  readonly maxBatch?: number;
  /** Blocks kept for planning without a read (see BlockCache); default DEFAULT_BLOCK_CACHE_SIZE. */
  readonly blockCacheSize?: number;
  /** When given, every transaction that assigns or releases addresses also records them (see history/). */
  readonly history?: HistoryLog;
}

type HostTask = { kind: 'auto'; req: AutoAssignRequest } | { kind: 'ip'; req: AssignIpRequest };
type HostResult = AutoAssignResult | string;

const DEFAULT_MAX_BATCH = 32;

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 65536) {
    throw new IpamError('invalid-argument', `${name} must be an integer between 0 and 65536, got ${n}`);
  }
}

/** Bounds that keep every block and handle write far inside etcd's 1.5 MiB request limit. */
export const MAX_HANDLE_ID_LENGTH = 512;
const MAX_ATTRIBUTES = 32;
const MAX_ATTRIBUTE_KEY_LENGTH = 253;
const MAX_ATTRIBUTE_VALUE_LENGTH = 1024;

function checkAttributes(attrs: Readonly<Record<string, string>> | undefined): void {
  const entries = Object.entries(attrs ?? {});
  if (entries.length > MAX_ATTRIBUTES) throw new IpamError('invalid-argument', `attributes: at most ${MAX_ATTRIBUTES} entries, got ${entries.length}`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > MAX_ATTRIBUTE_KEY_LENGTH) throw new IpamError('invalid-argument', `attributes: key of ${k.length} characters (1 to ${MAX_ATTRIBUTE_KEY_LENGTH} allowed)`);
    if (typeof v !== 'string' || v.length > MAX_ATTRIBUTE_VALUE_LENGTH) {
      throw new IpamError('invalid-argument', `attributes: value of ${JSON.stringify(k.slice(0, 40))} is longer than ${MAX_ATTRIBUTE_VALUE_LENGTH} characters`);
    }
  }
}

function checkName(name: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) throw new IpamError('invalid-argument', `${name} must be a non-empty string`);
  if (v.length > MAX_HANDLE_ID_LENGTH) throw new IpamError('invalid-argument', `${name} must be at most ${MAX_HANDLE_ID_LENGTH} characters, got ${v.length}`);
  if (v.includes('/') && name === 'hostname') throw new IpamError('invalid-argument', `hostname "${v}" must not contain "/"`);
}

/**
 * The IPAM engine: Calico's semantics over the datastore port. Allocations for one host go
 * through a per-host queue and releases in one block through a per-block queue (see
 * KeyedQueue, BlockReleaser); everything else runs concurrently. Correctness relies on
 * compare-and-swap alone, so several engines (allocator replicas) can share one datastore.
 */
export class IpamEngine implements Ipam {
  private readonly ds: Datastore;
  private readonly resources: ResourceView;
  private readonly now: () => Date;
  private readonly retry: RetryPolicy;
  private readonly hostQueue: KeyedQueue<HostTask, HostResult>;
  private readonly blockReleaser: BlockReleaser;
  private readonly affinityCache = new HostAffinityCache();
  private readonly blockCache: BlockCache;
  private readonly handleLocations = new HandleLocations();
  /** Assignments in progress on this engine, by handle: settle (never reject) when done. */
  private readonly assignments = new Map<string, Promise<void>>();

  constructor(opts: IpamEngineOptions) {
    this.ds = opts.history ? new HistoryRecordingDatastore(opts.datastore, opts.history) : opts.datastore;
    this.resources = opts.resources ?? new StoreResourceView(opts.datastore);
    this.now = opts.now ?? (() => new Date());
    this.retry = opts.retry ?? DEFAULT_RETRY_POLICY;
    const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.blockCache = new BlockCache(opts.blockCacheSize);
    this.hostQueue = new KeyedQueue((host, tasks) => this.runHostBatch(host, tasks), maxBatch);
    this.blockReleaser = new BlockReleaser({ ds: this.ds, now: this.now, retry: this.retry, blockCache: this.blockCache }, maxBatch);
  }

  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    checkCount('num4', req.num4);
    checkCount('num6', req.num6);
    checkName('handleId', req.handleId);
    checkName('hostname', req.hostname);
    checkAttributes(req.attributes);
    if (!req.intendedUse) throw new IpamError('invalid-argument', Messages.mustSpecifyUse);
    const result = (await this.assigning(req.handleId, this.hostQueue.submit(req.hostname, { kind: 'auto', req }))) as AutoAssignResult;
    this.handleLocations.learn(req.handleId, [...result.ipv4.ips, ...result.ipv6.ips]);
    return result;
  }

  /**
   * Tracks an assignment under its handle until it settles, so that a release of the same
   * handle on this engine waits for it (see releaseByHandle).
   */
  private assigning<T>(handleId: string, work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.assignments.set(handleId, settled);
    void settled.then(() => {
      if (this.assignments.get(handleId) === settled) this.assignments.delete(handleId);
    });
    return work;
  }

  async assignIP(req: AssignIpRequest): Promise<string> {
    checkName('handleId', req.handleId);
    checkName('hostname', req.hostname);
    checkAttributes(req.attributes);
    return (await this.assigning(req.handleId, this.hostQueue.submit(req.hostname, { kind: 'ip', req }))) as string;
  }

  async handOffIP(req: HandOffRequest): Promise<HandOffResult> {
    checkName('handleId', req.handleId);
    checkName('fromHandleId', req.fromHandleId);
    checkAttributes(req.attributes);
    const ctx = await this.resources.context();
    return this.assigning(req.handleId, handOffIp({ ds: this.ds, now: this.now, retry: this.retry }, ctx, req));
  }

  private async runHostBatch(host: string, batch: readonly HostTask[]): Promise<(HostResult | Error)[]> {
    // A request whose caller went away while it waited is not started: its runtime has been
    // told to try again and sends a DEL, so an assignment made now would only have to be
    // released again (or leak, if the DEL went through first).
    const gone = batch.map((t) => t.req.signal?.aborted === true);
    const tasks = batch.filter((_, i) => !gone[i]);
    const served = tasks.length === 0 ? [] : await this.serveHostTasks(host, tasks);
    let next = 0;
    return gone.map((isGone) => (isGone ? new IpamError('unavailable', 'the request was cancelled by its caller before it started') : served[next++]!));
  }

  private async serveHostTasks(host: string, tasks: readonly HostTask[]): Promise<(HostResult | Error)[]> {
    const ctx = await this.resources.context();
    const results: (HostResult | Error)[] = new Array(tasks.length);
    const autos: number[] = [];
    tasks.forEach((t, i) => t.kind === 'auto' && autos.push(i));
    if (autos.length > 0) {
      const node = await this.resources.node(host);
      if (!node) {
        for (const i of autos) results[i] = new IpamError('node-not-found', Messages.nodeNotFound(host));
      } else {
        const out = await autoAssignBatch(
          { ds: this.ds, now: this.now, retry: this.retry, affinityCache: this.affinityCache, blockCache: this.blockCache },
          host,
          ctx,
          node,
          autos.map((i) => (tasks[i] as { req: AutoAssignRequest }).req),
        );
        autos.forEach((ti, j) => (results[ti] = out[j]!));
      }
    }
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t.kind !== 'ip') continue;
      try {
        results[i] = await assignSpecificIp({ ds: this.ds, now: this.now, retry: this.retry }, ctx, t.req);
      } catch (err) {
        results[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
    return results;
  }

  async releaseIPs(opts: readonly ReleaseOptions[]): Promise<ReleaseIpsResult> {
    const ctx = await this.resources.context();
    return releaseIps({ ds: this.ds, releaser: this.blockReleaser }, ctx, opts);
  }

  async releaseByHandle(handleId: string): Promise<string[]> {
    checkName('handleId', handleId);
    // A release that overtakes its own pod's assignment (the runtime gave up on the ADD,
    // whose caller went away, and sent the DEL while the assignment still waited here)
    // would find nothing and the assignment would land after it: a leak. It waits instead.
    await this.assignments.get(handleId);
    const ctx = await this.resources.context();
    return releaseByHandle(
      { ds: this.ds, now: this.now, retry: this.retry, cooldownSeconds: ctx.config.ipCooldownSeconds, releaser: this.blockReleaser, locations: this.handleLocations },
      handleId,
    );
  }

  async ipsByHandle(handleId: string): Promise<string[]> {
    checkName('handleId', handleId);
    return ipsByHandle(this.ds, handleId);
  }

  async getAssignmentAttributes(ip: string): Promise<AssignmentAttributes> {
    const ctx = await this.resources.context();
    return assignmentAttributes(this.ds, ctx, ip, this.now());
  }

  async claimAffinity(cidr: string, host: string): Promise<ClaimAffinityResult> {
    checkName('hostname', host);
    return claimAffinity(this.ds, await this.resources.context(), cidr, host, this.now());
  }

  async releaseAffinity(cidr: string, host: string, opts: { mustBeEmpty: boolean }): Promise<void> {
    checkName('hostname', host);
    await releaseAffinity(this.ds, await this.resources.context(), cidr, host, opts.mustBeEmpty);
  }

  async releaseHostAffinities(host: string, opts: { mustBeEmpty: boolean }): Promise<void> {
    checkName('hostname', host);
    await releaseHostAffinities(this.ds, host, opts.mustBeEmpty);
  }

  async releasePoolAffinities(poolCidr: string): Promise<void> {
    await releasePoolAffinities(this.ds, poolCidr);
  }

  getIPAMConfig(): Promise<IpamConfig> {
    return getIpamConfig(this.ds);
  }

  async setIPAMConfig(config: IpamConfig): Promise<void> {
    await updateIpamConfig(this.ds, () => config);
  }

  /** Changes only the given fields (read, merge, validate, compare-and-swap write). */
  updateIPAMConfig(patch: Partial<IpamConfig>): Promise<IpamConfig> {
    return updateIpamConfig(this.ds, (current) => ({ ...current, ...patch }));
  }

  /** Every live allocation, optionally one node's or one handle prefix's. */
  listAllocations(filter: AllocationFilter = {}): Promise<Allocation[]> {
    return listAllocations(this.ds, filter);
  }

  /** A consistency report over the datastore (see CheckReport). */
  async check(): Promise<CheckReport> {
    const ctx = await this.resources.context();
    return checkConsistency(this.ds, ctx.pools, this.now());
  }

  async getUtilization(opts: { poolNames?: readonly string[] } = {}): Promise<Utilization> {
    const ctx = await this.resources.context();
    const pools = opts.poolNames ? ctx.pools.filter((p) => opts.poolNames!.includes(p.name)) : ctx.pools;
    const blocks = await new IpamRecords(this.ds).listBlocks();
    return computeUtilization(pools, blocks, ctx.reservations);
  }
}

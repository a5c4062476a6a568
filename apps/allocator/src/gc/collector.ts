import { AttributeKeys } from '@atoll/model';
import {
  CollectionPlanner,
  podAllocationValidity,
  type CollectionPlan,
  type EmptyBlockRelease,
  type HandleRelease,
  type IpamEngine,
  type IpamGcOperations,
  type PoolView,
} from '@atoll/ipam';
import type { Logger } from 'pino';
import { NO_POOL_LABEL, poolLabeller, publishCandidates, UNKNOWN_NODE_LABEL, type GcMetrics } from './gc-metrics';
import type { KubeView } from './kube-view';
import { StickyReleases } from './sticky-releases';

export interface LeakCollectorDeps {
  readonly engine: Pick<IpamEngine, 'releaseIPs' | 'releaseHostAffinities'>;
  readonly operations: Pick<IpamGcOperations, 'scan' | 'freeCooledDownAddresses' | 'releaseEmptyBlock'>;
  readonly kube: KubeView;
  /** The pools, for metric labels. */
  readonly pools: () => Promise<readonly PoolView[]>;
  readonly metrics: GcMetrics;
  readonly log: Logger;
  /** Checked before every release: false stops the pass at once (the lease was lost). */
  readonly isLeader: () => boolean;
  /** Milliseconds on a clock that only moves forward at its own pace (default: monotonic). */
  readonly now?: () => number;
  /** Keeps the allocation history within its size bound (one call per pass); absent when history is off. */
  readonly pruneHistory?: () => Promise<number>;
}

export interface LeakCollectorOptions {
  readonly gracePeriodMs: number;
  readonly intervalMs: number;
  readonly maxReleasesPerPass?: number;
  /** Delay between a node deletion and the pass it triggers (Calico batches events for 1 s). */
  readonly kickDelayMs?: number;
}

/** What one pass did (for tests and debug logs). */
export interface PassReport {
  readonly skipped?: string;
  readonly candidates: number;
  readonly confirmed: number;
  /** Addresses released. */
  readonly released: string[];
  /** Addresses a release refused (reassigned or changed since the scan). */
  readonly refused: string[];
  /** Handles found in use by the live re-check. */
  readonly resurrected: string[];
  readonly emptyBlocksReleased: string[];
  readonly nodesReleased: string[];
  readonly cooledDownFreed: number;
  /** Sticky StatefulSet addresses released because their pod identity ended (sticky-releases.ts). */
  readonly stickyReleased: string[];
}

const RETRY_AFTER_ERROR_MS = 5000;

/**
 * The leak garbage collector (Calico kube-controllers' IPAM GC, reference §6), run by the
 * elected replica only. Each pass: free cooled-down addresses in blocks nobody writes;
 * scan every block once; let the planner judge each allocation against the Kubernetes
 * caches; re-check every confirmed leak with a live GET of its pod; release each handle's
 * addresses with the handle AND the sequence numbers read in the scan (so an address
 * reassigned meanwhile is refused, never released); release empty blocks and the
 * affinities of deleted nodes. Passes run every `intervalMs`, and soon after a node is
 * deleted; never two at once.
 */
export class LeakCollector {
  private readonly planner: CollectionPlanner;
  private readonly sticky: StickyReleases;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private nextRunAt = Infinity;
  private running: Promise<PassReport> | undefined;
  private stopped = true;
  /** Deleted nodes whose reclamation series go at the next pass (so one scrape can see their last increments). */
  private readonly forgetNodes = new Set<string>();

  constructor(
    private readonly deps: LeakCollectorDeps,
    private readonly opts: LeakCollectorOptions,
  ) {
    this.planner = new CollectionPlanner({ gracePeriodMs: opts.gracePeriodMs, ...(opts.maxReleasesPerPass !== undefined && { maxReleasesPerPass: opts.maxReleasesPerPass }) });
    // The grace period is measured on the monotonic clock: were it measured on the wall
    // clock, a clock stepped an hour forward (NTP, an operator) between two passes would
    // make every leak candidate look an hour old and release it at the next pass.
    this.now = deps.now ?? (() => performance.timeOrigin + performance.now());
    this.sticky = new StickyReleases({ engine: deps.engine, kube: deps.kube, metrics: deps.metrics, log: deps.log, shouldStop: () => this.shouldStop() }, opts.gracePeriodMs);
  }

  /** Starts periodic passes (the first at once) and ones triggered by node deletions. */
  start(): void {
    this.stopped = false;
    this.deps.kube.onNodeDeleted(() => this.kick());
    this.schedule(0);
  }

  /** Runs a pass soon (after the kick delay), unless one is due sooner anyway. */
  kick(): void {
    this.schedule(this.opts.kickDelayMs ?? 1000);
  }

  /** Stops scheduling, and waits for a pass in progress (which stops before its next release). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = this.now() + delayMs;
    if (this.timer !== undefined && at >= this.nextRunAt) return;
    clearTimeout(this.timer);
    this.nextRunAt = at;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.nextRunAt = Infinity;
    if (this.running) {
      // A pass is in progress: run another right after it.
      await this.running.catch(() => undefined);
      return this.schedule(0);
    }
    let next = this.opts.intervalMs;
    try {
      await this.runPass();
    } catch (err) {
      this.deps.log.warn({ err }, 'leak collector pass failed; retrying');
      next = Math.min(next, RETRY_AFTER_ERROR_MS);
    }
    this.schedule(next);
  }

  /** One pass; passes never overlap (a second call waits for the first and then runs). */
  async runPass(): Promise<PassReport> {
    while (this.running) await this.running.catch(() => undefined);
    const run = this.pass();
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }

  private shouldStop(): boolean {
    return !this.deps.isLeader();
  }

  private async pass(): Promise<PassReport> {
    const { kube, operations, log } = this.deps;
    const report = { candidates: 0, confirmed: 0, released: [] as string[], refused: [] as string[], resurrected: [] as string[], emptyBlocksReleased: [] as string[], nodesReleased: [] as string[], cooledDownFreed: 0, stickyReleased: [] as string[] };
    if (this.shouldStop()) return { ...report, skipped: 'not the leader' };
    if (!kube.synced()) return { ...report, skipped: 'the Kubernetes caches are not synced' };

    report.cooledDownFreed = (await operations.freeCooledDownAddresses()).addresses;
    if (report.cooledDownFreed > 0) log.info({ addresses: report.cooledDownFreed }, 'freed addresses whose cooldown has passed');
    const pruned = (await this.deps.pruneHistory?.()) ?? 0;
    if (pruned > 0) log.info({ records: pruned }, 'deleted the oldest allocation history records beyond the size bound');

    const scan = await operations.scan();
    const nodes = await this.existingNodes(scan);
    const plan = this.planner.plan({ scan, pod: (ns, name) => kube.pod(ns, name), nodeExists: (n) => nodes.has(n), now: this.now() });
    report.candidates = plan.verdicts.filter((v) => v.state === 'candidate').length;
    report.confirmed = plan.verdicts.filter((v) => v.state === 'confirmed').length;
    const pools = await this.deps.pools();
    if (this.shouldStop()) return { ...report, skipped: 'lost the lease' };
    this.forgetReclamations(pools);
    publishCandidates(this.deps.metrics, plan.verdicts, pools, kube.nodeNames());
    for (const h of plan.heldHandles) log.debug({ handle: h }, 'leaked addresses held: another address of the handle is still in use');

    const poolOf = poolLabeller(pools);
    for (const release of plan.releases) {
      if (this.shouldStop()) return { ...report, skipped: 'lost the lease' };
      await this.releaseHandle(release, report, poolOf);
    }
    if (this.shouldStop()) return { ...report, skipped: 'lost the lease' };
    report.stickyReleased.push(...(await this.sticky.pass(scan.allocations, this.now())));
    if (this.shouldStop()) return { ...report, skipped: 'lost the lease' };
    for (const block of plan.emptyBlocks) {
      if (this.shouldStop()) return { ...report, skipped: 'lost the lease' };
      if (await this.releaseEmptyBlock(block)) report.emptyBlocksReleased.push(block.cidr);
    }
    for (const node of plan.nodesToRelease) {
      if (this.shouldStop()) return { ...report, skipped: 'lost the lease' };
      if (await this.releaseNode(node)) report.nodesReleased.push(node);
    }
    this.logPlan(plan, report);
    return report;
  }

  /**
   * The node names the cache knows, plus every node the IPAM data names that the cache does
   * not know but the API server does (a live GET, as Calico's nodeExists): a node is taken
   * for deleted only when the API server says so. A failed GET counts as existing.
   */
  private async existingNodes(scan: Awaited<ReturnType<LeakCollectorDeps['operations']['scan']>>): Promise<Set<string>> {
    const known = new Set(this.deps.kube.nodeNames());
    const named = new Set<string>();
    for (const a of scan.allocations) if (a.attributes[AttributeKeys.node]) named.add(a.attributes[AttributeKeys.node]!);
    for (const b of scan.blocks) if (b.affinity?.startsWith('host:')) named.add(b.affinity.slice('host:'.length));
    for (const node of named) {
      if (known.has(node)) continue;
      try {
        if (await this.deps.kube.nodeExistsLive(node)) known.add(node);
      } catch (err) {
        this.deps.log.warn({ err, node }, 'could not ask whether the node exists; assuming it does');
        known.add(node);
      }
    }
    return known;
  }

  /** Re-checks the handle's pods live, then releases all its addresses with handle and sequence numbers. */
  private async releaseHandle(release: HandleRelease, report: { released: string[]; refused: string[]; resurrected: string[] }, poolOf: (block: string) => string): Promise<void> {
    const { kube, engine, log } = this.deps;
    const pods = new Set<string>();
    for (const v of release.allocations) {
      const ns = v.allocation.attributes[AttributeKeys.namespace];
      const name = v.allocation.attributes[AttributeKeys.pod];
      if (!ns || !name) continue; // a tunnel address: its node is gone (checked live)
      pods.add(`${ns}/${name}`);
      let live;
      try {
        live = await kube.getPodLive(ns, name);
      } catch (err) {
        log.warn({ err, handle: release.handleId, pod: `${ns}/${name}` }, 'could not read the pod; keeping its addresses for now');
        return;
      }
      const validity = podAllocationValidity(v.allocation, live);
      if (validity.valid) {
        for (const u of release.allocations) this.planner.markValid(u.key);
        report.resurrected.push(release.handleId);
        log.info({ handle: release.handleId, node: release.node, pod: `${ns}/${name}`, reason: validity.reason }, 'leak candidate is in use after all');
        return;
      }
    }
    // The re-check took time: the lease may have gone meanwhile.
    if (this.shouldStop()) return;
    const result = await engine.releaseIPs(
      release.allocations.map((v) => ({ address: v.allocation.address, handleId: release.handleId, sequenceNumber: v.allocation.sequenceNumber, historyKind: 'leak' as const })),
    );
    const notAllocated = new Set(result.unallocated);
    const refused = new Set(result.errors.map((e) => e.address));
    const freed = release.allocations.filter((v) => !notAllocated.has(v.allocation.address) && !refused.has(v.allocation.address));
    for (const v of freed) this.deps.metrics.reclamations.inc({ ippool: poolOf(v.allocation.block), node: v.node ?? UNKNOWN_NODE_LABEL });
    report.released.push(...freed.map((v) => v.allocation.address));
    report.refused.push(...refused);
    if (freed.length > 0) {
      log.info(
        { handle: release.handleId, node: release.node, addresses: freed.map((v) => v.allocation.address), pods: [...pods], reason: release.allocations[0]!.reason },
        'released leaked addresses',
      );
    }
    if (refused.size > 0) {
      log.info({ handle: release.handleId, node: release.node, addresses: [...refused], err: result.errors[0]!.error.message }, 'leaked addresses changed since the scan; not released');
    }
  }

  private async releaseEmptyBlock(block: EmptyBlockRelease): Promise<boolean> {
    try {
      const outcome = await this.deps.operations.releaseEmptyBlock(block);
      if (outcome === 'released') this.deps.log.info({ block: block.cidr, node: block.node }, 'released empty block');
      return outcome === 'released';
    } catch (err) {
      this.deps.log.info({ block: block.cidr, node: block.node, err: (err as Error).message }, 'empty block not released');
      return false;
    }
  }

  private async releaseNode(node: string): Promise<boolean> {
    try {
      await this.deps.engine.releaseHostAffinities(node, { mustBeEmpty: true });
      this.deps.log.info({ node }, 'released the block affinities of a deleted node');
      this.forgetNodes.add(node);
      return true;
    } catch (err) {
      this.deps.log.warn({ node, err: (err as Error).message }, 'could not release every block affinity of a deleted node; retrying next pass');
      return false;
    }
  }

  /** As Calico: a node that is gone stops having reclamation series (else they pile up as nodes churn). */
  private forgetReclamations(pools: readonly PoolView[]): void {
    for (const node of this.forgetNodes) {
      for (const ippool of [...pools.map((p) => p.name), NO_POOL_LABEL]) this.deps.metrics.reclamations.remove({ ippool, node });
    }
    this.forgetNodes.clear();
  }

  private logPlan(plan: CollectionPlan, report: PassReport): void {
    this.deps.log.debug(
      {
        allocations: plan.verdicts.length,
        candidates: report.candidates,
        confirmed: report.confirmed,
        released: report.released.length,
        emptyBlocks: report.emptyBlocksReleased.length,
        nodes: report.nodesReleased,
      },
      'leak collector pass',
    );
  }
}

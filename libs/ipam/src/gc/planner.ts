import { AttributeKeys, parseStickyHandle, stickyIdentityText } from '@atoll/model';
import type { Allocation } from '../allocations';
import { allocationKey, allocationKind, podAllocationValidity } from './validity';
import type { AllocationVerdict, CollectionInput, CollectionPlan, EmptyBlockRelease, HandleRelease } from './types';

/** Calico releases at most this many addresses per sync; the rest roll over to the next. */
export const DEFAULT_MAX_RELEASES_PER_PASS = 10_000;

export interface PlannerOptions {
  /** How long an allocation must look leaked, and a block stay empty, before release (ms, > 0). */
  readonly gracePeriodMs: number;
  readonly maxReleasesPerPass?: number;
}

const HOST_AFFINITY = 'host:';

/**
 * Decides, scan after scan, what the garbage collector releases (Calico kube-controllers'
 * IPAM GC, reference §6). No I/O: it remembers when each allocation was first seen leaked
 * and when each block was first seen empty, and turns a scan plus the Kubernetes view
 * into a plan. The caller re-checks each release against live data before doing it, and
 * tells the planner (markValid) when an allocation turned out to be in use.
 */
export class CollectionPlanner {
  private readonly gracePeriodMs: number;
  private readonly maxReleases: number;
  /** Allocation key → when it was first seen leaked. */
  private readonly leakedSince = new Map<string, number>();
  /** Block CIDR → when it was first seen empty, and at which sequence number. */
  private readonly emptySince = new Map<string, { since: number; sequenceNumber: bigint }>();

  constructor(opts: PlannerOptions) {
    if (!(opts.gracePeriodMs > 0)) throw new RangeError(`the grace period must be positive, got ${opts.gracePeriodMs} ms`);
    this.gracePeriodMs = opts.gracePeriodMs;
    this.maxReleases = opts.maxReleasesPerPass ?? DEFAULT_MAX_RELEASES_PER_PASS;
  }

  /** Forgets that an allocation looked leaked (a live re-check found it in use). */
  markValid(key: string): void {
    this.leakedSince.delete(key);
  }

  /** How many allocations and blocks are being tracked (for tests: nothing leaks memory). */
  get tracked(): { allocations: number; blocks: number } {
    return { allocations: this.leakedSince.size, blocks: this.emptySince.size };
  }

  plan(input: CollectionInput): CollectionPlan {
    const verdicts: AllocationVerdict[] = [];
    const byNode = new Map<string, Allocation[]>();
    for (const a of input.scan.allocations) {
      const node = a.attributes[AttributeKeys.node];
      if (!node) verdicts.push(this.verdict(a, undefined, 'ignored', 'no node attribute'));
      else if (a.handleId === undefined) verdicts.push(this.verdict(a, node, 'ignored', 'no handle'));
      else {
        const list = byNode.get(node);
        if (list) list.push(a);
        else byNode.set(node, [a]);
      }
    }
    const affineBlocks = new Map<string, number>();
    for (const b of input.scan.blocks) {
      const node = hostOf(b.affinity);
      if (node !== undefined) affineBlocks.set(node, (affineBlocks.get(node) ?? 0) + 1);
    }

    const nodesToRelease: string[] = [];
    const nodes = new Set([...byNode.keys(), ...affineBlocks.keys()]);
    for (const node of [...nodes].sort()) {
      const exists = input.nodeExists(node);
      const out = this.judgeNode(node, byNode.get(node) ?? [], exists, input);
      verdicts.push(...out.verdicts);
      if (!exists && out.canRelease) nodesToRelease.push(node);
    }

    const seen = new Set(verdicts.map((v) => v.key));
    for (const key of [...this.leakedSince.keys()]) if (!seen.has(key)) this.leakedSince.delete(key);

    const { releases, heldHandles } = this.groupByHandle(verdicts);
    const emptyBlocks = this.planEmptyBlocks(input, affineBlocks, new Set(nodesToRelease));
    return { verdicts, releases, heldHandles, emptyBlocks, nodesToRelease };
  }

  /** Calico's checkAllocations for one node. `canRelease`: nothing on it is valid or of unknown use. */
  private judgeNode(node: string, allocations: readonly Allocation[], exists: boolean, input: CollectionInput) {
    const verdicts: AllocationVerdict[] = [];
    const tunnels: Allocation[] = [];
    let canRelease = true;
    for (const a of allocations) {
      const kind = allocationKind(a);
      if (kind === 'windows-reserved') {
        verdicts.push(this.verdict(a, node, 'ignored', 'Windows host reservation'));
      } else if (kind === 'sticky') {
        // Released only when its StatefulSet ordinal is gone (the collector's sticky pass), or by hand.
        canRelease = false;
        verdicts.push(this.verdict(a, node, 'ignored', `sticky address of ${stickyIdentityText(parseStickyHandle(a.handleId)!)}`));
      } else if (kind === 'unknown') {
        canRelease = false;
        verdicts.push(this.verdict(a, node, 'ignored', 'neither a pod nor a tunnel address'));
      } else if (kind === 'tunnel') {
        tunnels.push(a);
      } else {
        const pod = input.pod(a.attributes[AttributeKeys.namespace]!, a.attributes[AttributeKeys.pod]!);
        const validity = podAllocationValidity(a, pod);
        if (validity.valid) {
          canRelease = false;
          this.leakedSince.delete(allocationKey(a));
          verdicts.push(this.verdict(a, node, 'valid', validity.reason));
        } else if (!exists) {
          verdicts.push(this.leak(a, node, `node gone; ${validity.reason}`, input.now, true));
        } else {
          verdicts.push(this.leak(a, node, validity.reason, input.now, false));
        }
      }
    }
    for (const t of tunnels) {
      if (exists) {
        this.leakedSince.delete(allocationKey(t));
        verdicts.push(this.verdict(t, node, 'valid', 'tunnel address of an existing node'));
      } else if (canRelease) {
        verdicts.push(this.leak(t, node, 'tunnel address of a deleted node', input.now, true));
      } else {
        verdicts.push(this.verdict(t, node, 'valid', 'tunnel address of a deleted node that still has addresses in use'));
      }
    }
    return { verdicts, canRelease };
  }

  private leak(a: Allocation, node: string, reason: string, now: number, confirmAtOnce: boolean): AllocationVerdict {
    const key = allocationKey(a);
    const since = this.leakedSince.get(key) ?? now;
    this.leakedSince.set(key, since);
    const confirmed = confirmAtOnce || now - since > this.gracePeriodMs;
    return { ...this.verdict(a, node, confirmed ? 'confirmed' : 'candidate', reason), leakedSince: since };
  }

  private verdict(a: Allocation, node: string | undefined, state: AllocationVerdict['state'], reason: string): AllocationVerdict {
    return { allocation: a, key: allocationKey(a), ...(node !== undefined && { node }), state, reason };
  }

  /** All or nothing per handle: a handle is released only when every one of its addresses is a confirmed leak. */
  private groupByHandle(verdicts: readonly AllocationVerdict[]): { releases: HandleRelease[]; heldHandles: string[] } {
    const byHandle = new Map<string, AllocationVerdict[]>();
    for (const v of verdicts) {
      const h = v.allocation.handleId;
      if (h === undefined) continue;
      const group = byHandle.get(h);
      if (group) group.push(v);
      else byHandle.set(h, [v]);
    }
    const releases: HandleRelease[] = [];
    const heldHandles: string[] = [];
    let addresses = 0;
    for (const [handleId, group] of byHandle) {
      if (!group.some((v) => v.state === 'confirmed')) continue;
      if (!group.every((v) => v.state === 'confirmed')) {
        heldHandles.push(handleId);
        continue;
      }
      if (addresses > 0 && addresses + group.length > this.maxReleases) continue;
      addresses += group.length;
      releases.push({ handleId, ...(group[0]!.node !== undefined && { node: group[0]!.node }), allocations: group });
    }
    return { releases, heldHandles };
  }

  /**
   * Calico's releaseUnusedBlocks: an empty block goes once it has been seen empty — and,
   * here, unwritten (same sequence number) — across the grace period, never a node's last
   * block, and not for nodes whose affinities are released wholesale this pass.
   */
  private planEmptyBlocks(input: CollectionInput, affineBlocks: Map<string, number>, releasingNodes: ReadonlySet<string>): EmptyBlockRelease[] {
    const out: EmptyBlockRelease[] = [];
    const remaining = new Map(affineBlocks);
    const present = new Set<string>();
    for (const b of input.scan.blocks) {
      present.add(b.cidr);
      const node = hostOf(b.affinity);
      if (node === undefined || !b.empty) {
        this.emptySince.delete(b.cidr);
        continue;
      }
      if (releasingNodes.has(node) || (remaining.get(node) ?? 0) <= 1) continue;
      const seen = this.emptySince.get(b.cidr);
      if (!seen || seen.sequenceNumber !== b.sequenceNumber) {
        this.emptySince.set(b.cidr, { since: input.now, sequenceNumber: b.sequenceNumber });
        continue;
      }
      if (input.now - seen.since <= this.gracePeriodMs) continue;
      out.push({ cidr: b.cidr, node, sequenceNumber: b.sequenceNumber });
      remaining.set(node, remaining.get(node)! - 1);
    }
    for (const cidr of [...this.emptySince.keys()]) if (!present.has(cidr)) this.emptySince.delete(cidr);
    return out;
  }
}

function hostOf(affinity: string | null): string | undefined {
  return affinity?.startsWith(HOST_AFFINITY) ? affinity.slice(HOST_AFFINITY.length) : undefined;
}

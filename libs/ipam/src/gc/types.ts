import type { Allocation } from '../allocations';

// The garbage collector's inputs and decisions (Calico kube-controllers' IPAM GC, reference
// §6). Everything here is data: the planner decides, the caller does the I/O.

/** What the collector knows of a Kubernetes pod. */
export interface GcPod {
  readonly namespace: string;
  readonly name: string;
  /** spec.nodeName; absent until the pod is scheduled. */
  readonly nodeName?: string;
  /** status.phase: Pending, Running, Succeeded, Failed, Unknown. */
  readonly phase?: string;
  /** status.reason, e.g. `Evicted`. */
  readonly reason?: string;
  /** status.podIPs (or podIP); empty until the kubelet reports the pod's addresses. */
  readonly podIPs: readonly string[];
}

/** A block as the collector sees it. */
export interface GcBlock {
  readonly cidr: string;
  /** The block's affinity string (`host:<node>`), or null when unaffine. */
  readonly affinity: string | null;
  /** No live address (Windows host reservations aside; an address cooling down counts as live). */
  readonly empty: boolean;
  readonly sequenceNumber: bigint;
}

/** Allocations and blocks read in one listing. */
export interface GcScan {
  readonly allocations: readonly Allocation[];
  readonly blocks: readonly GcBlock[];
}

/**
 * - valid: in use (or cannot be judged: kept);
 * - candidate: looks leaked, waiting out the grace period;
 * - confirmed: leaked — past the grace period, or its node is gone;
 * - ignored: the collector never releases it (no node or handle, a Windows host
 *   reservation, or neither a pod's nor a tunnel address).
 */
export type AllocationState = 'valid' | 'candidate' | 'confirmed' | 'ignored';

export interface AllocationVerdict {
  readonly allocation: Allocation;
  /** Identity across scans: handle, address and sequence number. */
  readonly key: string;
  /** The allocation's `node` attribute. */
  readonly node?: string;
  readonly state: AllocationState;
  /** Why, for logs: e.g. "pod not found", "node gone". */
  readonly reason: string;
  /** When the allocation was first seen leaked (ms since the epoch), for candidates and confirmed leaks. */
  readonly leakedSince?: number;
}

/** Every address of one handle, all confirmed leaks: released together or not at all. */
export interface HandleRelease {
  readonly handleId: string;
  readonly node?: string;
  readonly allocations: readonly AllocationVerdict[];
}

/** An empty block to give up, compared against the sequence number it was seen with. */
export interface EmptyBlockRelease {
  readonly cidr: string;
  readonly node: string;
  readonly sequenceNumber: bigint;
}

export interface CollectionPlan {
  readonly verdicts: readonly AllocationVerdict[];
  /** Handles to release this pass (at most `maxReleasesPerPass` addresses; the rest roll over). */
  readonly releases: readonly HandleRelease[];
  /** Handles with a confirmed leak that are held because another of their addresses is not confirmed. */
  readonly heldHandles: readonly string[];
  readonly emptyBlocks: readonly EmptyBlockRelease[];
  /** Deleted nodes with nothing valid left: release their affinities (blocks must be empty). */
  readonly nodesToRelease: readonly string[];
}

export interface CollectionInput {
  readonly scan: GcScan;
  /** The pod named by an allocation, or undefined when it does not exist. */
  pod(namespace: string, name: string): GcPod | undefined;
  /** Whether a Kubernetes node of this name exists. */
  nodeExists(node: string): boolean;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

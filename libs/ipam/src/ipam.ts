import type { IpamConfig } from '@atoll/model';
import type { CheckReport } from './check';
import type { IpamError } from './errors';
import type { IntendedUse } from './types';

// The engine's contract: every operation, its options, and what a caller sees when it
// fails part-way. Errors are IpamError with a stable `code`; `retryable` ones
// (max-retries, unavailable) mean "nothing was changed by this call that you need to undo;
// try again later".

export interface AutoAssignRequest {
  /** IPv4 and IPv6 address counts (either may be 0). */
  readonly num4: number;
  readonly num6: number;
  /** Every address is recorded under this handle (CNI: `<network>.<containerID>`). */
  readonly handleId: string;
  /** Stored with the addresses (`secondary`): node, namespace, pod, timestamp, type… */
  readonly attributes: Readonly<Record<string, string>>;
  /** The node the addresses are for; its Node resource must exist. */
  readonly hostname: string;
  /** Pools to use, by CIDR or name, in order; selectors are then ignored. */
  readonly ipv4Pools?: readonly string[];
  readonly ipv6Pools?: readonly string[];
  /** Per-request block limit; combined with the configured one (the smaller wins). */
  readonly maxBlocksPerHost?: number;
  readonly intendedUse: IntendedUse;
  /** Labels of the pod's namespace, for pools' namespaceSelector. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** Aborted when the caller has gone away: a request still waiting for its host is then not started. */
  readonly signal?: AbortSignal;
}

export interface FamilyAssignment {
  readonly requested: number;
  /** Addresses with the block's prefix length, e.g. `10.0.0.5/26`, as Calico returns them. */
  readonly ips: readonly string[];
  /** Why fewer than requested were assigned (Calico's messages). */
  readonly msgs: readonly string[];
  /** A hard error that stopped this family (e.g. block-limit); `ips` holds what was assigned before it. */
  readonly error?: IpamError;
}

export interface AutoAssignResult {
  readonly ipv4: FamilyAssignment;
  readonly ipv6: FamilyAssignment;
}

export interface AssignIpRequest {
  readonly ip: string;
  readonly handleId: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly hostname: string;
  readonly intendedUse?: IntendedUse;
  /** As AutoAssignRequest.signal. */
  readonly signal?: AbortSignal;
}

/** Moves an allocated address from the handle holding it to another (see Ipam.handOffIP). */
export interface HandOffRequest {
  readonly ip: string;
  /** The handle the caller saw holding the address; the move happens only while it still does. */
  readonly fromHandleId: string;
  /** The new holder. */
  readonly handleId: string;
  /** The new holder's attributes (replacing the old holder's). */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface HandOffResult {
  readonly address: string;
  /** False when the address was already the new handle's (a repeat of a move that landed). */
  readonly moved: boolean;
}

export interface ReleaseOptions {
  readonly address: string;
  /** When set, the address must belong to this handle. */
  readonly handleId?: string;
  /** When set, the address must still carry this sequence number (it was not reassigned). */
  readonly sequenceNumber?: bigint;
  /** How the allocation history records this release (default `release-ip`; the leak collector says `leak`). */
  readonly historyKind?: 'release-ip' | 'leak';
}

export interface ReleaseIpsResult {
  /** Addresses that were not allocated (including ones in no block or no pool). */
  readonly unallocated: readonly string[];
  /** The options whose blocks were processed without error (freed or already free). */
  readonly released: readonly ReleaseOptions[];
  /** Per-address failures (sequence or handle mismatch, refused the address's whole block). */
  readonly errors: readonly { readonly address: string; readonly error: IpamError }[];
}

export interface AssignmentAttributes {
  readonly address: string;
  readonly block: string;
  readonly handleId?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly sequenceNumber: bigint;
}

export interface ClaimAffinityResult {
  readonly claimed: readonly string[];
  readonly failed: readonly string[];
}

export interface BlockUtilization {
  readonly cidr: string;
  /** The block's owner (`host:<node>`); null for an unaffine block (absent on pool totals). */
  readonly affinity?: string | null;
  readonly capacity: bigint;
  readonly inUse: bigint;
  readonly reserved: bigint;
  readonly available: bigint;
}

export interface PoolUtilization extends BlockUtilization {
  readonly name: string;
  readonly blocks: readonly BlockUtilization[];
}

export interface Utilization {
  readonly pools: readonly PoolUtilization[];
  /** Blocks inside no pool ("orphaned allocation blocks"). */
  readonly orphanBlocks: readonly BlockUtilization[];
}

export interface Ipam {
  /**
   * Assigns addresses from pools (IPv4 first, then IPv6). Running out is not an error:
   * the result holds fewer addresses and Calico's messages. A hard error in IPv4 stops
   * before IPv6. Addresses that were assigned stay assigned even when `error` is set —
   * the caller releases them by handle if it wants all or nothing.
   */
  autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult>;
  /** Assigns one specific address; on any error nothing is assigned. */
  assignIP(req: AssignIpRequest): Promise<string>;
  /**
   * Moves one allocated address to another handle in one transaction (block, both
   * handles), only while `fromHandleId` still holds it: conflict when another handle does,
   * not-found when it is free. A repeat of a move that landed succeeds. Whether a move is
   * right is the caller's decision; this only makes it atomic.
   */
  handOffIP(req: HandOffRequest): Promise<HandOffResult>;
  /** Releases addresses block by block; a failing block does not stop the others. */
  releaseIPs(opts: readonly ReleaseOptions[]): Promise<ReleaseIpsResult>;
  /** Releases every address of a handle in one transaction; not-found when the handle does not exist. */
  releaseByHandle(handleId: string): Promise<string[]>;
  /** The handle's addresses; not-found when the handle does not exist. */
  ipsByHandle(handleId: string): Promise<string[]>;
  /** not-found when the address is free, in-cooldown when it was just released. */
  getAssignmentAttributes(ip: string): Promise<AssignmentAttributes>;

  /** Claims the blocks of `cidr` for a host; blocks owned by others are reported as failed. */
  claimAffinity(cidr: string, host: string): Promise<ClaimAffinityResult>;
  /** Releases a host's affinity for the blocks of `cidr`; block-not-empty when mustBeEmpty refuses. */
  releaseAffinity(cidr: string, host: string, opts: { mustBeEmpty: boolean }): Promise<void>;
  /** Releases every affinity of a host; tries them all and throws the last error. */
  releaseHostAffinities(host: string, opts: { mustBeEmpty: boolean }): Promise<void>;
  /** Releases every host's affinity inside a pool's CIDR (non-empty blocks become unaffine). */
  releasePoolAffinities(poolCidr: string): Promise<void>;

  getIPAMConfig(): Promise<IpamConfig>;
  /** Validates the cross-field rules and writes with a compare on the revision read. */
  setIPAMConfig(config: IpamConfig): Promise<void>;

  getUtilization(opts?: { poolNames?: readonly string[] }): Promise<Utilization>;
  /** A consistency report like `calicoctl ipam check` (datastore side only). */
  check(): Promise<CheckReport>;
}

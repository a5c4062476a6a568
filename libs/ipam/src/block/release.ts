import type { AllocationBlock } from '@atoll/model';
import { IpamError, Messages } from '../errors';
import { compactAttributes, findOrAddAttribute } from './attributes';
import { attributeOf } from './inspect';

export interface ReleaseTiming {
  readonly now: Date;
  /** 0 frees at once; otherwise released ordinals cool down this long first. */
  readonly cooldownSeconds: number;
}

/**
 * Frees the ordinals, or with a cooldown points them at a `{releasedAt}` attribute so
 * that nobody gets them until the cooldown has passed. Freed ordinals go to the tail
 * of `unallocated`, so the most recently released address is the last to be reused.
 */
export function markReleased(block: AllocationBlock, ordinals: readonly number[], timing: ReleaseTiming): AllocationBlock {
  if (ordinals.length === 0) return block;
  const allocations = [...block.allocations];
  if (timing.cooldownSeconds > 0) {
    const { attributes, index } = findOrAddAttribute(block.attributes, { releasedAt: timing.now.toISOString() });
    for (const o of ordinals) allocations[o] = index;
    return { ...block, ...compactAttributes({ allocations, attributes }) };
  }
  const seq: Record<string, bigint> = { ...block.sequenceNumberForAllocation };
  for (const o of ordinals) {
    allocations[o] = null;
    delete seq[String(o)];
  }
  return {
    ...block,
    ...compactAttributes({ allocations, attributes: block.attributes }),
    unallocated: [...block.unallocated, ...ordinals],
    sequenceNumberForAllocation: seq,
  };
}

/** Returns cooled-down ordinals to the free list, in ordinal order. */
export function freeCooledDown(block: AllocationBlock, timing: ReleaseTiming): AllocationBlock {
  const cutoff = timing.now.getTime() - timing.cooldownSeconds * 1000;
  const ready: number[] = [];
  block.allocations.forEach((a, ord) => {
    const releasedAt = a === null ? undefined : block.attributes[a]?.releasedAt;
    if (releasedAt !== undefined && Date.parse(releasedAt) <= cutoff) ready.push(ord);
  });
  return ready.length === 0 ? block : markReleased(block, ready, { now: timing.now, cooldownSeconds: 0 });
}

export interface OrdinalRelease {
  readonly ordinal: number;
  readonly handleId?: string;
  readonly sequenceNumber?: bigint;
}

export interface BlockRelease {
  readonly block: AllocationBlock;
  /** Ordinals this call released. */
  readonly released: readonly number[];
  /** Ordinals asked for that were not allocated (free or already cooling down). */
  readonly notAllocated: readonly number[];
  /** Handle → how many of its addresses this call released. */
  readonly handleCounts: ReadonlyMap<string, number>;
}

function countHandles(block: AllocationBlock, ordinals: readonly number[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of ordinals) {
    const h = attributeOf(block, o)?.handleId;
    if (h !== undefined) counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  return counts;
}

/**
 * Releases specific ordinals. A stale sequence number or a different handle refuses the
 * whole block (Calico's ReleaseIPs): the caller's view of these addresses is out of date.
 */
export function releaseOrdinals(block: AllocationBlock, requests: readonly OrdinalRelease[], timing: ReleaseTiming): BlockRelease {
  const seen = new Set<number>();
  const toRelease: number[] = [];
  const notAllocated: number[] = [];
  for (const r of requests) {
    if (seen.has(r.ordinal)) continue;
    seen.add(r.ordinal);
    const attr = attributeOf(block, r.ordinal);
    if (attr === undefined || attr.releasedAt !== undefined) {
      notAllocated.push(r.ordinal);
      continue;
    }
    const actualSeq = block.sequenceNumberForAllocation[String(r.ordinal)] ?? 0n;
    if (r.sequenceNumber !== undefined && r.sequenceNumber !== actualSeq) {
      throw new IpamError('sequence-mismatch', Messages.seqMismatch(r.sequenceNumber, actualSeq));
    }
    if (r.handleId !== undefined && r.handleId !== (attr.handleId ?? '')) {
      throw new IpamError('sequence-mismatch', Messages.handleMismatch(r.handleId, attr.handleId ?? ''));
    }
    toRelease.push(r.ordinal);
  }
  return {
    block: markReleased(block, toRelease, timing),
    released: toRelease,
    notAllocated,
    handleCounts: countHandles(block, toRelease),
  };
}

/**
 * Releases every live ordinal of a handle. With sequence numbers given, ordinals whose
 * number differs are skipped silently (they were released and reassigned meanwhile).
 */
export function releaseHandleOrdinals(
  block: AllocationBlock,
  handleId: string,
  timing: ReleaseTiming,
  sequenceNumbers?: ReadonlyMap<number, bigint>,
): BlockRelease {
  const toRelease: number[] = [];
  block.allocations.forEach((a, ord) => {
    if (a === null) return;
    const attr = block.attributes[a];
    if (attr?.handleId !== handleId || attr.releasedAt !== undefined) return;
    const want = sequenceNumbers?.get(ord);
    if (want !== undefined && want !== (block.sequenceNumberForAllocation[String(ord)] ?? 0n)) return;
    toRelease.push(ord);
  });
  return {
    block: markReleased(block, toRelease, timing),
    released: toRelease,
    notAllocated: [],
    handleCounts: toRelease.length > 0 ? new Map([[handleId, toRelease.length]]) : new Map(),
  };
}

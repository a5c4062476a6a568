import { blockLength, Cidr } from '@atoll/ipmath';
import type { AllocationBlock } from '@atoll/model';

export interface NewBlockOptions {
  cidr: Cidr;
  /** `host:<node>` / `virtual:<name>`, or null for a block nobody owns. */
  affinity: string | null;
  now: Date;
}

/**
 * A fresh block: every ordinal free, in ascending order, so the first addresses handed
 * out are .0, .1, .2… The sequence number starts at the creation time in nanoseconds so
 * that a block deleted and created again never repeats a number a stale release holds.
 */
export function newBlock({ cidr, affinity, now }: NewBlockOptions): AllocationBlock {
  const n = blockLength(cidr);
  return {
    cidr,
    affinity,
    ...(affinity !== null && { affinityClaimTime: now.toISOString() }),
    allocations: new Array<null>(n).fill(null),
    unallocated: Array.from({ length: n }, (_, i) => i),
    attributes: [],
    sequenceNumber: BigInt(now.getTime()) * 1_000_000n,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
}

/** The block as it will be written: every write bumps the sequence number by one. */
export function withNextSequence(block: AllocationBlock): AllocationBlock {
  return { ...block, sequenceNumber: block.sequenceNumber + 1n };
}

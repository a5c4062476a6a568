import type { AllocationAttribute, AllocationBlock } from '@atoll/model';
import { compactAttributes, findOrAddAttribute } from './attributes';

export interface BlockAssignment {
  readonly block: AllocationBlock;
  /** Ordinals assigned, in hand-out order. */
  readonly ordinals: readonly number[];
}

function attributeFor(handleId: string | undefined, attrs: Readonly<Record<string, string>> | undefined): AllocationAttribute {
  return {
    ...(handleId !== undefined && { handleId }),
    ...(attrs !== undefined && Object.keys(attrs).length > 0 && { secondary: { ...attrs } }),
  };
}

/**
 * Takes up to `num` free ordinals from the head of `unallocated` (FIFO), skipping reserved
 * ones and leaving them in place. All ordinals of one call share one attribute entry and
 * record the block's current sequence number (the write that stores them bumps it).
 */
export function assignFromBlock(
  block: AllocationBlock,
  opts: {
    num: number;
    handleId?: string;
    attributes?: Readonly<Record<string, string>>;
    isReserved?: (ordinal: number) => boolean;
  },
): BlockAssignment {
  const isReserved = opts.isReserved ?? (() => false);
  const taken: number[] = [];
  const remaining: number[] = [];
  for (const o of block.unallocated) {
    if (taken.length < opts.num && !isReserved(o)) taken.push(o);
    else remaining.push(o);
  }
  if (taken.length === 0) return { block, ordinals: [] };
  const { attributes, index } = findOrAddAttribute(block.attributes, attributeFor(opts.handleId, opts.attributes));
  const allocations = [...block.allocations];
  const seq: Record<string, bigint> = { ...block.sequenceNumberForAllocation };
  for (const o of taken) {
    allocations[o] = index;
    seq[String(o)] = block.sequenceNumber;
  }
  return {
    block: { ...block, allocations, unallocated: remaining, attributes, sequenceNumberForAllocation: seq },
    ordinals: taken,
  };
}

/** Assigns one specific ordinal; undefined when it is not free (in use or cooling down). */
export function assignOrdinal(
  block: AllocationBlock,
  ordinal: number,
  opts: { handleId?: string; attributes?: Readonly<Record<string, string>> },
): AllocationBlock | undefined {
  if (block.allocations[ordinal] !== null || !block.unallocated.includes(ordinal)) return undefined;
  const { attributes, index } = findOrAddAttribute(block.attributes, attributeFor(opts.handleId, opts.attributes));
  const allocations = [...block.allocations];
  allocations[ordinal] = index;
  return {
    ...block,
    allocations,
    unallocated: block.unallocated.filter((o) => o !== ordinal),
    attributes,
    sequenceNumberForAllocation: { ...block.sequenceNumberForAllocation, [String(ordinal)]: block.sequenceNumber },
  };
}

/**
 * Gives an allocated ordinal to another handle: the ordinal points at the new attribute
 * entry and records the block's current sequence number (the write that stores it bumps
 * the block's), so a release still holding the old number is refused. Undefined when the
 * ordinal is not allocated (free or cooling down).
 */
export function reassignOrdinal(
  block: AllocationBlock,
  ordinal: number,
  opts: { handleId: string; attributes?: Readonly<Record<string, string>> },
): AllocationBlock | undefined {
  const current = block.allocations[ordinal];
  if (current === null || current === undefined || block.attributes[current]?.releasedAt !== undefined) return undefined;
  const { attributes, index } = findOrAddAttribute(block.attributes, attributeFor(opts.handleId, opts.attributes));
  const allocations = [...block.allocations];
  allocations[ordinal] = index;
  return {
    ...block,
    ...compactAttributes({ allocations, attributes }),
    sequenceNumberForAllocation: { ...block.sequenceNumberForAllocation, [String(ordinal)]: block.sequenceNumber },
  };
}

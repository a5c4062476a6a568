import { addressAt, formatIp } from '@atoll/ipmath';
import type { AllocationAttribute, AllocationBlock } from '@atoll/model';

/** Handle that Windows nodes put on their reserved addresses; they never make a block non-empty. */
export const WINDOWS_RESERVED_HANDLE = 'windows-reserved-ipam-handle';

export function attributeOf(block: AllocationBlock, ordinal: number): AllocationAttribute | undefined {
  const idx = block.allocations[ordinal];
  return idx === null || idx === undefined ? undefined : block.attributes[idx];
}

/** Ordinals held by a live allocation (not free, not cooling down). */
export function allocatedOrdinals(block: AllocationBlock): number[] {
  const out: number[] = [];
  block.allocations.forEach((a, ord) => {
    if (a !== null && block.attributes[a]?.releasedAt === undefined) out.push(ord);
  });
  return out;
}

/**
 * Empty means nothing but Windows host reservations is allocated. An address in cooldown
 * keeps the block non-empty: deleting the block would free it early.
 */
export function isEmpty(block: AllocationBlock): boolean {
  return block.allocations.every((a) => {
    if (a === null) return true;
    return block.attributes[a]?.handleId?.toLowerCase() === WINDOWS_RESERVED_HANDLE;
  });
}

/** Free ordinals that are not reserved, in hand-out order. */
export function freeOrdinals(block: AllocationBlock, isReserved: (ordinal: number) => boolean = () => false): number[] {
  return block.unallocated.filter((o) => !isReserved(o));
}

/** Ordinal → handle for every live allocation of the given handle. */
export function ordinalsOfHandle(block: AllocationBlock, handleId: string): number[] {
  return allocatedOrdinals(block).filter((o) => attributeOf(block, o)?.handleId === handleId);
}

export function ordinalAddress(block: AllocationBlock, ordinal: number): string {
  return formatIp(addressAt(block.cidr, ordinal));
}

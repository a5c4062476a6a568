import { formatCidr } from '@atoll/ipmath';
import type { AllocationAttribute, AllocationBlock } from '@atoll/model';
import { ordinalAddress } from '../block/inspect';
import type { AddressChange, HistoryCause } from './history-cause';
import type { HistoryEvent } from './history-event';

/** The holder of a live (allocated, not cooling down) ordinal. */
function liveHolder(block: AllocationBlock | null | undefined, ordinal: number): AllocationAttribute | undefined {
  if (!block) return undefined;
  const index = block.allocations[ordinal];
  if (index === null || index === undefined) return undefined;
  const attr = block.attributes[index];
  return attr === undefined || attr.releasedAt !== undefined ? undefined : attr;
}

function sameHolder(a: AllocationAttribute, b: AllocationAttribute): boolean {
  return a.handleId === b.handleId && JSON.stringify(a.secondary ?? {}) === JSON.stringify(b.secondary ?? {});
}

/**
 * The address changes between the block as read and the block as written — exactly what
 * the transaction assigns and releases, since it compares the read revision. Releases come
 * before assignments, so an address handed to a new holder reads "released, assigned".
 * `before` is undefined for a new block, `after` null for a deleted one.
 */
export function eventsOfBlockChange(before: AllocationBlock | undefined, after: AllocationBlock | null, cause: HistoryCause): HistoryEvent[] {
  const shape = after ?? before;
  if (!shape) return [];
  const size = Math.max(before?.allocations.length ?? 0, after?.allocations.length ?? 0);
  const released: HistoryEvent[] = [];
  const assigned: HistoryEvent[] = [];
  for (let ordinal = 0; ordinal < size; ordinal++) {
    const was = liveHolder(before, ordinal);
    const is = liveHolder(after, ordinal);
    if (was && is && sameHolder(was, is)) {
      if (cause.recordKept) released.push(eventOf(shape, ordinal, 'kept', is, cause));
      continue;
    }
    if (was) released.push(eventOf(shape, ordinal, 'released', was, cause));
    if (is) assigned.push(eventOf(shape, ordinal, 'assigned', is, cause));
  }
  return [...released, ...assigned];
}

function eventOf(block: AllocationBlock, ordinal: number, action: AddressChange['action'], holder: AllocationAttribute, cause: HistoryCause): HistoryEvent {
  const change: AddressChange = {
    action,
    ordinal,
    ...(holder.handleId !== undefined && { handleId: holder.handleId }),
    attributes: holder.secondary ?? {},
  };
  return {
    action,
    kind: cause.kindOf(change),
    ip: ordinalAddress(block, ordinal),
    block: formatCidr(block.cidr),
    ...(holder.handleId !== undefined && { handleId: holder.handleId }),
    attributes: holder.secondary ?? {},
  };
}

import { addressAt, formatIp } from '@atoll/ipmath';
import { AttributeKeys } from '@atoll/model';
import { Datastore } from '@atoll/store';
import { allocatedOrdinals, attributeOf } from './block';
import { IpamRecords, type BlockRecord } from './io';

export interface Allocation {
  readonly address: string;
  readonly block: string;
  readonly handleId?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly sequenceNumber: bigint;
  /** The block's owner (`host:<node>`), or null for an unaffine block. */
  readonly blockAffinity: string | null;
}

export interface AllocationFilter {
  /** Only allocations whose `node` attribute is this node. */
  readonly node?: string;
  /** Only allocations whose handle starts with this prefix. */
  readonly handlePrefix?: string;
}

/** Every live allocation (cooling-down addresses excluded), from one listing of the blocks. */
export async function listAllocations(ds: Datastore, filter: AllocationFilter = {}): Promise<Allocation[]> {
  const out: Allocation[] = [];
  for (const b of await new IpamRecords(ds).listBlocks()) {
    for (const a of allocationsOfBlock(b)) {
      if (filter.node !== undefined && a.attributes[AttributeKeys.node] !== filter.node) continue;
      if (filter.handlePrefix !== undefined && !(a.handleId ?? '').startsWith(filter.handlePrefix)) continue;
      out.push(a);
    }
  }
  return out;
}

/** The live allocations of one block (cooling-down addresses excluded), in ordinal order. */
export function allocationsOfBlock(b: BlockRecord): Allocation[] {
  return allocatedOrdinals(b.value).map((ord) => {
    const attr = attributeOf(b.value, ord)!;
    return {
      address: formatIp(addressAt(b.value.cidr, ord)),
      block: b.cidrText,
      ...(attr.handleId !== undefined && { handleId: attr.handleId }),
      attributes: { ...(attr.secondary ?? {}) },
      sequenceNumber: b.value.sequenceNumberForAllocation[String(ord)] ?? 0n,
      blockAffinity: b.value.affinity,
    };
  });
}

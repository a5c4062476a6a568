import { Cidr, cidrContainsCidr, cidrSize, formatCidr } from '@atoll/ipmath';
import type { BlockUtilization, PoolUtilization, Utilization } from './ipam';
import type { BlockRecord } from './io';
import type { ReservedAddresses } from './pools/reservations';
import type { PoolView } from './types';

/** Number of addresses of `within` covered by the union of `cidrs` (overlaps counted once). */
export function coveredCount(within: Cidr, cidrs: readonly Cidr[]): bigint {
  const lo = within.base;
  const hi = within.base + cidrSize(within);
  const ranges = cidrs
    .filter((c) => c.version === within.version)
    .map((c) => [c.base > lo ? c.base : lo, c.base + cidrSize(c) < hi ? c.base + cidrSize(c) : hi] as [bigint, bigint])
    .filter(([a, b]) => a < b)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  let total = 0n;
  let end = lo;
  for (const [a, b] of ranges) {
    const start = a > end ? a : end;
    if (b > start) {
      total += b - start;
      end = b;
    }
  }
  return total;
}

function blockUtilization(b: BlockRecord, reservations: ReservedAddresses): BlockUtilization & { reservedInUse: bigint } {
  const isReserved = reservations.ordinalPredicate(b.value.cidr);
  let inUse = 0n;
  let reserved = 0n;
  let reservedInUse = 0n;
  b.value.allocations.forEach((a, ord) => {
    const r = isReserved(ord);
    if (r) reserved++;
    if (a !== null) {
      inUse++;
      if (r) reservedInUse++;
    }
  });
  const capacity = cidrSize(b.value.cidr);
  return { cidr: b.cidrText, affinity: b.value.affinity, capacity, inUse, reserved, available: capacity - inUse - reserved + reservedInUse, reservedInUse };
}

/**
 * Per pool and per block: capacity, addresses in use (cooling-down ones included, they
 * cannot be handed out), reserved, and available = capacity − (in use ∪ reserved).
 */
export function computeUtilization(
  pools: readonly PoolView[],
  blocks: readonly BlockRecord[],
  reservations: ReservedAddresses,
): Utilization {
  const reserved = reservations.cidrs;
  const claimed = new Set<string>();
  const out: PoolUtilization[] = pools.map((pool) => {
    const inPool = blocks.filter((b) => cidrContainsCidr(pool.cidr, b.value.cidr));
    const bu = inPool.map((b) => {
      claimed.add(b.cidrText);
      return blockUtilization(b, reservations);
    });
    const capacity = cidrSize(pool.cidr);
    const inUse = bu.reduce((s, b) => s + b.inUse, 0n);
    const reservedInUse = bu.reduce((s, b) => s + b.reservedInUse, 0n);
    const poolReserved = coveredCount(pool.cidr, reserved);
    return {
      name: pool.name,
      cidr: formatCidr(pool.cidr),
      capacity,
      inUse,
      reserved: poolReserved,
      available: capacity - inUse - poolReserved + reservedInUse,
      blocks: bu.map(({ reservedInUse: _r, ...rest }) => rest),
    };
  });
  const orphanBlocks = blocks
    .filter((b) => !claimed.has(b.cidrText))
    .map((b) => {
      const { reservedInUse: _r, ...rest } = blockUtilization(b, reservations);
      return rest;
    });
  return { pools: out, orphanBlocks };
}

import { Cidr, cidrContainsCidr, cidrSize, cidrsOverlap, parseCidr } from '@atoll/ipmath';

/**
 * Addresses kept out of automatic assignment by IPReservations. Only automatic
 * assignment consults it; a specific-address request may use a reserved address.
 */
export class ReservedAddresses {
  readonly cidrs: readonly Cidr[];

  constructor(cidrTexts: readonly string[]) {
    this.cidrs = cidrTexts.flatMap((t) => {
      try {
        return [parseCidr(t, { allowBareAddress: true })];
      } catch {
        return []; // validated when the reservation was stored; a bad entry reserves nothing
      }
    });
  }

  get isEmpty(): boolean {
    return this.cidrs.length === 0;
  }

  /** True when every address of the block is reserved: the block is skipped entirely. */
  coversBlock(block: Cidr): boolean {
    return this.cidrs.some((r) => cidrContainsCidr(r, block));
  }

  /** Predicate over the block's ordinals; cheap to call per ordinal. */
  ordinalPredicate(block: Cidr): (ordinal: number) => boolean {
    const ranges: [number, number][] = [];
    for (const r of this.cidrs) {
      if (!cidrsOverlap(r, block)) continue;
      if (cidrContainsCidr(r, block)) return () => true;
      const from = Number(r.base - block.base);
      ranges.push([from, from + Number(cidrSize(r))]);
    }
    if (ranges.length === 0) return () => false;
    return (o) => ranges.some(([a, b]) => o >= a && o < b);
  }

  /** Number of the block's addresses that are reserved. */
  countInBlock(block: Cidr): number {
    const isReserved = this.ordinalPredicate(block);
    let n = 0;
    for (let o = 0; o < Number(cidrSize(block)); o++) if (isReserved(o)) n++;
    return n;
  }
}

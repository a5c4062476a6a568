import { formatCidr, tryParseCidr } from '@atoll/ipmath';

/** About 11 MB with CNI handle IDs (80 characters); a handle whose entry was dropped is read first, as without a hint. */
const DEFAULT_MAX_ENTRIES = 65536;

/**
 * The block this engine last gave each handle its addresses in, when they all went into
 * one: a hint that lets releaseByHandle join that block's release batch without reading
 * the handle first. Only ever a hint — the batch reads the handle and the block afresh and
 * decides from that read alone, so a wrong or stale entry costs the read it would have
 * saved, never a wrong answer. Bounded; the oldest entries are dropped first.
 */
export class HandleLocations {
  private readonly blockOf = new Map<string, string>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  /** Learns from an allocation's addresses, written with their block's prefix length (`10.0.0.5/26`). */
  learn(handleId: string, addresses: readonly string[]): void {
    this.blockOf.delete(handleId);
    const blocks = new Set(addresses.map((a) => {
      const cidr = tryParseCidr(a);
      return cidr && formatCidr(cidr);
    }));
    const [only] = blocks;
    if (blocks.size !== 1 || only === undefined) return;
    this.blockOf.set(handleId, only);
    if (this.blockOf.size > this.maxEntries) this.blockOf.delete(this.blockOf.keys().next().value as string);
  }

  /** The hinted block of a handle, forgetting it (a release ends the handle either way). */
  take(handleId: string): string | undefined {
    const cidrText = this.blockOf.get(handleId);
    this.blockOf.delete(handleId);
    return cidrText;
  }
}

import { blockCount, blockIndex, Cidr, cidrContainsCidr, formatCidr, IpVersion } from '@atoll/ipmath';
import { affinityString } from '@atoll/model';
import { Datastore } from '@atoll/store';
import { claimBlock } from '../affinity/claim';
import { releaseBlockAffinity } from '../affinity/release';
import { freeOrdinals, isEmpty } from '../block';
import { isIpamError } from '../errors';
import { IpamRecords, type BlockRecord } from '../io';
import { hostBlockOrder, fnv1Hash32 } from '../pools/block-order';
import type { IpamContext } from '../resource-view';
import type { PoolView } from '../types';
import { RetryableConflict } from '../retry';
import { HostAffinityCache } from './affinity-cache';
import { BlockCache } from './block-cache';
import { WorkingSet } from './working-set';

/** Calico reclaims another host's empty block only once it has been claimed this long. */
export const EMPTY_BLOCK_MIN_RECLAIM_AGE_MS = 60_000;

/**
 * Finds blocks for one allocation attempt of one host: the host's own blocks, a new
 * block to claim, or other blocks to borrow from. Reads are made once per attempt and
 * every block it hands out is in the attempt's working set.
 */
export class BlockSearch {
  /** Which blocks of a family exist, by CIDR text: listed once per attempt, keys only. */
  private readonly existing = new Map<IpVersion, Promise<Map<string, Cidr>>>();
  private readonly reserved = new Map<string, (o: number) => boolean>();
  /** Families whose affinities were listed in this attempt. */
  private readonly listed = new Set<IpVersion>();
  /** Blocks claimed in this attempt, by CIDR text: the host's own from then on. */
  private readonly claimedHere = new Map<string, BlockRecord>();

  constructor(
    private readonly deps: {
      ds: Datastore;
      records: IpamRecords;
      ws: WorkingSet;
      host: string;
      ctx: IpamContext;
      now: Date;
      affinityCache: HostAffinityCache;
      blockCache: BlockCache;
      /** Blocks read up front with the requests' handles, by CIDR text. */
      preloaded: ReadonlyMap<string, BlockRecord>;
      /** Planning from cached blocks: anything beyond them needs a fresh read first. */
      optimistic: boolean;
    },
  ) {}

  reservedPredicate(block: Cidr): (o: number) => boolean {
    const key = formatCidr(block);
    let p = this.reserved.get(key);
    if (!p) {
      p = this.deps.ctx.reservations.ordinalPredicate(block);
      this.reserved.set(key, p);
    }
    return p;
  }

  hasFree(cidrText: string): boolean {
    const block = this.deps.ws.block(cidrText);
    if (!block) return false;
    const isReserved = this.reservedPredicate(block.cidr);
    return block.unallocated.some((o) => !isReserved(o));
  }

  /**
   * Cached blocks looked full: they may be stale (an address released since), so before
   * claiming or borrowing — or answering "none left" — the attempt starts over from a read.
   */
  needFresh(): void {
    if (this.deps.optimistic) throw new RetryableConflict('cached blocks are not enough; re-read');
  }

  /**
   * The host's blocks of a family, in key order (lexicographic by CIDR text, as Calico):
   * from the affinity cache and the blocks read up front when the cache knows the host,
   * else from a listing of the host's affinities.
   */
  async affineBlocks(version: IpVersion): Promise<BlockRecord[]> {
    const cached = this.deps.affinityCache.get(this.deps.host, version);
    if (cached === undefined) return this.listAffine(version);
    const out: BlockRecord[] = [];
    for (const cidrText of cached) {
      // A block claimed earlier in this attempt (for an earlier request of the batch) is
      // the host's too; without it every request of a new host's batch claimed a block.
      const rec = this.deps.preloaded.get(cidrText) ?? this.claimedHere.get(cidrText);
      if (rec && this.isOurs(rec)) out.push(rec);
      else this.deps.affinityCache.remove(this.deps.host, version, cidrText);
    }
    return this.adopt(out);
  }

  /**
   * Lists the host's affinities again (once per attempt and family) and returns blocks
   * the cache did not know — claimed by another replica for this host, say. Called before
   * claiming a new block or refusing for the block limit, so neither rests on a stale hint.
   */
  async refreshAffine(version: IpVersion, known: readonly BlockRecord[]): Promise<BlockRecord[]> {
    this.needFresh();
    if (this.listed.has(version)) return [];
    const knownCidrs = new Set(known.map((b) => b.cidrText));
    return (await this.listAffine(version)).filter((b) => !knownCidrs.has(b.cidrText));
  }

  private async listAffine(version: IpVersion): Promise<BlockRecord[]> {
    this.listed.add(version);
    const { records, host } = this.deps;
    const affinities = (await records.listHostAffinities(host, version)).filter((a) => a.value.state === 'confirmed');
    const wanted = affinities.map((a) => a.id.cidr).filter((c) => !this.deps.preloaded.has(formatCidr(c)));
    const fetched = await records.getBlocks(wanted);
    this.deps.blockCache.remember(fetched.values());
    const blocks = new Map([...this.deps.preloaded, ...fetched]);
    // A confirmed affinity whose block is gone or says otherwise is stale; the claim path
    // repairs or withdraws it when the block is next wanted.
    const out = affinities.flatMap((a) => {
      const rec = blocks.get(formatCidr(a.id.cidr));
      return rec && this.isOurs(rec) ? [rec] : [];
    });
    this.deps.affinityCache.set(host, version, out.map((b) => b.cidrText));
    return this.adopt(out);
  }

  private isOurs(rec: BlockRecord): boolean {
    return rec.value.affinity === affinityString('host', this.deps.host);
  }

  /** Puts the blocks into the working set; a block already there keeps its in-memory state. */
  private adopt(blocks: BlockRecord[]): BlockRecord[] {
    for (const b of blocks) this.deps.ws.addBlock(b);
    return blocks;
  }

  /**
   * Every block of a family that exists, from a keys-only listing: finding a free position
   * or the blocks to borrow from needs to know which blocks exist, not what they hold, and
   * at thousands of blocks their values are what costs (time and allocator memory).
   */
  private existingBlocks(version: IpVersion): Promise<Map<string, Cidr>> {
    let p = this.existing.get(version);
    if (!p) {
      p = this.deps.records.listBlockCidrs(version).then((cidrs) => new Map(cidrs.map((c) => [formatCidr(c), c])));
      this.existing.set(version, p);
    }
    return p;
  }

  /**
   * Claims a block for the host: the first block position (from the host's starting point)
   * in the pools that has no block yet, or failing that another host's empty block that
   * was claimed over a minute ago. Undefined when nothing can be claimed. Only the blocks
   * it claims are read, unless no position is free.
   */
  async claimNewBlock(pools: readonly PoolView[], version: IpVersion): Promise<BlockRecord | undefined> {
    const { ctx, host, ws } = this.deps;
    const existing = await this.existingBlocks(version);
    // Positions holding a block, in walk order: where to look for a reclaimable one.
    const occupied: Cidr[] = [];
    for (const pool of pools) {
      for (const cidr of hostBlockOrder(pool.cidr, pool.blockSize, host)) {
        if (ctx.reservations.coversBlock(cidr)) continue;
        const text = formatCidr(cidr);
        if (ws.hasBlock(text)) continue; // claimed or read earlier in this attempt
        if (existing.has(text)) {
          occupied.push(cidr);
          continue;
        }
        const claimed = await this.claim(cidr);
        if (claimed) return claimed;
      }
    }
    return this.reclaimEmptyBlock(occupied);
  }

  /**
   * Takes over the first of `cidrs` that is another host's empty block claimed long enough
   * ago. The blocks are read a page at a time, up to the first one taken over.
   */
  private async reclaimEmptyBlock(cidrs: readonly Cidr[]): Promise<BlockRecord | undefined> {
    for await (const rec of this.deps.records.blocksInPages(cidrs)) {
      if (!this.isReclaimable(rec)) continue;
      const released = await releaseBlockAffinity(this.deps.ds, {
        host: rec.value.affinity!.slice(rec.value.affinity!.indexOf(':') + 1),
        type: rec.value.affinity!.startsWith('virtual:') ? 'virtual' : 'host',
        cidr: rec.value.cidr,
        requireEmpty: true,
        requiredSequenceNumber: rec.value.sequenceNumber,
      }).catch((err: unknown) => {
        if (isIpamError(err, 'block-not-empty') || isIpamError(err, 'sequence-mismatch')) return 'not-ours' as const;
        throw err;
      });
      if (released !== 'released') continue;
      const claimed = await this.claim(rec.value.cidr);
      if (claimed) return claimed;
    }
    return undefined;
  }

  private isReclaimable(rec: BlockRecord): boolean {
    const b = rec.value;
    if (b.affinity === null || b.affinity === affinityString('host', this.deps.host) || !isEmpty(b)) return false;
    if (freeOrdinals(b, this.reservedPredicate(b.cidr)).length === 0) return false;
    // A block without a claim time predates claim times and counts as old enough.
    const claimed = b.affinityClaimTime === undefined ? 0 : Date.parse(b.affinityClaimTime);
    return this.deps.now.getTime() - claimed >= EMPTY_BLOCK_MIN_RECLAIM_AGE_MS;
  }

  private async claim(cidr: Cidr): Promise<BlockRecord | undefined> {
    const outcome = await claimBlock(this.deps.ds, { host: this.deps.host, cidr, now: this.deps.now });
    if (outcome.kind !== 'claimed') {
      // Someone created this block since we listed: the list is stale for borrowing too.
      this.existing.delete(cidr.version);
      return undefined;
    }
    this.claimedHere.set(outcome.block.cidrText, outcome.block);
    this.deps.ws.addBlock(outcome.block);
    this.deps.blockCache.remember([outcome.block]);
    this.deps.affinityCache.add(this.deps.host, cidr.version, outcome.block.cidrText);
    return outcome.block;
  }

  /**
   * Existing blocks of the pool with room, in the host's walk order, for borrowing. Only
   * blocks that exist are visited, so a huge IPv6 pool costs what it holds, not its size;
   * they are read a page at a time, as far as the caller iterates.
   */
  async *blocksToBorrow(pool: PoolView): AsyncGenerator<BlockRecord> {
    const { ws, host, ctx } = this.deps;
    const count = blockCount(pool.cidr, pool.blockSize);
    const start = BigInt(fnv1Hash32(host)) % count;
    const inPool = [...(await this.existingBlocks(pool.cidr.version)).values()]
      .filter((c) => c.prefix === pool.blockSize && cidrContainsCidr(pool.cidr, c) && !ctx.reservations.coversBlock(c))
      .map((cidr) => ({ cidr, rank: (blockIndex(pool.cidr, cidr) - start + count) % count }))
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    for await (const rec of this.deps.records.blocksInPages(inPool.map((b) => b.cidr))) {
      ws.addBlock(rec);
      if (this.hasFree(rec.cidrText)) yield rec;
    }
  }
}

import { parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { releaseBlockAffinity, type ReleaseBlockAffinityOutcome } from '../affinity/release';
import { allocationsOfBlock, type Allocation } from '../allocations';
import { freeCooledDown, isEmpty } from '../block';
import { getIpamConfig } from '../config';
import { blockChange, commitChanges, IpamRecords } from '../io';
import { DEFAULT_RETRY_POLICY, retryOnConflict, type RetryPolicy } from '../retry';
import type { EmptyBlockRelease, GcBlock, GcScan } from './types';

export interface IpamGcOperationsOptions {
  readonly datastore: Datastore;
  readonly now?: () => Date;
  readonly retry?: RetryPolicy;
}

/**
 * The garbage collector's I/O on the IPAM data, beside what the engine offers
 * (`releaseIPs`, `releaseHostAffinities`): one consistent scan, the cold-address pass and
 * the release of an empty block checked against the sequence number it was seen with.
 * Every write is a compare-and-swap through the engine's one write path.
 */
export class IpamGcOperations {
  private readonly ds: Datastore;
  private readonly records: IpamRecords;
  private readonly now: () => Date;
  private readonly retry: RetryPolicy;

  constructor(opts: IpamGcOperationsOptions) {
    this.ds = opts.datastore;
    this.records = new IpamRecords(opts.datastore);
    this.now = opts.now ?? (() => new Date());
    this.retry = opts.retry ?? DEFAULT_RETRY_POLICY;
  }

  /** Every live allocation and every block, from ONE listing of the blocks (cooling-down addresses excluded). */
  async scan(): Promise<GcScan> {
    const allocations: Allocation[] = [];
    const blocks: GcBlock[] = [];
    for (const b of await this.records.listBlocks()) {
      blocks.push({ cidr: b.cidrText, affinity: b.value.affinity, empty: isEmpty(b.value), sequenceNumber: b.value.sequenceNumber });
      allocations.push(...allocationsOfBlock(b));
    }
    return { allocations, blocks };
  }

  /**
   * The cold-address backstop (Calico's garbageCollectColdIPs): released addresses stay in
   * cooldown until some write to their block frees them, so blocks nobody writes keep them
   * (and stay non-empty) forever. This rewrites exactly the blocks holding an address whose
   * cooldown has passed: each is re-read and compare-and-swapped on its own, an empty
   * unaffine block is deleted. Returns how many blocks were written and addresses freed.
   */
  async freeCooledDownAddresses(): Promise<{ blocks: number; addresses: number }> {
    const { ipCooldownSeconds } = await getIpamConfig(this.ds);
    let blocks = 0;
    let addresses = 0;
    for (const listed of await this.records.listBlocks()) {
      if (countCooling(listed.value, this.now(), ipCooldownSeconds) === 0) continue;
      const freed = await retryOnConflict(async () => {
        const block = await this.records.getBlock(listed.value.cidr);
        if (!block) return 0;
        const now = this.now();
        const ready = countCooling(block.value, now, ipCooldownSeconds);
        if (ready === 0) return 0;
        const next = freeCooledDown(block.value, { now, cooldownSeconds: ipCooldownSeconds });
        await commitChanges(this.ds, [blockChange(block, isEmpty(next) && next.affinity === null ? null : next)]);
        return ready;
      }, this.retry);
      if (freed > 0) {
        blocks++;
        addresses += freed;
      }
    }
    return { blocks, addresses };
  }

  /**
   * Gives up the node's affinity for an empty block and deletes it — refused
   * (`block-not-empty`, `sequence-mismatch`) when the block holds an address or was written
   * since it was seen at `sequenceNumber`.
   */
  releaseEmptyBlock(b: EmptyBlockRelease): Promise<ReleaseBlockAffinityOutcome> {
    return releaseBlockAffinity(this.ds, { host: b.node, cidr: parseCidr(b.cidr), requireEmpty: true, requiredSequenceNumber: b.sequenceNumber });
  }
}

/** Cooling-down ordinals whose cooldown has passed (what freeCooledDown would free). */
function countCooling(block: Parameters<typeof freeCooledDown>[0], now: Date, cooldownSeconds: number): number {
  const before = block.unallocated.length;
  return freeCooledDown(block, { now, cooldownSeconds }).unallocated.length - before;
}

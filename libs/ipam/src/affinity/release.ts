import { Cidr, formatCidr } from '@atoll/ipmath';
import { affinityString, AffinityKey, AffinityType } from '@atoll/model';
import { Datastore, StoreConflictError } from '@atoll/store';
import { isEmpty } from '../block';
import { IpamError, Messages } from '../errors';
import { affinityChange, blockChange, commitChanges, IpamRecords } from '../io';
import type { HistoryCause } from '../history/history-cause';
import { retryOnConflict } from '../retry';

export interface ReleaseBlockAffinityRequest {
  readonly host: string;
  readonly type?: AffinityType;
  readonly cidr: Cidr;
  /** Refuse (block-not-empty) unless the block holds no live address. */
  readonly requireEmpty: boolean;
  /** Refuse when the block changed since the caller read it at this sequence number. */
  readonly requiredSequenceNumber?: bigint;
  /** Why, for the allocation history (a deleted pool records the addresses its blocks still hold). */
  readonly historyCause?: HistoryCause;
}

export type ReleaseBlockAffinityOutcome = 'released' | 'not-ours' | 'no-affinity';

/**
 * Gives up a host's affinity for a block. An empty block is deleted; a non-empty one
 * becomes unaffine (its addresses stay, a later release deletes it once empty). Calico
 * does this in three writes through a `pendingDeletion` state; here it is one transaction
 * over the affinity and the block, so an allocation racing the release either lands
 * before it (and the block is kept) or fails its compare and re-reads.
 */
export async function releaseBlockAffinity(ds: Datastore, req: ReleaseBlockAffinityRequest): Promise<ReleaseBlockAffinityOutcome> {
  if (!req.host) throw new IpamError('invalid-argument', Messages.hostRequired);
  const records = new IpamRecords(ds);
  const type = req.type ?? 'host';
  const id: AffinityKey = { type, host: req.host, cidr: req.cidr };

  return retryOnConflict(async () => {
    const [affinity, block] = await Promise.all([records.getAffinity(id), records.getBlock(req.cidr)]);
    if (!affinity) return 'no-affinity';
    if (!block || block.value.affinity !== affinityString(type, req.host)) {
      // An affinity without its block (or for someone else's block) is stale: drop it.
      await commitChanges(ds, [affinityChange(id, affinity, null)]).catch(ignoreConflict);
      return 'not-ours';
    }
    if (req.requiredSequenceNumber !== undefined && block.value.sequenceNumber !== req.requiredSequenceNumber) {
      throw new IpamError('sequence-mismatch', 'IPAM block updated since we last read it');
    }
    const empty = isEmpty(block.value);
    if (req.requireEmpty && !empty) {
      throw new IpamError('block-not-empty', Messages.blockNotEmpty(formatCidr(req.cidr)));
    }
    const { affinityClaimTime: _released, ...rest } = block.value;
    await commitChanges(ds, [
      affinityChange(id, affinity, null),
      blockChange(block, empty ? null : { ...rest, affinity: null }),
    ], req.historyCause);
    return 'released';
  });
}

function ignoreConflict(err: unknown): void {
  if (!(err instanceof StoreConflictError)) throw err;
}

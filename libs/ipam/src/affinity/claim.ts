import { Cidr, formatCidr } from '@atoll/ipmath';
import { affinityString, AffinityKey, AffinityType } from '@atoll/model';
import { Datastore, StoreConflictError } from '@atoll/store';
import { newBlock } from '../block';
import { affinityChange, blockChange, commitChanges, IpamRecords, toBlockRecord, type BlockRecord } from '../io';
import { retryOnConflict, RetryableConflict } from '../retry';

export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly block: BlockRecord }
  /** Another owner holds the block; our pending affinity was withdrawn. */
  | { readonly kind: 'taken'; readonly owner: string | null };

export interface ClaimRequest {
  readonly host: string;
  readonly type?: AffinityType;
  readonly cidr: Cidr;
  readonly now: Date;
}

/**
 * Claims a block for a host in two phases, as Calico does: first an affinity in state
 * `pending` (readers treat it as absent), then the block is created together with the
 * affinity turning `confirmed`. Calico writes those last two separately; here they are one
 * transaction, so no reader can see a block whose owner's affinity is still pending. A
 * crash after phase one leaves a pending affinity that the next claim of the same host
 * completes.
 */
export async function claimBlock(ds: Datastore, req: ClaimRequest): Promise<ClaimOutcome> {
  const records = new IpamRecords(ds);
  const type = req.type ?? 'host';
  const id: AffinityKey = { type, host: req.host, cidr: req.cidr };
  const ours = affinityString(type, req.host);

  return retryOnConflict(async () => {
    const [affinity, existing] = await Promise.all([records.getAffinity(id), records.getBlock(req.cidr)]);

    if (existing) {
      if (existing.value.affinity !== ours) {
        if (affinity) await withdraw(ds, id, affinity.revision);
        return { kind: 'taken', owner: existing.value.affinity };
      }
      if (affinity?.value.state === 'confirmed') return { kind: 'claimed', block: existing };
      // Our block with a missing or unconfirmed affinity: a claim interrupted half-way
      // (ours, or Calico's pending → create → confirm). Confirm it, bumping the block so
      // that anyone who read it in between has to re-read.
      await commitChanges(ds, [
        affinityChange(id, affinity, { state: 'confirmed', deleted: false }),
        blockChange(existing, existing.value),
      ]);
      const block = await records.getBlock(req.cidr);
      if (!block) throw new RetryableConflict(`block ${formatCidr(req.cidr)} vanished while being confirmed`);
      return { kind: 'claimed', block };
    }

    // Phase one: announce the claim.
    let pendingRevision: bigint;
    if (affinity?.value.state === 'pending') pendingRevision = affinity.revision;
    else pendingRevision = await commitChanges(ds, [affinityChange(id, affinity, { state: 'pending', deleted: false })]);

    // Phase two: create the block and confirm, atomically.
    const block = newBlock({ cidr: req.cidr, affinity: ours, now: req.now });
    try {
      const change = blockChange(undefined, block);
      const revision = await commitChanges(ds, [
        change,
        affinityChange(id, { revision: pendingRevision }, { state: 'confirmed', deleted: false }),
      ]);
      return { kind: 'claimed', block: toBlockRecord({ key: change.key, value: change.next as string, revision }) };
    } catch (err) {
      if (err instanceof StoreConflictError) throw new RetryableConflict(`claim of ${formatCidr(req.cidr)} raced another writer`);
      throw err;
    }
  });
}

/** Deletes our own affinity if it is still at the revision we saw; a concurrent change wins. */
async function withdraw(ds: Datastore, id: AffinityKey, revision: bigint): Promise<void> {
  try {
    await commitChanges(ds, [affinityChange(id, { revision }, null)]);
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
  }
}

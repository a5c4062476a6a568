import { addressAt, Cidr, formatCidr, formatIp, parseCidr, tryParseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { isEmpty, ordinalsOfHandle, releaseHandleOrdinals } from '../block';
import { IpamError, Messages } from '../errors';
import { blockChange, Change, commitChanges, handleChange, IpamRecords } from '../io';
import { historyCause } from '../history/history-cause';
import { retryOnConflict, RetryPolicy } from '../retry';
import type { BlockReleaser } from './block-releaser';
import type { HandleLocations } from './handle-locations';

/** What the allocation history records for the addresses this writes. */
const RELEASE_HANDLE_CAUSE = historyCause('release-handle');

export interface ReleaseByHandleDeps {
  readonly ds: Datastore;
  readonly now: () => Date;
  readonly retry?: RetryPolicy;
  readonly cooldownSeconds: number;
  readonly releaser: BlockReleaser;
  readonly locations: HandleLocations;
}

/**
 * Releases every address of a handle, the handle record included, in one transaction.
 * A handle in ONE block — a pod's, nearly always — joins that block's release batch
 * (BlockReleaser), so that the pods of a node deleted together share one read and one
 * transaction instead of racing for the block. The block is the one this engine
 * allocated the handle's addresses in (HandleLocations), else the one the handle record
 * names. A handle in several blocks, or in none, takes the slower path of its own
 * transaction over all of them, as does one whose blocks changed before its batch ran.
 */
export async function releaseByHandle(deps: ReleaseByHandleDeps, handleId: string): Promise<string[]> {
  const hinted = deps.locations.take(handleId);
  if (hinted !== undefined) {
    const freed = await releaseInOneBlock(deps, parseCidr(hinted), handleId);
    if (freed) return freed;
  }
  const handle = await new IpamRecords(deps.ds).getHandle(handleId);
  if (!handle) throw new IpamError('not-found', Messages.handleNotFound(handleId));
  const named = Object.keys(handle.value.block);
  const only = named.length === 1 ? tryParseCidr(named[0]!) : undefined;
  if (only) {
    const freed = await releaseInOneBlock(deps, only, handleId);
    if (freed) return freed;
  }
  return releaseAcrossBlocks(deps, handleId);
}

/** The freed addresses, or undefined when the batch found the handle not (only) in this block. */
async function releaseInOneBlock(deps: ReleaseByHandleDeps, cidr: Cidr, handleId: string): Promise<string[] | undefined> {
  const outcome = await deps.releaser.releaseHandle(formatCidr(cidr), handleId, deps.cooldownSeconds);
  return outcome.kind === 'handle' ? outcome.freed.map((o) => formatIp(addressAt(cidr, o))) : undefined;
}

/**
 * The handle and all the blocks it names are read, released and written in ONE
 * transaction. Blocks that no longer hold any of the handle's addresses lose their entry
 * in the handle, so stale entries do not linger (Calico leaves them). An empty block with
 * no affinity is deleted.
 */
async function releaseAcrossBlocks(deps: ReleaseByHandleDeps, handleId: string): Promise<string[]> {
  const records = new IpamRecords(deps.ds);
  return retryOnConflict(async () => {
    const handle = await records.getHandle(handleId);
    if (!handle) throw new IpamError('not-found', Messages.handleNotFound(handleId));
    const cidrs = Object.keys(handle.value.block).map((c) => parseCidr(c));
    const blocks = await records.getBlocks(cidrs);
    const timing = { now: deps.now(), cooldownSeconds: deps.cooldownSeconds };
    const changes: Change[] = [];
    const freed: string[] = [];
    for (const cidr of cidrs) {
      const text = formatCidr(cidr);
      const block = blocks.get(text);
      if (!block) continue;
      const r = releaseHandleOrdinals(block.value, handleId, timing);
      if (r.released.length === 0) continue;
      freed.push(...r.released.map((o) => formatIp(addressAt(cidr, o))));
      changes.push(blockChange(block, isEmpty(r.block) && r.block.affinity === null ? null : r.block));
    }
    changes.push(handleChange(handleId, handle, null));
    await commitChanges(deps.ds, changes, RELEASE_HANDLE_CAUSE);
    return freed;
  }, deps.retry);
}

/** The addresses a handle holds now (read from its blocks, not from its counts). */
export async function ipsByHandle(ds: Datastore, handleId: string): Promise<string[]> {
  const records = new IpamRecords(ds);
  const handle = await records.getHandle(handleId);
  if (!handle) throw new IpamError('not-found', Messages.handleNotFound(handleId));
  const blocks = await records.getBlocks(Object.keys(handle.value.block).map((c) => parseCidr(c)));
  const out: string[] = [];
  for (const b of blocks.values()) {
    for (const o of ordinalsOfHandle(b.value, handleId)) out.push(formatIp(addressAt(b.value.cidr, o)));
  }
  return out;
}

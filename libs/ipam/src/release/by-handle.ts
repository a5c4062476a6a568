import { addressAt, formatCidr, formatIp, parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { isEmpty, ordinalsOfHandle, releaseHandleOrdinals } from '../block';
import { IpamError, Messages } from '../errors';
import { blockChange, Change, commitChanges, handleChange, IpamRecords } from '../io';
import { retryOnConflict, RetryPolicy } from '../retry';

/**
 * Releases every address of a handle: the handle and all the blocks it names are read,
 * released and written in ONE transaction. Blocks that no longer hold any of the
 * handle's addresses lose their entry in the handle, so stale entries do not linger
 * (Calico leaves them). An empty block with no affinity is deleted.
 */
export async function releaseByHandle(
  deps: { ds: Datastore; now: () => Date; retry?: RetryPolicy; cooldownSeconds: number },
  handleId: string,
): Promise<string[]> {
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
    await commitChanges(deps.ds, changes);
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

import { formatCidr, formatIp, ordinalOf, parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { attributeOf, freeCooledDown, reassignOrdinal } from '../block';
import { IpamError } from '../errors';
import { HANDOFF_CAUSE } from '../history/history-cause';
import type { HandOffRequest, HandOffResult } from '../ipam';
import { blockChange, commitChanges, handleChange, IpamRecords } from '../io';
import { locateBlocks, parseAddress } from '../release/locate';
import { retryOnConflict, RetryPolicy } from '../retry';
import type { IpamContext } from '../resource-view';

/**
 * Moves one allocated address from the handle that holds it to another, in ONE
 * transaction: the block (its ordinal now points at the new handle's attributes, its
 * sequence number advanced), the old handle's count minus one (deleted at zero) and the
 * new handle's plus one. The block's and both handles' revisions are the preconditions,
 * so the move happens only while `fromHandleId` still holds the address as it was read;
 * otherwise it is re-read and re-judged. A repeat of a move that already landed succeeds.
 */
export async function handOffIp(deps: { ds: Datastore; now: () => Date; retry?: RetryPolicy }, ctx: IpamContext, req: HandOffRequest): Promise<HandOffResult> {
  const ip = parseAddress(req.ip);
  const text = formatIp(ip);
  if (req.fromHandleId === req.handleId) throw new IpamError('invalid-argument', `cannot hand ${text} off from handle ${req.handleId} to itself`);
  const records = new IpamRecords(deps.ds);
  const [cidrText] = await locateBlocks(records, ctx.pools, [ip]);
  if (cidrText === undefined) throw new IpamError('not-found', `${text} is not assigned`);
  const cidr = parseCidr(cidrText);

  const moved = await retryOnConflict(async () => {
    const [block, handles] = await Promise.all([records.getBlock(cidr), records.getHandles([req.fromHandleId, req.handleId])]);
    if (!block) throw new IpamError('not-found', `${text} is not assigned`);
    const current = freeCooledDown(block.value, { now: deps.now(), cooldownSeconds: ctx.config.ipCooldownSeconds });
    const ordinal = ordinalOf(current.cidr, ip);
    const holder = attributeOf(current, ordinal);
    if (!holder || holder.releasedAt !== undefined) throw new IpamError('not-found', `${text} is not assigned`);
    if (holder.handleId === req.handleId) return false; // an earlier attempt landed; its answer was lost
    if (holder.handleId !== req.fromHandleId) {
      throw new IpamError('conflict', `${text} is held by handle ${holder.handleId ?? '(none)'}, not ${req.fromHandleId}: not handed off`);
    }
    const next = reassignOrdinal(current, ordinal, { handleId: req.handleId, attributes: req.attributes });
    if (!next) throw new IpamError('internal', `${text} could not be reassigned in block ${formatCidr(current.cidr)}`);
    const from = handles.get(req.fromHandleId);
    const to = handles.get(req.handleId);
    const fromCounts = { ...(from?.value.block ?? {}) };
    fromCounts[cidrText] = Math.max(0, (fromCounts[cidrText] ?? 0) - 1);
    const toCounts = { ...(to?.value.block ?? {}) };
    toCounts[cidrText] = (toCounts[cidrText] ?? 0) + 1;
    await commitChanges(deps.ds, [
      blockChange(block, next),
      handleChange(req.fromHandleId, from, { block: fromCounts, deleted: false }),
      handleChange(req.handleId, to, { block: toCounts, deleted: false }),
    ], HANDOFF_CAUSE);
    return true;
  }, deps.retry);
  return { address: text, moved };
}

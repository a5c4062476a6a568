import { blockCidrFor, cidrContains, formatCidr, formatIp, IpParseError, ordinalOf, parseIp } from '@atoll/ipmath';
import { affinityString, type AllocationBlock } from '@atoll/model';
import { Datastore } from '@atoll/store';
import { claimBlock } from '../affinity/claim';
import { IpamError, Messages } from '../errors';
import type { AssignIpRequest } from '../ipam';
import { commitChanges, IpamRecords } from '../io';
import { historyCause } from '../history/history-cause';
import { poolContaining } from '../pools/select-pools';
import { retryOnConflict, RetryableConflict, RetryPolicy } from '../retry';
import type { IpamContext } from '../resource-view';
import { WorkingSet } from './working-set';

/** What the allocation history records for the addresses this writes. */
const STATIC_CAUSE = historyCause('static');

/**
 * Assigns one specific address (Calico's AssignIP): it must be inside an enabled pool
 * that allows the intended use; node selectors, assignment mode and IPReservations do
 * not matter. A missing block is claimed for the requesting host. When another host wins
 * that claim, Calico surfaces the race as an error; here the attempt is simply re-run
 * against the block that now exists.
 */
export async function assignSpecificIp(
  deps: { ds: Datastore; now: () => Date; retry?: RetryPolicy },
  ctx: IpamContext,
  req: AssignIpRequest,
): Promise<string> {
  let ip;
  try {
    ip = parseIp(req.ip);
  } catch (err) {
    throw new IpamError('invalid-argument', err instanceof IpParseError ? err.message : `invalid IP address "${req.ip}"`);
  }
  if (!req.handleId) throw new IpamError('invalid-argument', 'a handle ID is required to assign an IP');
  const text = formatIp(ip);
  const pool = poolContaining(ctx.pools, (p) => cidrContains(p.cidr, ip));
  if (!pool) throw new IpamError('not-in-pool', Messages.notInPool);
  if (req.intendedUse && !pool.allowedUses.includes(req.intendedUse)) {
    throw new IpamError('use-not-allowed', Messages.useNotAllowed(text, pool.name, req.intendedUse, pool.allowedUses));
  }
  const blockCidr = blockCidrFor(ip, pool.blockSize);
  const cidrText = formatCidr(blockCidr);
  const records = new IpamRecords(deps.ds);

  await retryOnConflict(async () => {
    const now = deps.now();
    const [block, handles] = await Promise.all([records.getBlock(blockCidr), records.getHandles([req.handleId])]);
    if (!block) {
      await claimBlock(deps.ds, { host: req.hostname, cidr: blockCidr, now });
      throw new RetryableConflict(`block ${cidrText} was just claimed; re-read it`);
    }
    if (ctx.config.strictAffinity && block.value.affinity !== affinityString('host', req.hostname)) {
      throw new IpamError(
        'affinity-mismatch',
        block.value.affinity === null ? Messages.noAffinity(cidrText) : Messages.affinityMismatch,
      );
    }
    const ws = new WorkingSet({ now, cooldownSeconds: ctx.config.ipCooldownSeconds });
    ws.addBlock(block);
    ws.addHandles([req.handleId], handles);
    const ordinal = ordinalOf(blockCidr, ip);
    // Already ours: an earlier attempt of this same request landed although its answer was
    // lost (etcd losing its leader). Handles name one container, so this is a repeat, not a
    // second claim; Calico reports "already assigned" here and the pod fails for nothing.
    if (heldBy(block.value, ordinal) === req.handleId) return;
    if (!ws.assignSpecific(cidrText, ordinal, { handleId: req.handleId, attributes: req.attributes })) {
      throw new IpamError('already-assigned', Messages.alreadyAssigned(text));
    }
    await commitChanges(deps.ds, ws.changes(), STATIC_CAUSE);
  }, deps.retry);
  return text;
}

/** The handle holding `ordinal`, if it is allocated. */
function heldBy(block: AllocationBlock, ordinal: number): string | undefined {
  const index = block.allocations[ordinal];
  return index === null || index === undefined ? undefined : block.attributes[index]?.handleId;
}

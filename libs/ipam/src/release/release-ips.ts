import { formatIp, ordinalOf, parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { isEmpty, releaseOrdinals } from '../block';
import { IpamError, Messages } from '../errors';
import type { ReleaseIpsResult, ReleaseOptions } from '../ipam';
import { blockChange, commitChanges, handleChange, IpamRecords } from '../io';
import { retryOnConflict, RetryPolicy } from '../retry';
import type { IpamContext } from '../resource-view';
import { locateBlocks, parseAddress } from './locate';

export interface ReleaseDeps {
  readonly ds: Datastore;
  readonly now: () => Date;
  readonly retry?: RetryPolicy;
}

/** Blocks are released this many at a time (Calico: GOMAXPROCS). */
const BLOCK_CONCURRENCY = 8;

/**
 * Releases addresses (Calico's ReleaseIPs), one transaction per block covering the block
 * and the handles whose counts it lowers. A stale sequence number or a different handle
 * refuses that block's addresses; other blocks go on.
 */
export async function releaseIps(deps: ReleaseDeps, ctx: IpamContext, opts: readonly ReleaseOptions[]): Promise<ReleaseIpsResult> {
  if (opts.length === 0 || opts.some((o) => !o.address)) throw new IpamError('invalid-argument', Messages.noIpSpecified);
  const ips = opts.map((o) => parseAddress(o.address));
  const records = new IpamRecords(deps.ds);
  const blockOf = await locateBlocks(records, ctx.pools, ips);

  const unallocated: string[] = [];
  const released: ReleaseOptions[] = [];
  const errors: { address: string; error: IpamError }[] = [];
  const byBlock = new Map<string, number[]>();
  blockOf.forEach((cidr, i) => {
    if (cidr === undefined) unallocated.push(formatIp(ips[i]!));
    else byBlock.set(cidr, [...(byBlock.get(cidr) ?? []), i]);
  });

  const work = [...byBlock.entries()];
  const runOne = async ([cidrText, indexes]: [string, number[]]) => {
    try {
      const freed = await releaseInBlock(deps, ctx, records, cidrText, indexes.map((i) => ({ ...opts[i]!, ip: ips[i]! })));
      unallocated.push(...freed.notAllocated);
      released.push(...indexes.map((i) => opts[i]!));
    } catch (err) {
      if (!(err instanceof IpamError) || err.code !== 'sequence-mismatch') throw err;
      for (const i of indexes) errors.push({ address: formatIp(ips[i]!), error: err });
    }
  };
  for (let i = 0; i < work.length; i += BLOCK_CONCURRENCY) await Promise.all(work.slice(i, i + BLOCK_CONCURRENCY).map(runOne));
  return { unallocated, released, errors };
}

async function releaseInBlock(
  deps: ReleaseDeps,
  ctx: IpamContext,
  records: IpamRecords,
  cidrText: string,
  items: readonly (ReleaseOptions & { ip: ReturnType<typeof parseAddress> })[],
): Promise<{ notAllocated: string[] }> {
  const cidr = parseCidr(cidrText);
  return retryOnConflict(async () => {
    const block = await records.getBlock(cidr);
    if (!block) return { notAllocated: items.map((it) => formatIp(it.ip)) };
    const result = releaseOrdinals(
      block.value,
      items.map((it) => ({
        ordinal: ordinalOf(cidr, it.ip),
        ...(it.handleId !== undefined && { handleId: it.handleId }),
        ...(it.sequenceNumber !== undefined && { sequenceNumber: it.sequenceNumber }),
      })),
      { now: deps.now(), cooldownSeconds: ctx.config.ipCooldownSeconds },
    );
    const notAllocated = result.notAllocated.map((o) => formatIp({ version: cidr.version, value: cidr.base + BigInt(o) }));
    if (result.released.length === 0) return { notAllocated };

    const handleIds = [...result.handleCounts.keys()];
    const handles = await records.getHandles(handleIds);
    const changes = [blockChange(block, isEmpty(result.block) && result.block.affinity === null ? null : result.block)];
    for (const id of handleIds) {
      const h = handles.get(id);
      if (!h) continue; // a block entry with no handle record: nothing to count down
      const counts = { ...h.value.block };
      counts[cidrText] = Math.max(0, (counts[cidrText] ?? 0) - result.handleCounts.get(id)!);
      changes.push(handleChange(id, h, { ...h.value, block: counts }));
    }
    await commitChanges(deps.ds, changes);
    return { notAllocated };
  }, deps.retry);
}

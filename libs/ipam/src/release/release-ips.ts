import { addressAt, formatIp, IpAddress, ordinalOf, parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { IpamError, Messages } from '../errors';
import type { ReleaseIpsResult, ReleaseOptions } from '../ipam';
import { IpamRecords } from '../io';
import type { IpamContext } from '../resource-view';
import type { BlockReleaser } from './block-releaser';
import { locateBlocks, parseAddress } from './locate';

export interface ReleaseDeps {
  readonly ds: Datastore;
  readonly releaser: BlockReleaser;
}

/** Blocks are released this many at a time (Calico: GOMAXPROCS). */
const BLOCK_CONCURRENCY = 8;

/**
 * Releases addresses (Calico's ReleaseIPs), one transaction per block covering the block
 * and the handles whose counts it lowers — shared with other releases queued for the same
 * block (BlockReleaser). A stale sequence number or a different handle refuses this call's
 * addresses in that block; other blocks, and other calls' releases, go on.
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
      const freed = await releaseInBlock(deps, ctx, cidrText, indexes.map((i) => ({ ...opts[i]!, ip: ips[i]! })));
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
  cidrText: string,
  items: readonly (ReleaseOptions & { ip: IpAddress })[],
): Promise<{ notAllocated: string[] }> {
  const cidr = parseCidr(cidrText);
  const notAllocated = await deps.releaser.releaseOrdinals(
    cidrText,
    items.map((it) => ({
      ordinal: ordinalOf(cidr, it.ip),
      ...(it.handleId !== undefined && { handleId: it.handleId }),
      ...(it.sequenceNumber !== undefined && { sequenceNumber: it.sequenceNumber }),
      ...(it.historyKind !== undefined && { historyKind: it.historyKind }),
    })),
    ctx.config.ipCooldownSeconds,
  );
  return { notAllocated: notAllocated.map((o) => formatIp(addressAt(cidr, o))) };
}

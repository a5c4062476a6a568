import { blockAt, blockCount, Cidr, cidrContains, cidrContainsCidr, firstAddress, formatCidr, IpParseError, parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { IpamError, Messages } from '../errors';
import type { ClaimAffinityResult } from '../ipam';
import { IpamRecords } from '../io';
import type { IpamContext } from '../resource-view';
import type { PoolView } from '../types';
import { POOL_DELETION_CAUSE } from '../history/history-cause';
import { claimBlock } from './claim';
import { releaseBlockAffinity } from './release';

function parseRequestedCidr(text: string): Cidr {
  try {
    return parseCidr(text);
  } catch (err) {
    throw new IpamError('invalid-argument', err instanceof IpParseError ? err.message : `invalid CIDR "${text}"`);
  }
}

function blocksOf(cidr: Cidr, pool: PoolView): Cidr[] {
  const n = Number(blockCount(cidr, pool.blockSize));
  return Array.from({ length: n }, (_, i) => blockAt(cidr, pool.blockSize, BigInt(i)));
}

/** Calico's ClaimAffinity: every block of `cidr` for the host; others' blocks are reported as failed. */
export async function claimAffinity(ds: Datastore, ctx: IpamContext, cidrText: string, host: string, now: Date): Promise<ClaimAffinityResult> {
  const cidr = parseRequestedCidr(cidrText);
  const pool = ctx.pools.find((p) => p.enabled && cidrContains(p.cidr, firstAddress(cidr)));
  if (!pool) throw new IpamError('invalid-argument', Messages.cidrNotInPool(formatCidr(cidr)));
  if (cidr.prefix > pool.blockSize) throw new IpamError('invalid-argument', Messages.cidrTooSmall(formatCidr(cidr)));
  const claimed: string[] = [];
  const failed: string[] = [];
  for (const block of blocksOf(cidr, pool)) {
    const outcome = await claimBlock(ds, { host, cidr: block, now });
    (outcome.kind === 'claimed' ? claimed : failed).push(formatCidr(block));
  }
  return { claimed, failed };
}

/** Releases the host's affinity for each block of `cidr`; blocks that are not the host's are skipped. */
export async function releaseAffinity(ds: Datastore, ctx: IpamContext, cidrText: string, host: string, mustBeEmpty: boolean): Promise<void> {
  const cidr = parseRequestedCidr(cidrText);
  const pool = ctx.pools.find((p) => cidrContains(p.cidr, firstAddress(cidr)));
  const blocks = pool && cidr.prefix <= pool.blockSize ? blocksOf(cidr, pool) : [cidr];
  for (const block of blocks) await releaseBlockAffinity(ds, { host, cidr: block, requireEmpty: mustBeEmpty });
}

/**
 * Releases every affinity of a host (both families). Best effort, as Calico: every block
 * is tried, and the last error is thrown at the end.
 */
export async function releaseHostAffinities(ds: Datastore, host: string, mustBeEmpty: boolean): Promise<void> {
  const records = new IpamRecords(ds);
  const affinities = [...(await records.listHostAffinities(host, 4)), ...(await records.listHostAffinities(host, 6))];
  let last: unknown;
  for (const a of affinities) {
    try {
      await releaseBlockAffinity(ds, { host, cidr: a.id.cidr, requireEmpty: mustBeEmpty });
    } catch (err) {
      last = err;
    }
  }
  if (last !== undefined) throw last;
}

/** Releases every host's affinity inside a pool; non-empty blocks become unaffine. */
export async function releasePoolAffinities(ds: Datastore, poolCidrText: string): Promise<void> {
  const poolCidr = parseRequestedCidr(poolCidrText);
  const records = new IpamRecords(ds);
  for (const a of await records.listAffinities('host')) {
    if (!cidrContainsCidr(poolCidr, a.id.cidr)) continue;
    await releaseBlockAffinity(ds, { host: a.id.host, cidr: a.id.cidr, requireEmpty: false, historyCause: POOL_DELETION_CAUSE });
  }
}

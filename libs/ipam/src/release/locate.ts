import { blockCidrFor, cidrContains, formatCidr, IpAddress, IpParseError, IpVersion, parseIp } from '@atoll/ipmath';
import { IpamError } from '../errors';
import { IpamRecords, type BlockRecord } from '../io';
import type { PoolView } from '../types';

export function parseAddress(text: string): IpAddress {
  try {
    return parseIp(text);
  } catch (err) {
    throw new IpamError('invalid-argument', err instanceof IpParseError ? err.message : `invalid IP address "${text}"`);
  }
}

/**
 * Finds the block CIDR that would hold each address: from the pool that contains it
 * (disabled pools too — their addresses must still be releasable), or, for an address in
 * no pool, by scanning the family's blocks once. Addresses in no block map to undefined.
 */
export async function locateBlocks(
  records: IpamRecords,
  pools: readonly PoolView[],
  ips: readonly IpAddress[],
): Promise<(string | undefined)[]> {
  const scans = new Map<IpVersion, Promise<BlockRecord[]>>();
  const scan = (v: IpVersion) => {
    let p = scans.get(v);
    if (!p) {
      p = records.listBlocks(v);
      scans.set(v, p);
    }
    return p;
  };
  return Promise.all(
    ips.map(async (ip) => {
      const pool = pools.find((p) => cidrContains(p.cidr, ip));
      if (pool) return formatCidr(blockCidrFor(ip, pool.blockSize));
      return (await scan(ip.version)).find((b) => cidrContains(b.value.cidr, ip))?.cidrText;
    }),
  );
}

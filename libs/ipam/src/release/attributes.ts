import { formatCidr, formatIp, ordinalOf, parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { attributeOf, freeCooledDown } from '../block';
import { IpamError, Messages } from '../errors';
import type { AssignmentAttributes } from '../ipam';
import { IpamRecords } from '../io';
import type { IpamContext } from '../resource-view';
import { locateBlocks, parseAddress } from './locate';

/** Who holds an address: its handle, attributes and sequence number. */
export async function assignmentAttributes(ds: Datastore, ctx: IpamContext, ipText: string, now: Date): Promise<AssignmentAttributes> {
  const ip = parseAddress(ipText);
  const text = formatIp(ip);
  const records = new IpamRecords(ds);
  const [cidrText] = await locateBlocks(records, ctx.pools, [ip]);
  const rec = cidrText === undefined ? undefined : await records.getBlock(parseCidr(cidrText));
  if (!rec) throw new IpamError('not-found', `${text} is not assigned`);
  const block = freeCooledDown(rec.value, { now, cooldownSeconds: ctx.config.ipCooldownSeconds });
  const ordinal = ordinalOf(block.cidr, ip);
  const attr = attributeOf(block, ordinal);
  if (!attr) throw new IpamError('not-found', `${text} is not assigned`);
  if (attr.releasedAt !== undefined) throw new IpamError('in-cooldown', Messages.inCooldown(text));
  return {
    address: text,
    block: formatCidr(block.cidr),
    ...(attr.handleId !== undefined && { handleId: attr.handleId }),
    attributes: { ...(attr.secondary ?? {}) },
    sequenceNumber: block.sequenceNumberForAllocation[String(ordinal)] ?? 0n,
  };
}


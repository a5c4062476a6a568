import { parseJsonLossless } from '../json';
import { asObject, optionalBoolean, RecordDecodeError } from './record-error';

// The value at /calico/ipam/v2/handle/<id>: how many addresses a handle holds in each
// block (a secondary index so release by handle need not scan every block). Atoll writes
// it in the same transaction as the blocks it counts, so it never disagrees with them.

export interface IpamHandle {
  /** Block CIDR text → number of addresses of this handle in that block. */
  readonly block: Readonly<Record<string, number>>;
  readonly deleted: boolean;
}

export function decodeHandle(json: string): IpamHandle {
  const o = asObject('IPAM handle', '(value)', parseJsonLossless(json));
  const raw = o['block'] === undefined || o['block'] === null ? {} : asObject('IPAM handle', 'block', o['block']);
  const block: Record<string, number> = {};
  for (const [cidr, n] of Object.entries(raw)) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new RecordDecodeError('IPAM handle', `block.${cidr}`, 'expected a non-negative integer');
    }
    block[cidr] = n;
  }
  return { block, deleted: optionalBoolean('IPAM handle', 'deleted', o['deleted']) };
}

export function encodeHandle(h: IpamHandle): string {
  return JSON.stringify({ block: h.block, deleted: h.deleted });
}

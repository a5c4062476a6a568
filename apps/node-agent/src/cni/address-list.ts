import { cidrContains, formatIp, parseCidr, parseIp, type IpAddress } from '@atoll/ipmath';
import { CniCode, CniFailure } from './errors';
import type { OwnerReference } from './ports';

// `atoll.io/ipAddrsList`: addresses for the pods of a template, one per family each. A
// StatefulSet pod takes the entry at its ordinal; any other pod the first free one. The
// list is checked whole before anything is allocated.

export const ADDRESS_LIST_ANNOTATION = 'atoll.io/ipAddrsList';
export const MAX_ADDRESS_LIST_ENTRIES = 1024;
/** 1024 IPv6 entries in their longest form fit; no legitimate value comes close to more. */
const MAX_ADDRESS_LIST_BYTES = 64 * 1024;

export interface AddressList {
  /** Canonical text, in list order. */
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

function bad(message: string): never {
  throw new CniFailure(CniCode.badAddressRequest, `annotation "${ADDRESS_LIST_ANNOTATION}": ${message}`);
}

/** Parses and checks the list (JSON, addresses, duplicates, size); pools are checked by checkAddressListPools. */
export function parseAddressList(raw: string): AddressList {
  if (Buffer.byteLength(raw) > MAX_ADDRESS_LIST_BYTES) bad(`larger than ${MAX_ADDRESS_LIST_BYTES} bytes`);
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (err) {
    bad(`not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) bad(`must be a JSON list of IP addresses, got ${raw.length > 200 ? `${raw.slice(0, 200)}…` : raw}`);
  if (list.length === 0) bad('specified but empty');
  if (list.length > MAX_ADDRESS_LIST_ENTRIES) bad(`${list.length} entries; at most ${MAX_ADDRESS_LIST_ENTRIES} are allowed`);
  const seen = new Map<string, string>();
  const out = { ipv4: [] as string[], ipv6: [] as string[] };
  for (const text of list as string[]) {
    let ip: IpAddress;
    try {
      ip = parseIp(text); // no trimming: "10.0.0.1 " is not an address
    } catch {
      bad(`invalid IP format: ${JSON.stringify(text)}`);
    }
    if (ip.version === 6 && ip.value >> 32n === 0xffffn) bad(`invalid IP format: ${text} (write the IPv4 address as a.b.c.d)`);
    const canonical = formatIp(ip);
    const earlier = seen.get(canonical);
    if (earlier !== undefined) bad(`${JSON.stringify(text)} is listed twice${earlier !== text ? ` (also as ${JSON.stringify(earlier)})` : ''}`);
    seen.set(canonical, text);
    (ip.version === 4 ? out.ipv4 : out.ipv6).push(canonical);
  }
  return out;
}

/** What checkAddressListPools needs of an IPPool. */
export interface WorkloadPool {
  readonly cidr: string;
  readonly disabled: boolean;
  readonly allowedUses: readonly string[];
}

/** Every entry must be inside an enabled pool that allows Workload, as a requested address must. */
export function checkAddressListPools(list: AddressList, pools: readonly WorkloadPool[]): void {
  const usable = pools.filter((p) => !p.disabled && p.allowedUses.includes('Workload')).map((p) => parseCidr(p.cidr));
  const outside = [...list.ipv4, ...list.ipv6].filter((text) => {
    const ip = parseIp(text);
    return !usable.some((c) => c.version === ip.version && cidrContains(c, ip));
  });
  if (outside.length > 0) {
    bad(`${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''} ${outside.length === 1 ? 'is' : 'are'} not in any enabled IPPool that allows Workload`);
  }
}

/** The pod's StatefulSet and ordinal: an owner of kind StatefulSet and a name `<set>-<ordinal>`. */
export function statefulSetOrdinal(podName: string, owners: readonly OwnerReference[] | undefined): { set: string; ordinal: number } | undefined {
  for (const o of owners ?? []) {
    if (o.kind !== 'StatefulSet' || !podName.startsWith(`${o.name}-`)) continue;
    const suffix = podName.slice(o.name.length + 1);
    if (/^(0|[1-9]\d{0,8})$/.test(suffix)) return { set: o.name, ordinal: Number(suffix) };
  }
  return undefined;
}

/** A StatefulSet pod's entries: the one at its ordinal in each family the list has. */
export function entriesAtOrdinal(list: AddressList, pod: string, sts: { set: string; ordinal: number }): string[] {
  const out: string[] = [];
  for (const [family, entries] of [['IPv4', list.ipv4], ['IPv6', list.ipv6]] as const) {
    if (entries.length === 0) continue;
    const entry = entries[sts.ordinal];
    if (entry === undefined) {
      bad(`pod ${pod} is ordinal ${sts.ordinal} of StatefulSet ${sts.set}, but the list has only ${entries.length} ${family} ${entries.length === 1 ? 'entry' : 'entries'} (ordinals 0 to ${entries.length - 1})`);
    }
    out.push(entry);
  }
  return out;
}

/** The "none free" message: names the list and how many entries are held. */
export function noFreeEntry(family: 'IPv4' | 'IPv6', entries: readonly string[], held: number): string {
  const shown = entries.length > 8 ? `${JSON.stringify(entries.slice(0, 8)).slice(0, -1)},…]` : JSON.stringify(entries);
  return `no free ${family} address in annotation "${ADDRESS_LIST_ANNOTATION}" ${shown}: ${held} of ${entries.length} ${entries.length === 1 ? 'entry is' : 'entries are'} held`;
}

import { Cidr, formatCidr, IpVersion, tryParseCidr } from '@atoll/ipmath';

// Calico's etcdv3 key layout, built and parsed in this one place so that call sites never
// concatenate key strings. An operator who knows Calico can read the data, and data
// written by Calico's etcd mode can be read.

const RESOURCES = '/calico/resources/v3/projectcalico.org';
const IPAM = '/calico/ipam/v2';

export type ResourcePlural = 'ippools' | 'ipreservations' | 'nodes' | 'ipamconfigurations';
export type AffinityType = 'host' | 'virtual';

export interface AffinityKey {
  readonly type: AffinityType;
  readonly host: string;
  readonly cidr: Cidr;
}

/** A key segment from user data must not break the layout. */
function assertSegment(what: string, value: string): void {
  if (value.length === 0 || value.includes('/')) {
    throw new Error(`${what} ${JSON.stringify(value)} cannot be used in a key: it is empty or contains "/"`);
  }
}

export function resourceKey(plural: ResourcePlural, name: string): string {
  assertSegment('resource name', name);
  return `${RESOURCES}/${plural}/${name}`;
}

export function resourcePrefix(plural: ResourcePlural): string {
  return `${RESOURCES}/${plural}/`;
}

export function parseResourceKey(key: string): { plural: ResourcePlural; name: string } | undefined {
  const m = /^\/calico\/resources\/v3\/projectcalico\.org\/(ippools|ipreservations|nodes|ipamconfigurations)\/([^/]+)$/.exec(key);
  return m ? { plural: m[1] as ResourcePlural, name: m[2]! } : undefined;
}

/** `10.0.0.0/26` → `10.0.0.0-26`: only the slash is replaced, IPv6 colons stay. */
function cidrSegment(cidr: Cidr): string {
  return formatCidr(cidr).replace('/', '-');
}

function parseCidrSegment(segment: string): Cidr | undefined {
  const i = segment.lastIndexOf('-');
  if (i < 0) return undefined;
  const text = `${segment.slice(0, i)}/${segment.slice(i + 1)}`;
  const cidr = tryParseCidr(text);
  // Only canonical keys count: a key that does not round-trip is not one of ours.
  return cidr && formatCidr(cidr) === text ? cidr : undefined;
}

export function blockKey(cidr: Cidr): string {
  return `${IPAM}/assignment/ipv${cidr.version}/block/${cidrSegment(cidr)}`;
}

/** All blocks, or only one family's. */
export function blockPrefix(version?: IpVersion): string {
  return version ? `${IPAM}/assignment/ipv${version}/block/` : `${IPAM}/assignment/`;
}

export function parseBlockKey(key: string): Cidr | undefined {
  const m = /^\/calico\/ipam\/v2\/assignment\/ipv([46])\/block\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  const cidr = parseCidrSegment(m[2]!);
  return cidr && String(cidr.version) === m[1] ? cidr : undefined;
}

export function affinityKey(a: AffinityKey): string {
  assertSegment('host', a.host);
  return `${IPAM}/${a.type}/${a.host}/ipv${a.cidr.version}/block/${cidrSegment(a.cidr)}`;
}

/** One host's affinities (of one family), or every affinity of a type. */
export function affinityPrefix(type: AffinityType, host?: string, version?: IpVersion): string {
  if (host === undefined) return `${IPAM}/${type}/`;
  assertSegment('host', host);
  return version ? `${IPAM}/${type}/${host}/ipv${version}/block/` : `${IPAM}/${type}/${host}/`;
}

export function parseAffinityKey(key: string): AffinityKey | undefined {
  // Calico's regex also accepts "@" as the type of legacy keys; it reads as "host".
  const m = /^\/calico\/ipam\/v2\/(@|host|virtual)\/([^/]+)\/ipv([46])\/block\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  const cidr = parseCidrSegment(m[4]!);
  if (!cidr || String(cidr.version) !== m[3]) return undefined;
  return { type: m[1] === 'virtual' ? 'virtual' : 'host', host: m[2]!, cidr };
}

export function handleKey(handleId: string): string {
  if (handleId.length === 0) throw new Error('handle id cannot be empty');
  return `${IPAM}/handle/${handleId}`;
}

export function handlePrefix(): string {
  return `${IPAM}/handle/`;
}

export function parseHandleKey(key: string): string | undefined {
  const prefix = handlePrefix();
  return key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : undefined;
}

/** The IPAM library's config singleton (not the v3 IPAMConfiguration resource key). */
export function ipamConfigKey(): string {
  return `${IPAM}/config`;
}

// Atoll's own allocation history lives beside Calico's data, under its own root, so a
// Calico reader never sees it and a migrated datastore simply has none before the switch.
const HISTORY = '/atoll/history/v1';

/** One history record (all the events of one committed transaction); `id` sorts by time. */
export function historyRecordKey(id: string): string {
  assertSegment('history record id', id);
  return `${HISTORY}/${id}`;
}

export function historyPrefix(): string {
  return `${HISTORY}/`;
}

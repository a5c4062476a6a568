import type { BorrowedAddress, RouteBlock, RouteNode, RoutePool } from '@atoll/api';
import { addressAt, formatCidr, formatIp, tryParseCidr, tryParseIp, type Cidr, type IpVersion } from '@atoll/ipmath';
import { applyIPPoolDefaults, blockHost, parseJsonLossless, type IPPool, type Node } from '@atoll/model';

// What host-gw routing needs from one stored record, read from its etcd value. Pure and
// total: a value that cannot be read gives "nothing to route" instead of an error, as a
// record the allocator cannot parse cannot be routed either.

/** A block's own route and the addresses in it that live on another node than its affinity's. */
export interface BlockRoutes {
  readonly block: RouteBlock;
  readonly borrowed: readonly BorrowedAddress[];
}

interface StoredAttribute {
  readonly secondary?: Readonly<Record<string, unknown>> | null;
  readonly releasedAt?: unknown;
}

interface StoredBlock {
  readonly affinity?: unknown;
  readonly allocations?: readonly unknown[] | null;
  readonly attributes?: readonly StoredAttribute[] | null;
  readonly deleted?: unknown;
}

/**
 * A block's routes. `cidr` comes from the key (what a delete event names); the value is
 * read with plain JSON.parse because routing needs none of its 64-bit sequence numbers, and
 * every allocation writes a block, so this runs for each one. A block marked deleted has
 * no routes. Addresses cooling down after a release are not live and are left out.
 */
export function blockRoutesOf(cidr: Cidr, json: string): BlockRoutes | undefined {
  let stored: StoredBlock;
  try {
    stored = JSON.parse(json) as StoredBlock;
  } catch {
    return undefined;
  }
  if (stored === null || typeof stored !== 'object' || stored.deleted === true) return undefined;
  const affinity = typeof stored.affinity === 'string' ? stored.affinity : null;
  const affinityNode = blockHost({ affinity }) ?? '';
  const blockText = formatCidr(cidr);
  const borrowed: BorrowedAddress[] = [];
  const allocations = Array.isArray(stored.allocations) ? stored.allocations : [];
  const attributes = Array.isArray(stored.attributes) ? stored.attributes : [];
  allocations.forEach((index, ordinal) => {
    if (typeof index !== 'number') return;
    const attribute = attributes[index];
    if (!attribute || attribute.releasedAt !== undefined) return;
    const node = attribute.secondary?.['node'];
    if (typeof node !== 'string' || node === '' || node === affinityNode) return;
    borrowed.push({ ip: formatIp(addressAt(cidr, ordinal)), node, block: blockText });
  });
  return { block: { cidr: blockText, node: affinityNode }, borrowed };
}

/** `spec.bgp.ipv4Address` as Calico writes it: an address of the family, optionally with a prefix length. */
function nodeAddress(value: unknown, version: IpVersion): string {
  if (typeof value !== 'string') return '';
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined || address === undefined || tryParseIp(address)?.version !== version) return '';
  if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128))) return '';
  return value;
}

/** A node and its addresses; a node whose record cannot be read has none. */
export function routeNodeOf(name: string, json: string): RouteNode {
  let bgp: Record<string, unknown> | undefined;
  try {
    bgp = (parseJsonLossless(json) as Node | null)?.spec?.bgp as Record<string, unknown> | undefined;
  } catch {
    bgp = undefined;
  }
  return { name, ipv4Address: nodeAddress(bgp?.['ipv4Address'], 4), ipv6Address: nodeAddress(bgp?.['ipv6Address'], 6) };
}

/** A pool (named as its key names it) with Calico's defaults applied; undefined when its record cannot be read. */
export function routePoolOf(name: string, json: string): RoutePool | undefined {
  try {
    const pool = applyIPPoolDefaults(parseJsonLossless(json) as unknown as IPPool);
    const { cidr, natOutgoing, ipipMode, vxlanMode, disabled } = pool.spec;
    if (typeof cidr !== 'string' || !tryParseCidr(cidr)) return undefined;
    return { name, cidr, natOutgoing: natOutgoing === true, ipipMode: String(ipipMode), vxlanMode: String(vxlanMode), disabled: disabled === true };
  } catch {
    return undefined;
  }
}

import type { RouteNode, RoutePool, RouteUpdate } from '@atoll/api';
import { formatCidr, formatIp, tryParseCidr, tryParseIp, type IpVersion } from '@atoll/ipmath';

// The agent's copy of the allocator's route view, built from the WatchRoutes stream: a
// snapshot replaces everything, a delta upserts and removes by key. Addresses are parsed
// once, when they arrive, into the canonical text the kernel prints, so that computing the
// desired routes on every change is string work only. An entry that does not parse is
// dropped: it could not be routed, and nothing unparsed ever reaches an `ip` command line.
// Nothing is routed before the first snapshot, so a fresh agent never deletes routes from
// an empty state.

/** A destination to route to a node: a block, or one borrowed address as /32 or /128. */
export interface RoutedDestination {
  /** Canonical CIDR. */
  readonly dst: string;
  readonly version: IpVersion;
  /** The node it lives on ('' for a block without affinity). */
  readonly node: string;
}

/** A node's addresses without prefix length, canonical. */
export interface NodeGateways {
  readonly 4?: string;
  readonly 6?: string;
}

function gatewayOf(text: string, version: IpVersion): string | undefined {
  const ip = text === '' ? undefined : tryParseIp(text.split('/')[0]!);
  return ip?.version === version ? formatIp(ip) : undefined;
}

function gatewaysOf(node: RouteNode): NodeGateways {
  const v4 = gatewayOf(node.ipv4Address, 4);
  const v6 = gatewayOf(node.ipv6Address, 6);
  return { ...(v4 && { 4: v4 }), ...(v6 && { 6: v6 }) };
}

function destination(text: string, node: string, hostRoute: boolean): RoutedDestination | undefined {
  if (hostRoute) {
    const ip = tryParseIp(text);
    return ip && { dst: `${formatIp(ip)}/${ip.version === 4 ? 32 : 128}`, version: ip.version, node };
  }
  const cidr = tryParseCidr(text);
  return cidr && { dst: formatCidr(cidr), version: cidr.version, node };
}

export class RouteState {
  /** By node name. */
  readonly gateways = new Map<string, NodeGateways>();
  /** By the allocator's key (block CIDR). */
  readonly blocks = new Map<string, RoutedDestination>();
  /** By the allocator's key (the address). */
  readonly borrowed = new Map<string, RoutedDestination>();
  readonly pools = new Map<string, RoutePool>();
  private snapshots = 0;
  private poolChanges = 0;

  /** True once a snapshot has arrived. */
  get ready(): boolean {
    return this.snapshots > 0;
  }

  /** Grows whenever the pools may have changed (NAT rules depend on nothing else). */
  get poolsVersion(): number {
    return this.poolChanges;
  }

  apply(update: RouteUpdate): void {
    if (update.snapshot) {
      this.snapshots++;
      this.gateways.clear();
      this.blocks.clear();
      this.borrowed.clear();
      this.pools.clear();
    }
    if (update.snapshot || update.pools.length > 0 || update.removedPools.length > 0) this.poolChanges++;
    for (const n of update.nodes) this.gateways.set(n.name, gatewaysOf(n));
    for (const b of update.blocks) this.setOrDrop(this.blocks, b.cidr, destination(b.cidr, b.node, false));
    for (const b of update.borrowed) this.setOrDrop(this.borrowed, b.ip, destination(b.ip, b.node, true));
    for (const p of update.pools) this.pools.set(p.name, p);
    for (const k of update.removedNodes) this.gateways.delete(k);
    for (const k of update.removedBlocks) this.blocks.delete(k);
    for (const k of update.removedBorrowed) this.borrowed.delete(k);
    for (const k of update.removedPools) this.pools.delete(k);
  }

  private setOrDrop(map: Map<string, RoutedDestination>, key: string, entry: RoutedDestination | undefined): void {
    if (entry) map.set(key, entry);
    else map.delete(key);
  }
}

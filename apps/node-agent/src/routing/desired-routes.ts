import type { BorrowedAddress, RouteBlock, RouteNode } from '@atoll/api';
import { formatCidr, formatIp, tryParseCidr, tryParseIp, type IpVersion } from '@atoll/ipmath';

// The routes this node should have, as Calico's host-gw mode has them — pure, from the
// route state and this node's name:
//   a block affine to another node      <block> via <that node's address of the family>
//   an address borrowed by another node  <ip>/32 (/128) via <that node's address>
//   a block affine to this node          blackhole <block> (its pods' /32s to their veths,
//                                        made by the CNI path, win by longest prefix)
// A borrowed address outranks a block route to the same destination (a /32 block); one
// of this node's own takes that route away, as its veth route must be the one.

/** One route; `via` absent means a blackhole route. Destinations are canonical CIDRs. */
export interface RouteSpec {
  readonly dst: string;
  readonly via?: string;
}

/** A destination that should be routed to another node but cannot be, and why. */
export interface Unroutable {
  readonly dst: string;
  readonly node: string;
  readonly reason: 'no-address' | 'own-address';
}

export interface DesiredRoutes {
  /** By destination. */
  readonly routes: ReadonlyMap<string, RouteSpec>;
  readonly unroutable: readonly Unroutable[];
}

export interface RouteInputs {
  readonly nodes: ReadonlyMap<string, RouteNode>;
  readonly blocks: Iterable<RouteBlock>;
  readonly borrowed: Iterable<BorrowedAddress>;
}

/** A node's address of one family without its prefix length, canonical; undefined when it has none. */
export function nodeGateway(node: RouteNode | undefined, version: IpVersion): string | undefined {
  const text = (version === 4 ? node?.ipv4Address : node?.ipv6Address)?.split('/')[0];
  const ip = text ? tryParseIp(text) : undefined;
  return ip?.version === version ? formatIp(ip) : undefined;
}

export function desiredRoutes(inputs: RouteInputs, self: string): DesiredRoutes {
  const routes = new Map<string, RouteSpec>();
  const unroutable: Unroutable[] = [];
  const me = inputs.nodes.get(self);
  const viaNode = (dst: string, version: IpVersion, node: string) => {
    const via = nodeGateway(inputs.nodes.get(node), version);
    if (via === undefined) unroutable.push({ dst, node, reason: 'no-address' });
    else if (via === nodeGateway(me, version)) unroutable.push({ dst, node, reason: 'own-address' });
    else routes.set(dst, { dst, via });
  };
  for (const block of inputs.blocks) {
    if (block.node === '') continue;
    const cidr = tryParseCidr(block.cidr);
    if (!cidr) continue;
    const dst = formatCidr(cidr);
    if (block.node === self) routes.set(dst, { dst });
    else viaNode(dst, cidr.version, block.node);
  }
  for (const b of inputs.borrowed) {
    const ip = tryParseIp(b.ip);
    if (!ip) continue;
    const dst = `${formatIp(ip)}/${ip.version === 4 ? 32 : 128}`;
    // The address lives where it was borrowed to, never at the /32 block's node.
    routes.delete(dst);
    if (b.node !== self) viaNode(dst, ip.version, b.node);
  }
  return { routes, unroutable };
}

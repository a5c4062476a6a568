import type { NodeGateways, RoutedDestination } from './route-state';

// The routes this node should have, as Calico's host-gw mode has them — pure, from the
// route state and this node's name:
//   a block affine to another node      <block> via <that node's address of the family>
//   an address borrowed by another node  <ip>/32 (/128) via <that node's address>
//   a block affine to this node          blackhole <block> (its pods' /32s to their veths,
//                                        made by the CNI path, win by longest prefix)
// An address lives where it was borrowed to: its /32 outranks a /32 block's route, and one
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
  readonly gateways: ReadonlyMap<string, NodeGateways>;
  readonly blocks: Iterable<RoutedDestination>;
  readonly borrowed: Iterable<RoutedDestination>;
}

export function desiredRoutes(inputs: RouteInputs, self: string): DesiredRoutes {
  const routes = new Map<string, RouteSpec>();
  const unroutable: Unroutable[] = [];
  const mine = inputs.gateways.get(self);
  const viaNode = ({ dst, version, node }: RoutedDestination) => {
    const via = inputs.gateways.get(node)?.[version];
    if (via === undefined) unroutable.push({ dst, node, reason: 'no-address' });
    else if (via === mine?.[version]) unroutable.push({ dst, node, reason: 'own-address' });
    else routes.set(dst, { dst, via });
  };
  for (const block of inputs.blocks) {
    if (block.node === '') continue;
    if (block.node === self) routes.set(block.dst, { dst: block.dst });
    else viaNode(block);
  }
  for (const address of inputs.borrowed) {
    routes.delete(address.dst);
    if (address.node !== self) viaNode(address);
  }
  return { routes, unroutable };
}

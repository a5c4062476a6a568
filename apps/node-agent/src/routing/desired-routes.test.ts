import type { BorrowedAddress, RouteBlock, RouteNode, RouteUpdate } from '@atoll/api';
import { desiredRoutes, type DesiredRoutes } from './desired-routes';
import { RouteState } from './route-state';

const node = (name: string, ipv4Address = '', ipv6Address = ''): RouteNode => ({ name, ipv4Address, ipv6Address });
const NODES = [node('a', '172.30.0.1/24', 'fd30::1/64'), node('b', '172.30.0.2/24'), node('c', '', 'FD30:0::3'), node('d')];
const block = (cidr: string, n: string): RouteBlock => ({ cidr, node: n });
const borrowed = (ip: string, n: string): BorrowedAddress => ({ ip, node: n, block: '' });

/** The routes node `self` should have, from a snapshot of these entries, as `dst via x` / `blackhole dst` lines, sorted, and the unroutable ones. */
function routesFor(self: string, nodes: RouteNode[], blocks: RouteBlock[], borrowedAddresses: BorrowedAddress[]): { routes: string[]; unroutable: string[] } {
  const state = new RouteState();
  const none = { pools: [], removedNodes: [], removedBlocks: [], removedBorrowed: [], removedPools: [] };
  state.apply({ snapshot: true, nodes, blocks, borrowed: borrowedAddresses, ...none } satisfies RouteUpdate);
  const d: DesiredRoutes = desiredRoutes({ gateways: state.gateways, blocks: state.blocks.values(), borrowed: state.borrowed.values() }, self);
  return {
    routes: [...d.routes.values()].map((r) => (r.via === undefined ? `blackhole ${r.dst}` : `${r.dst} via ${r.via}`)).sort(),
    unroutable: d.unroutable.map((u) => `${u.dst} ${u.node} ${u.reason}`),
  };
}

describe('the routes node a should have', () => {
  it.each<[string, RouteBlock[], BorrowedAddress[], { routes: string[]; unroutable: string[] }]>([
    ['a blackhole for its own block', [block('10.0.0.0/26', 'a')], [], { routes: ['blackhole 10.0.0.0/26'], unroutable: [] }],
    ["another node's block via that node's address, without its prefix length", [block('10.0.0.64/26', 'b')], [], { routes: ['10.0.0.64/26 via 172.30.0.2'], unroutable: [] }],
    ["an IPv6 block via the node's IPv6 address, written canonically", [block('fd00::/122', 'c')], [], { routes: ['fd00::/122 via fd30::3'], unroutable: [] }],
    ['nothing for a block of a node without an address of its family', [block('10.0.1.0/26', 'c'), block('10.0.2.0/26', 'd')], [], { routes: [], unroutable: ['10.0.1.0/26 c no-address', '10.0.2.0/26 d no-address'] }],
    ['nothing for a block of a node it does not know', [block('10.0.3.0/26', 'gone')], [], { routes: [], unroutable: ['10.0.3.0/26 gone no-address'] }],
    ['nothing for a block without affinity', [block('10.0.4.0/26', '')], [], { routes: [], unroutable: [] }],
    ['nothing for a block whose CIDR does not parse (never a command line)', [block('10.0.4.0/26\nroute flush', 'b')], [], { routes: [], unroutable: [] }],
    ['a /32 for an address another node borrowed from its block', [block('10.0.0.0/26', 'a')], [borrowed('10.0.0.9', 'b')], { routes: ['10.0.0.9/32 via 172.30.0.2', 'blackhole 10.0.0.0/26'], unroutable: [] }],
    ["a /32 for an address another node borrowed from a third node's block", [block('10.0.0.64/26', 'b')], [borrowed('fd00::5', 'c'), borrowed('10.0.0.70', 'a')], { routes: ['10.0.0.64/26 via 172.30.0.2', 'fd00::5/128 via fd30::3'], unroutable: [] }],
    ["nothing for an address it borrowed itself (its veth route is the CNI path's)", [block('10.0.0.64/26', 'b')], [borrowed('10.0.0.65', 'a')], { routes: ['10.0.0.64/26 via 172.30.0.2'], unroutable: [] }],
    ['no route to a /32 block\'s node for an address borrowed by a node it cannot route to', [block('10.0.9.1/32', 'b')], [borrowed('10.0.9.1', 'c')], { routes: [], unroutable: ['10.0.9.1/32 c no-address'] }],
    ['no route of its own over its own borrowed address in a /32 block', [block('10.0.9.2/32', 'b')], [borrowed('10.0.9.2', 'a')], { routes: [], unroutable: [] }],
  ])('%s', (_sentence, blocks, borrowedAddresses, expected) => {
    expect(routesFor('a', NODES, blocks, borrowedAddresses)).toEqual(expected);
  });

  it('does not route through its own address when another node claims it', () => {
    expect(routesFor('a', [node('a', '172.30.0.1'), node('twin', '172.30.0.1/24')], [block('10.0.5.0/26', 'twin')], [])).toEqual({ routes: [], unroutable: ['10.0.5.0/26 twin own-address'] });
  });
});

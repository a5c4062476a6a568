import { RouteUpdate } from '@atoll/api';
import { RouteChanges } from './route-changes';
import { RouteTable } from './route-table';

const blockOf = (cidr: string, node: string, borrowed: [string, string][] = []) => ({
  block: { cidr, node },
  borrowed: borrowed.map(([ip, n]) => ({ ip, node: n, block: cidr })),
});
const pool = { name: 'p', cidr: '10.0.0.0/16', natOutgoing: false, ipipMode: 'Never', vxlanMode: 'Never', disabled: false };

/** Applies one change to a fresh table that already holds `before`, and returns the delta. */
function deltaOf(before: (t: RouteTable) => void, change: (t: RouteTable, out: RouteChanges) => void): Partial<RouteUpdate> {
  const table = new RouteTable();
  before(table);
  const out = new RouteChanges();
  change(table, out);
  const u = out.toUpdate();
  return Object.fromEntries(Object.entries(u).filter(([, v]) => Array.isArray(v) && v.length > 0));
}

const ignore = new RouteChanges();

describe('the route table', () => {
  it.each<[string, (t: RouteTable) => void, (t: RouteTable, out: RouteChanges) => void, Partial<RouteUpdate>]>([
    ['a new block is an upsert', () => undefined, (t, o) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a'), o), { blocks: [{ cidr: '10.0.0.0/26', node: 'a' }] }],
    ['a block written again unchanged (an allocation of its own node) is nothing', (t) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a'), ignore), (t, o) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a'), o), {}],
    ['a block losing its affinity is an upsert without node', (t) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a'), ignore), (t, o) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', ''), o), { blocks: [{ cidr: '10.0.0.0/26', node: '' }] }],
    [
      'a deleted block removes the block and its borrowed addresses',
      (t) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a', [['10.0.0.5', 'b']]), ignore),
      (t, o) => t.setBlock('10.0.0.0/26', undefined, o),
      { removedBlocks: ['10.0.0.0/26'], removedBorrowed: ['10.0.0.5'] },
    ],
    [
      'a borrowed address assigned and another released',
      (t) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a', [['10.0.0.5', 'b']]), ignore),
      (t, o) => t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a', [['10.0.0.6', 'c']]), o),
      { borrowed: [{ ip: '10.0.0.6', node: 'c', block: '10.0.0.0/26' }], removedBorrowed: ['10.0.0.5'] },
    ],
    ['a node whose address changed is an upsert', (t) => t.setNode('a', { name: 'a', ipv4Address: '172.30.0.1', ipv6Address: '' }, ignore), (t, o) => t.setNode('a', { name: 'a', ipv4Address: '172.30.0.9', ipv6Address: '' }, o), { nodes: [{ name: 'a', ipv4Address: '172.30.0.9', ipv6Address: '' }] }],
    ['a node written again unchanged is nothing', (t) => t.setNode('a', { name: 'a', ipv4Address: '172.30.0.1', ipv6Address: '' }, ignore), (t, o) => t.setNode('a', { name: 'a', ipv4Address: '172.30.0.1', ipv6Address: '' }, o), {}],
    ['a pool turning on NAT is an upsert', (t) => t.setPool('p', pool, ignore), (t, o) => t.setPool('p', { ...pool, natOutgoing: true }, o), { pools: [{ ...pool, natOutgoing: true }] }],
    [
      'a re-read removes what is gone and adds what is new',
      (t) => {
        t.setNode('a', { name: 'a', ipv4Address: '', ipv6Address: '' }, ignore);
        t.setPool('p', pool, ignore);
      },
      (t, o) => {
        t.replaceNodes(new Map([['b', { name: 'b', ipv4Address: '', ipv6Address: '' }]]), o);
        t.replacePools(new Map(), o);
      },
      { nodes: [{ name: 'b', ipv4Address: '', ipv6Address: '' }], removedNodes: ['a'], removedPools: ['p'] },
    ],
  ])('%s', (_sentence, before, change, expected) => {
    expect(deltaOf(before, change)).toEqual(expected);
  });

  it('gives a snapshot of everything, and re-encodes it only after a change', () => {
    const t = new RouteTable();
    t.setNode('a', { name: 'a', ipv4Address: '172.30.0.1/24', ipv6Address: '' }, ignore);
    t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a', [['10.0.0.5', 'b']]), ignore);
    t.setPool('p', pool, ignore);
    const first = t.encodeSnapshot();
    expect(t.encodeSnapshot()).toBe(first);
    expect(RouteUpdate.decode(first)).toMatchObject({
      snapshot: true,
      nodes: [{ name: 'a', ipv4Address: '172.30.0.1/24' }],
      blocks: [{ cidr: '10.0.0.0/26', node: 'a' }],
      borrowed: [{ ip: '10.0.0.5', node: 'b', block: '10.0.0.0/26' }],
      pools: [pool],
    });
    t.setBlock('10.0.0.0/26', blockOf('10.0.0.0/26', 'a'), ignore);
    expect(t.encodeSnapshot()).not.toBe(first);
    expect(RouteUpdate.decode(t.encodeSnapshot()).borrowed).toEqual([]);
  });
});

describe('route changes', () => {
  it('keep the last change of each key when merged', () => {
    const a = new RouteChanges();
    a.upsert('blocks', { cidr: '10.0.0.0/26', node: 'a' });
    a.remove('nodes', 'x');
    const b = new RouteChanges();
    b.remove('blocks', '10.0.0.0/26');
    b.upsert('nodes', { name: 'x', ipv4Address: '1.2.3.4', ipv6Address: '' });
    a.mergeFrom(b);
    expect(a.toUpdate()).toMatchObject({ blocks: [], removedBlocks: ['10.0.0.0/26'], nodes: [{ name: 'x' }], removedNodes: [] });
  });
});

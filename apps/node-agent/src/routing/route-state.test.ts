import type { RouteUpdate } from '@atoll/api';
import { RouteState } from './route-state';

const update = (u: Partial<RouteUpdate>): RouteUpdate => ({
  snapshot: false,
  nodes: [],
  blocks: [],
  borrowed: [],
  pools: [],
  removedNodes: [],
  removedBlocks: [],
  removedBorrowed: [],
  removedPools: [],
  ...u,
});

describe("the agent's route state", () => {
  it('is not ready before a snapshot; a snapshot replaces everything, deltas change by key', () => {
    const s = new RouteState();
    s.apply(update({ blocks: [{ cidr: '10.0.9.0/26', node: 'x' }] }));
    expect(s.ready).toBe(false);
    s.apply(update({ snapshot: true, blocks: [{ cidr: '10.0.0.0/26', node: 'a' }], nodes: [{ name: 'a', ipv4Address: '172.30.0.1', ipv6Address: '' }] }));
    expect(s.ready).toBe(true);
    expect([...s.blocks.keys()]).toEqual(['10.0.0.0/26']);
    expect(s.gateways.get('a')).toEqual({ 4: '172.30.0.1' });
    s.apply(update({ blocks: [{ cidr: '10.0.0.64/26', node: 'b' }], removedBlocks: ['10.0.0.0/26'], borrowed: [{ ip: '10.0.0.70', node: 'c', block: '10.0.0.64/26' }] }));
    expect([...s.blocks.values()]).toEqual([{ dst: '10.0.0.64/26', version: 4, node: 'b' }]);
    expect([...s.borrowed.values()]).toEqual([{ dst: '10.0.0.70/32', version: 4, node: 'c' }]);
    s.apply(update({ snapshot: true }));
    expect(s.blocks.size + s.borrowed.size + s.gateways.size).toBe(0);
  });

  it('counts pool changes, and only pool changes, for the NAT rules', () => {
    const s = new RouteState();
    s.apply(update({ snapshot: true }));
    const v = s.poolsVersion;
    s.apply(update({ blocks: [{ cidr: '10.0.0.0/26', node: 'a' }] }));
    expect(s.poolsVersion).toBe(v);
    s.apply(update({ removedPools: ['p'] }));
    expect(s.poolsVersion).toBe(v + 1);
  });
});

import type { Allocation, CheckResponse } from '@atoll/api';
import type { Resource } from '@atoll/model';
import { FakeAllocator } from '../testing/fake-allocator';
import { blockDetail, search, takeSnapshot } from './snapshot';

const v3 = 'projectcalico.org/v3' as const;
const RESOURCES: Resource[] = [
  { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p4' }, spec: { cidr: '10.1.0.0/16' } },
  { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p6' }, spec: { cidr: 'fd00::/120', blockSize: 122 } },
  { apiVersion: v3, kind: 'IPReservation', metadata: { name: 'r' }, spec: { reservedCIDRs: ['10.1.0.60/30'] } },
  { apiVersion: v3, kind: 'Node', metadata: { name: 'node-1' }, spec: { bgp: { ipv4IPIPTunnelAddr: '10.1.0.2' } } },
  { apiVersion: v3, kind: 'Node', metadata: { name: 'idle' }, spec: {} },
];

const alloc = (address: string, block: string, handleId: string, attributes: Record<string, string>, owner: string): Allocation => ({
  address,
  block,
  handleId,
  attributes,
  sequenceNumber: '7',
  blockAffinity: `host:${owner}`,
});

const CHECK: CheckResponse = {
  blocks: 3,
  allocations: 4,
  handles: 3,
  affinities: 3,
  invalidBlocks: [],
  handlesWithoutAddresses: ['k8s-pod-network.empty'],
  addressesWithoutHandle: [{ address: '10.1.0.65', handleId: 'k8s-pod-network.gone' }],
  miscountedHandles: [],
  blocksOutsidePools: [],
  affinityProblems: [{ key: '/calico/ipam/v2/host/node-3/ipv4/block/10.1.1.0-26', problem: 'no block for this affinity' }],
  problems: 3,
};

function fake(maxBlocksPerHost = 0): FakeAllocator {
  const f = new FakeAllocator().seed(...RESOURCES);
  f.config = { ...f.config, maxBlocksPerHost, strictAffinity: maxBlocksPerHost > 0 };
  f.allocations = [
    alloc('10.1.0.0', '10.1.0.0/26', 'k8s-pod-network.a', { node: 'node-1', namespace: 'default', pod: 'web-a' }, 'node-1'),
    alloc('10.1.0.1', '10.1.0.0/26', 'k8s-pod-network.b', { node: 'node-2', namespace: 'shop', pod: 'cart' }, 'node-1'),
    alloc('10.1.0.2', '10.1.0.0/26', 'ipip-tunnel-addr-node-1', { node: 'node-1', type: 'ipipTunnelAddress' }, 'node-1'),
    alloc('10.1.0.65', '10.1.0.64/26', 'k8s-pod-network.gone', { node: 'node-2', namespace: 'default', pod: 'gone' }, 'node-2'),
    alloc('fd00::41', 'fd00::40/122', 'k8s-pod-network.v6', { node: 'node-2', namespace: 'default', pod: 'six' }, 'node-2'),
  ];
  f.checkResponse = CHECK;
  const block = (cidr: string, inUse: number, reserved: number, affinity: string) => ({ cidr, capacity: '64', inUse: String(inUse), reserved: String(reserved), available: String(64 - inUse - reserved), affinity });
  f.utilization = {
    pools: [
      { name: 'p4', cidr: '10.1.0.0/16', capacity: '65536', inUse: '4', reserved: '4', available: '65528', blocks: [block('10.1.0.0/26', 3, 4, 'host:node-1'), block('10.1.0.64/26', 1, 0, '')] },
      { name: 'p6', cidr: 'fd00::/120', capacity: '256', inUse: '1', reserved: '0', available: '255', blocks: [block('fd00::40/122', 1, 0, 'host:node-2')] },
    ],
    orphanBlocks: [],
  };
  return f;
}

const at = new Date('2026-12-06T03:00:00Z');

describe('the ipam ui snapshot', () => {
  it('places every block in its pool by slot, with its node, borrowed and tunnel addresses', async () => {
    const { summary } = await takeSnapshot(fake(), () => at);
    expect(summary.takenAt).toBe('2026-12-06T03:00:00.000Z');
    expect(summary.pools.map((p) => [p.name, p.version, p.blockPrefix, p.slots])).toEqual([
      ['p4', 4, 26, '1024'],
      ['p6', 6, 122, '4'],
    ]);
    expect(summary.blocks.map((b) => [b.cidr, b.pool, b.slot, b.node, b.inUse, b.reserved, b.borrowed, b.tunnels, b.problems])).toEqual([
      ['10.1.0.0/26', 0, '0', 'node-1', 3, 4, 1, 1, 0],
      // GetUtilization left the affinity out; the allocations in the block name it.
      ['10.1.0.64/26', 0, '1', 'node-2', 1, 0, 0, 0, 1],
      ['fd00::40/122', 1, '1', 'node-2', 1, 0, 0, 0, 0],
    ]);
    expect(summary.reservations).toEqual([{ name: 'r', cidr: '10.1.0.60/30', pool: 0 }]);
  });

  it('counts blocks and addresses per node against the default limit of 20 when maxBlocksPerHost is 0', async () => {
    const { summary } = await takeSnapshot(fake(), () => at);
    expect(summary.config).toEqual({ strictAffinity: false, maxBlocksPerHost: 0, blockLimit: 20 });
    expect(summary.nodes).toEqual([
      { name: 'idle', blocks: 0, addresses: 0, nearLimit: false },
      { name: 'node-1', blocks: 1, addresses: 2, nearLimit: false },
      { name: 'node-2', blocks: 2, addresses: 3, nearLimit: false },
    ]);
  });

  it('marks a node near its limit at 80% of maxBlocksPerHost', async () => {
    const { summary } = await takeSnapshot(fake(2), () => at);
    expect(summary.config.blockLimit).toBe(2);
    expect(summary.nodes.filter((n) => n.nearLimit).map((n) => n.name)).toEqual(['node-2']);
  });

  it("links the check's problems to the block they sit in, also where no block exists", async () => {
    const { summary } = await takeSnapshot(fake(), () => at);
    expect(summary.problems).toEqual([
      { kind: 'leaked-address', message: '10.1.0.65 is held for handle k8s-pod-network.gone, which does not exist', address: '10.1.0.65', block: '10.1.0.64/26', pool: 0, slot: '1' },
      { kind: 'handle-without-addresses', message: 'handle k8s-pod-network.empty holds no address' },
      { kind: 'affinity', message: '/calico/ipam/v2/host/node-3/ipv4/block/10.1.1.0-26: no block for this affinity', block: '10.1.1.0/26', pool: 0, slot: '4' },
    ]);
    expect(summary.totals).toEqual({ blocks: 3, allocations: 5, nodes: 3, problems: 3 });
  });

  it('details a block: every address with its holder, reservations and problems', async () => {
    const s = await takeSnapshot(fake(), () => at);
    const d = blockDetail(s, '10.1.0.0/26')!;
    expect(d.allocations.map((a) => [a.address, a.pod, a.borrowed, a.tunnel])).toEqual([
      ['10.1.0.0', 'web-a', false, false],
      ['10.1.0.1', 'cart', true, false],
      ['10.1.0.2', '', false, true],
    ]);
    expect(d.addresses).toHaveLength(64);
    expect(d.addresses!.slice(0, 4).map((a) => [a.address, a.holder, a.reserved])).toEqual([
      ['10.1.0.0', 0, false],
      ['10.1.0.1', 1, false],
      ['10.1.0.2', 2, false],
      ['10.1.0.3', -1, false],
    ]);
    expect(d.addresses!.filter((a) => a.reserved).map((a) => a.address)).toEqual(['10.1.0.60', '10.1.0.61', '10.1.0.62', '10.1.0.63']);
    expect(d.reservedCidrs).toEqual(['10.1.0.60/30']);
    expect(blockDetail(s, '10.1.0.64/26')!.problems.map((p) => p.kind)).toEqual(['leaked-address']);
    expect(blockDetail(s, '10.9.0.0/26')).toBeUndefined();
  });

  it.each([
    ['an allocated address', '10.1.0.1', [{ kind: 'address', label: '10.1.0.1: shop/cart', block: '10.1.0.0/26', address: '10.1.0.1' }]],
    ['a free address in a block', '10.1.0.9', [{ kind: 'address', label: '10.1.0.9: free, in block 10.1.0.0/26', block: '10.1.0.0/26', address: '10.1.0.9' }]],
    ['an IPv6 address written long', 'fd00:0::0041', [{ kind: 'address', label: 'fd00::41: default/six', block: 'fd00::40/122', address: 'fd00::41' }]],
    ['a pod by name', 'cart', [{ kind: 'pod', label: 'shop/cart 10.1.0.1', block: '10.1.0.0/26', address: '10.1.0.1' }]],
    ['a pod by namespace/name', 'default/six', [{ kind: 'pod', label: 'default/six fd00::41', block: 'fd00::40/122', address: 'fd00::41' }]],
    ['a node', 'node-2', [{ kind: 'node', label: 'node node-2: 2 blocks, 3 addresses', node: 'node-2', block: '10.1.0.64/26' }]],
    ['a block', '10.1.0.64/26', [{ kind: 'block', label: 'block 10.1.0.64/26', block: '10.1.0.64/26' }]],
    ['an address outside every block', '10.200.0.1', []],
  ])('finds %s', async (_what, query, hits) => {
    expect(search(await takeSnapshot(fake(), () => at), query)).toEqual(hits);
  });

  it('asks the allocator only through reads', async () => {
    const f = fake();
    await takeSnapshot(f);
    expect([...new Set(f.calls.map((c) => c.method))].sort()).toEqual(['ipam.check', 'ipam.getIpamConfig', 'ipam.getUtilization', 'ipam.listAllocations', 'resources.list']);
  });
});

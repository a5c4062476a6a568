import { computeIpamMetrics } from './ipam-metrics';

const util = {
  pools: [
    {
      name: 'pool-a',
      cidr: '10.0.0.0/24',
      capacity: 256n,
      inUse: 3n,
      reserved: 4n,
      available: 249n,
      blocks: [
        { cidr: '10.0.0.0/26', affinity: 'host:n1', capacity: 64n, inUse: 2n, reserved: 4n, available: 58n },
        { cidr: '10.0.0.64/26', affinity: null, capacity: 64n, inUse: 1n, reserved: 0n, available: 63n },
      ],
    },
  ],
  orphanBlocks: [{ cidr: '99.0.0.0/26', affinity: 'host:n9', capacity: 64n, inUse: 0n, reserved: 0n, available: 64n }],
};

const alloc = (address: string, block: string, node: string, blockAffinity: string | null) => ({ address, block, attributes: { node }, sequenceNumber: 1n, blockAffinity });

describe('Calico IPAM metrics', () => {
  it('counts in-use, borrowed and blocks by pool and node, and pool sizes', () => {
    const rows = computeIpamMetrics(util, [
      alloc('10.0.0.1', '10.0.0.0/26', 'n1', 'host:n1'),
      alloc('10.0.0.2', '10.0.0.0/26', 'n2', 'host:n1'),
      alloc('10.0.0.65', '10.0.0.64/26', 'n2', null),
    ]);
    expect(Object.fromEntries(rows.inUse)).toEqual({ 'pool-a\u0000n1': 1, 'pool-a\u0000n2': 2 });
    expect(Object.fromEntries(rows.borrowed)).toEqual({ 'pool-a\u0000n2': 1 });
    expect(Object.fromEntries(rows.blocks)).toEqual({ 'pool-a\u0000n1': 1, 'pool-a\u0000no_affinity': 1, 'no_ippool\u0000n9': 1 });
    expect(Object.fromEntries(rows.poolSize)).toEqual({ 'pool-a': 256 });
    expect(Object.fromEntries(rows.poolReserved)).toEqual({ 'pool-a': 4 });
  });
});

import type { Allocation, CheckResponse } from '@atoll/api';
import { parseJsonLossless, type Resource } from '@atoll/model';
import { FakeAllocator, runCtl } from '../testing/fake-allocator';
import type { CheckReport } from './check-report';

const v3 = 'projectcalico.org/v3' as const;
const RESOURCES: Resource[] = [
  { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: '10.1.0.0/16' } },
  { apiVersion: v3, kind: 'IPPool', metadata: { name: 'p2' }, spec: { cidr: '10.2.0.0/16', disabled: true } },
  { apiVersion: v3, kind: 'Node', metadata: { name: 'node-1' }, spec: { bgp: { ipv4IPIPTunnelAddr: '10.1.0.200' } } },
  { apiVersion: v3, kind: 'Node', metadata: { name: 'node-2' }, spec: {} },
];

const alloc = (address: string, block: string, handleId: string, attributes: Record<string, string>, blockAffinity: string): Allocation => ({
  address,
  block,
  handleId,
  attributes,
  sequenceNumber: '1786000000000000007',
  blockAffinity,
});

const ALLOCATIONS: Allocation[] = [
  alloc('10.1.0.0', '10.1.0.0/26', 'k8s-pod-network.a', { node: 'node-1', namespace: 'default', pod: 'a', timestamp: '2026-08-01 10:00:00 +0000 UTC' }, 'host:node-1'),
  alloc('10.1.0.1', '10.1.0.0/26', 'k8s-pod-network.b', { node: 'node-1', namespace: 'default', pod: 'b' }, 'host:node-1'),
  alloc('10.1.0.200', '10.1.0.192/26', 'ipip-tunnel-addr-node-1', { node: 'node-1', type: 'ipipTunnelAddress' }, 'host:node-1'),
  alloc('10.1.0.5', '10.1.0.0/26', 'k8s-pod-network.c', { node: 'node-2', namespace: 'default', pod: 'c' }, 'host:node-1'),
];

const CLEAN: CheckResponse = {
  blocks: 2,
  allocations: 4,
  handles: 4,
  affinities: 2,
  invalidBlocks: [],
  handlesWithoutAddresses: [],
  addressesWithoutHandle: [],
  miscountedHandles: [],
  blocksOutsidePools: [],
  affinityProblems: [],
  problems: 0,
};

function fake(check: CheckResponse = CLEAN, resources: Resource[] = RESOURCES): FakeAllocator {
  const f = new FakeAllocator().seed(...resources);
  f.allocations = ALLOCATIONS.map((a) => ({ ...a }));
  f.checkResponse = check;
  f.utilization = {
    pools: [
      {
        name: 'p1',
        cidr: '10.1.0.0/16',
        capacity: '65536',
        inUse: '4',
        reserved: '0',
        available: '65532',
        blocks: [
          { cidr: '10.1.0.0/26', capacity: '64', inUse: '3', reserved: '0', available: '61', affinity: 'host:node-1' },
          // An allocator that leaves the affinity out: the allocations in the block name it.
          { cidr: '10.1.0.192/26', capacity: '64', inUse: '1', reserved: '0', available: '63', affinity: '' },
        ],
      },
    ],
    orphanBlocks: [],
  };
  return f;
}

describe('ipam check', () => {
  it("prints calicoctl's progress lines for a clean datastore", async () => {
    const run = await runCtl(['ipam', 'check'], fake());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        'Checking IPAM for inconsistencies...',
        '',
        'Loading all IPAM blocks...',
        'Found 2 IPAM blocks.',
        ' IPAM block 10.1.0.0/26 affinity=host:node-1:',
        ' IPAM block 10.1.0.192/26 affinity=host:node-1:',
        'IPAM blocks record 4 allocations.',
        '',
        'Loading all IPAM pools...',
        '  10.1.0.0/16',
        'Found 1 active IP pools.',
        '',
        'Loading all nodes.',
        'Found 1 node tunnel IPs.',
        '',
        'Loading all handles',
        'Looking for top (up to 20) nodes by allocations...',
        '  node-1 has 3 allocations',
        '  node-2 has 1 allocations',
        'Node with most allocations has 3; median is 1',
        '',
        'Scanning for IPs that are allocated but not actually in use...',
        'Not checked: finding IPs that are allocated but not used by any pod needs the Kubernetes API, which atollctl does not use yet.',
        'Scanning for IPs that are in use by a workload or node but not allocated in IPAM...',
        'Found 0 in-use IPs that are not in active IP pools.',
        'Found 0 in-use IPs that are in active IP pools but have no corresponding IPAM allocation.',
        '',
        'Scanning for IPAM handles with no matching IPs...',
        'Found 0 handles with no matching IPs (and 4 handles with matches).',
        'Scanning for IPs with missing handle...',
        'Found 0 handles mentioned in blocks with no matching handle resource.',
        'Scanning for handles whose IP counts differ from their blocks...',
        'Found 0 miscounted handles.',
        'Scanning for invalid IPAM blocks...',
        'Found 0 invalid IPAMBlocks.',
        'Scanning for IPAM blocks outside every IP pool...',
        'Found 0 IPAM blocks outside every IP pool.',
        'Scanning for block affinity problems...',
        'Found 0 block affinity problems.',
        'Check complete; found 0 problems.',
        '',
      ].join('\n'),
    );
  });

  const DAMAGED: CheckResponse = {
    ...CLEAN,
    blocks: 3,
    invalidBlocks: [{ block: '10.1.0.64/26', problems: ['block 10.1.0.64/26: ordinal 3 is listed twice in unallocated', 'block 10.1.0.64/26: 0 allocated + 63 unallocated != 64 addresses'] }],
    handlesWithoutAddresses: ['k8s-pod-network.gone'],
    addressesWithoutHandle: [{ address: '10.1.0.5', handleId: 'k8s-pod-network.c' }],
    miscountedHandles: [{ handleId: 'k8s-pod-network.a', block: '10.1.0.0/26', recorded: 2, actual: 1 }],
    blocksOutsidePools: ['10.3.0.0/26'],
    affinityProblems: [{ key: '/calico/ipam/v2/host/node-9/ipv4/block/10.1.1.0-26', problem: 'confirmed affinity for a block that does not exist' }],
    problems: 6,
  };

  it('counts every problem the allocator found, plus node tunnel addresses without an allocation', async () => {
    const resources: Resource[] = [
      ...RESOURCES,
      { apiVersion: v3, kind: 'Node', metadata: { name: 'node-3' }, spec: { ipv4VXLANTunnelAddr: '10.1.0.201', wireguard: { interfaceIPv4Address: '172.16.0.1' } } },
    ];
    const run = await runCtl(['ipam', 'check'], fake(DAMAGED, resources));
    expect(run.code).toBe(0);
    for (const line of [
      'Found 3 node tunnel IPs.',
      'Found 1 in-use IPs that are not in active IP pools.',
      'Found 1 in-use IPs that are in active IP pools but have no corresponding IPAM allocation.',
      'Found 1 handles with no matching IPs (and 3 handles with matches).',
      'Found 1 handles mentioned in blocks with no matching handle resource.',
      'Found 1 miscounted handles.',
      'Found 1 invalid IPAMBlocks.',
      'Found 1 IPAM blocks outside every IP pool.',
      'Found 1 block affinity problems.',
      'Check complete; found 8 problems.',
    ]) {
      expect(run.stdout).toContain(`\n${line}\n`);
    }
    expect(run.stdout).not.toContain('ordinal 3 is listed twice');
  });

  it('names each problem with --show-problem-ips', async () => {
    const resources: Resource[] = [...RESOURCES, { apiVersion: v3, kind: 'Node', metadata: { name: 'node-3' }, spec: { ipv4VXLANTunnelAddr: '10.1.0.201', wireguard: { interfaceIPv4Address: '172.16.0.1' } } }];
    const run = await runCtl(['ipam', 'check', '--show-problem-ips'], fake(DAMAGED, resources));
    for (const line of [
      '  172.16.0.1 in use by Node(node-3) is not in any active IP pool.',
      '  10.1.0.201 in use by Node(node-3) and in active IPAM pool but has no IPAM allocation.',
      "  k8s-pod-network.c is in use in a block but doesn't exist.",
      '  k8s-pod-network.a records 2 IPs in block 10.1.0.0/26; the block holds 1.',
      '  block 10.1.0.64/26: ordinal 3 is listed twice in unallocated',
      '  block 10.1.0.64/26: 0 allocated + 63 unallocated != 64 addresses',
      '  10.3.0.0/26 is not in any IP pool.',
      '  /calico/ipam/v2/host/node-9/ipv4/block/10.1.1.0-26: confirmed affinity for a block that does not exist',
    ]) {
      expect(run.stdout).toContain(`\n${line}\n`);
    }
    expect(run.stdout).not.toContain("doesn't have any active IPs");
  });

  it('lists every address and owner with --show-all-ips', async () => {
    const run = await runCtl(['ipam', 'check', '--show-all-ips'], fake(DAMAGED));
    expect(run.stdout).toContain(' IPAM block 10.1.0.0/26 affinity=host:node-1:\n  10.1.0.0 allocated; attrs Main:k8s-pod-network.a Extra:namespace=default,node=node-1,pod=a,timestamp=2026-08-01 10:00:00 +0000 UTC\n');
    expect(run.stdout).toContain('\n  10.1.0.200 belongs to Node(node-1)\n');
    expect(run.stdout).toContain("\n  k8s-pod-network.gone doesn't have any active IPs.\n");
  });

  it('prints the findings as one JSON document with -o json', async () => {
    const run = await runCtl(['ipam', 'check', '-o', 'json'], fake(DAMAGED));
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({
      blocks: 3,
      allocations: 4,
      activePools: ['10.1.0.0/16'],
      nodeTunnelIps: [{ ip: '10.1.0.200', owner: 'Node(node-1)' }],
      podCrossCheck: 'not checked: needs the Kubernetes API',
      handlesWithoutAddresses: ['k8s-pod-network.gone'],
      problems: 6,
    });
    expect(run.written.size).toBe(0);
  });

  it("writes calicoctl's report layout with -o FILE, marking every allocation in use", async () => {
    const run = await runCtl(['ipam', 'check', '-o', 'report.json'], fake(DAMAGED));
    expect(run.stdout).toContain('Check complete; found 6 problems.');
    const report = parseJsonLossless(run.written.get('report.json')!) as unknown as CheckReport;
    expect(Object.keys(report)).toEqual(['version', 'clusterGUID', 'datastoreLocked', 'clusterInformationRevision', 'clusterType', 'podsChecked', 'allocations', 'leakedHandles']);
    expect(report.podsChecked).toBe(false);
    expect(report.allocations['10.1.0.200']).toEqual([
      { ip: '10.1.0.200', handle: 'ipip-tunnel-addr-node-1', sequenceNumber: 1786000000000000007n, node: 'node-1', type: 'ipipTunnelAddress', inUse: true, owners: ['Node(node-1)'] },
    ]);
    expect(report.allocations['10.1.0.5']).toEqual([
      { ip: '10.1.0.5', handle: 'k8s-pod-network.c', sequenceNumber: 1786000000000000007n, pod: 'c', namespace: 'default', node: 'node-2', inUse: true, borrowed: true, owners: [] },
    ]);
    expect(report.allocations['10.1.0.0']![0]!.creationTimestamp).toBe('2026-08-01 10:00:00 +0000 UTC');
    expect(report.leakedHandles).toEqual([{ ID: 'k8s-pod-network.gone', UID: null, Revision: '' }]);
  });

  it('passes on a failure of the allocator', async () => {
    const f = fake();
    f.unreachable = true;
    const run = await runCtl(['ipam', 'check'], f);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/^atollctl: cannot reach the allocator at 127\.0\.0\.1:7443: /);
  });
});

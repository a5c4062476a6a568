import { RpcError, type Allocation, type GetUtilizationResponse } from '@atoll/api';
import { parseJsonLossless } from '@atoll/model';
import { FakeAllocator, runCtl } from '../testing/fake-allocator';

const cells = (line: string) => line.split('|').slice(1, -1).map((c) => c.trim());

const v6Total = 2n ** 80n;
const DOCS_USAGE: GetUtilizationResponse = {
  pools: [
    {
      name: 'default-ipv4-ippool',
      cidr: '10.65.0.0/16',
      capacity: '65536',
      inUse: '5',
      reserved: '0',
      available: '65531',
      blocks: [{ cidr: '10.65.79.0/26', capacity: '64', inUse: '5', reserved: '0', available: '59', affinity: 'host:node-1' }],
    },
    {
      name: 'default-ipv6-ippool',
      cidr: 'fd5f:abcd:64::/48',
      capacity: v6Total.toString(),
      inUse: '7',
      reserved: '0',
      available: (v6Total - 7n).toString(),
      blocks: [{ cidr: 'fd5f:abcd:64:4f2c:ec1b:27b9:1989:77c0/122', capacity: '64', inUse: '7', reserved: '0', available: '57', affinity: 'host:node-1' }],
    },
  ],
  orphanBlocks: [{ cidr: '10.99.0.0/26', capacity: '64', inUse: '1', reserved: '0', available: '63', affinity: '' }],
};

function fakeWith(usage: GetUtilizationResponse): FakeAllocator {
  const fake = new FakeAllocator();
  fake.utilization = usage;
  return fake;
}

describe('ipam show', () => {
  it("prints the pools table exactly as calicoctl's master does", async () => {
    const fake = fakeWith({ pools: [{ ...DOCS_USAGE.pools[0]!, blocks: [] }], orphanBlocks: [] });
    const run = await runCtl(['ipam', 'show'], fake);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        '+----------+--------------+-----------+------------+--------------+--------------+',
        '| GROUPING |     CIDR     | IPS TOTAL | IPS IN USE | IPS RESERVED |   IPS FREE   |',
        '+----------+--------------+-----------+------------+--------------+--------------+',
        '| IP Pool  | 10.65.0.0/16 |     65536 |     5 (0%) |       0 (0%) | 65531 (100%) |',
        '+----------+--------------+-----------+------------+--------------+--------------+',
        '',
      ].join('\n'),
    );
  });

  it("prints the documented numbers, IPv6 totals in %.5g, one row per pool", async () => {
    const run = await runCtl(['ipam', 'show'], fakeWith(DOCS_USAGE));
    const rows = run.stdout.split('\n').filter((l) => l.startsWith('| IP') || l.startsWith('| Block'));
    expect(rows.map(cells)).toEqual([
      ['IP Pool', '10.65.0.0/16', '65536', '5 (0%)', '0 (0%)', '65531 (100%)'],
      ['IP Pool', 'fd5f:abcd:64::/48', '1.2089e+24', '7 (0%)', '0 (0%)', '1.2089e+24 (100%)'],
    ]);
  });

  it('adds a row per block after its pool, and orphaned blocks last, with --show-blocks', async () => {
    const run = await runCtl(['ipam', 'show', '--show-blocks'], fakeWith(DOCS_USAGE));
    const rows = run.stdout.split('\n').filter((l) => l.startsWith('| IP') || l.startsWith('| Block'));
    expect(rows.map(cells)).toEqual([
      ['IP Pool', '10.65.0.0/16', '65536', '5 (0%)', '0 (0%)', '65531 (100%)'],
      ['Block', '10.65.79.0/26', '64', '5 (8%)', '0 (0%)', '59 (92%)'],
      ['IP Pool', 'fd5f:abcd:64::/48', '1.2089e+24', '7 (0%)', '0 (0%)', '1.2089e+24 (100%)'],
      ['Block', 'fd5f:abcd:64:4f2c:ec1b:27b9:1989:77c0/122', '64', '7 (11%)', '0 (0%)', '57 (89%)'],
      ['Block', '10.99.0.0/26', '64', '1 (2%)', '0 (0%)', '63 (98%)'],
    ]);
  });

  it('right-aligns the numbers', async () => {
    const run = await runCtl(['ipam', 'show', '--show-blocks'], fakeWith(DOCS_USAGE));
    expect(run.stdout).toContain('| Block    | 10.65.79.0/26                             |         64 |     5 (8%) |       0 (0%) |          59 (92%) |');
  });

  it('prints the same numbers as exact JSON with -o json', async () => {
    const run = await runCtl(['ipam', 'show', '-o', 'json'], fakeWith(DOCS_USAGE));
    const json = parseJsonLossless(run.stdout) as { pools: { capacity: unknown; available: unknown; blocks: unknown[] }[]; orphanBlocks: unknown[] };
    expect(json.pools[0]).toMatchObject({ name: 'default-ipv4-ippool', capacity: 65536, inUse: 5, reserved: 0, available: 65531 });
    expect(json.pools[1]).toMatchObject({ capacity: v6Total, available: v6Total - 7n });
    expect(json.pools[0]!.blocks).toEqual([{ cidr: '10.65.79.0/26', affinity: 'host:node-1', capacity: 64, inUse: 5, reserved: 0, available: 59 }]);
    expect(json.orphanBlocks).toHaveLength(1);
  });
});

const allocation = (address: string, block: string, blockAffinity: string, attributes: Record<string, string>, handleId = `h-${address}`): Allocation => ({
  address,
  block,
  handleId,
  attributes,
  sequenceNumber: '1786000000000000001',
  blockAffinity,
});

describe('ipam show --ip', () => {
  const fake = () => {
    const f = new FakeAllocator();
    f.allocations = [
      allocation('10.244.118.70', '10.244.118.64/26', 'host:node-1', { pod: 'nano-66d4c99f8b-jm5s9', namespace: 'default', node: 'node-1' }, 'k8s-pod-network.abc'),
      allocation('10.244.118.71', '10.244.118.64/26', 'host:node-1', {}, ''),
      allocation('10.244.118.72', '10.244.118.64/26', 'host:node-1', { pod: 'db-2', namespace: 'prod', node: 'node-1', sandbox: 'k8s-pod-network.def' }, 'atoll-sticky.prod.db.2'),
      allocation('10.244.118.73', '10.244.118.64/26', 'host:node-1', { pod: 'db-3', namespace: 'prod', node: 'node-1' }, 'atoll-sticky-idle.prod.db.3'),
    ];
    return f;
  };

  it('prints the handle and the sorted owner attributes of an address in use', async () => {
    const run = await runCtl(['ipam', 'show', '--ip=10.244.118.70'], fake());
    expect(run.stdout).toBe(
      'IP 10.244.118.70 is in use\nHandle ID: k8s-pod-network.abc\nActive Owner Attributes:\n  namespace: default\n  node: node-1\n  pod: nano-66d4c99f8b-jm5s9\n',
    );
  });

  it('says that a sticky address is kept for its StatefulSet pod identity, and whether a sandbox uses it', async () => {
    const used = await runCtl(['ipam', 'show', '--ip=10.244.118.72'], fake());
    expect(used.stdout.split('\n').slice(0, 3)).toEqual([
      'IP 10.244.118.72 is in use',
      'Handle ID: atoll-sticky.prod.db.2',
      'Sticky: kept for StatefulSet pod identity prod/db/2 (namespace/set/ordinal); used by sandbox k8s-pod-network.def',
    ]);
    const idle = await runCtl(['ipam', 'show', '--ip=10.244.118.73'], fake());
    expect(idle.stdout).toContain('Sticky: kept for StatefulSet pod identity prod/db/3 (namespace/set/ordinal); no sandbox uses it now\n');
    const json = parseJsonLossless((await runCtl(['ipam', 'show', '--ip=10.244.118.73', '-o', 'json'], fake())).stdout) as Record<string, unknown>;
    expect(json['sticky']).toEqual({ identity: 'prod/db/3', inUse: false });
  });

  it('says when an address in use has no handle or attributes', async () => {
    const run = await runCtl(['ipam', 'show', '--ip', '10.244.118.71'], fake());
    expect(run.stdout).toBe('IP 10.244.118.71 is in use\nHandle ID: <none>\nNo Active Owner attributes defined\n');
  });

  it.each([
    ['10.244.118.9', '10.244.118.9 is not assigned\n'],
    ['fd00:0:0::1', 'fd00::1 is not assigned\n'],
  ])('prints "%s is not assigned" with the canonical address', async (ip, stdout) => {
    expect(await runCtl(['ipam', 'show', `--ip=${ip}`], fake())).toMatchObject({ code: 0, stdout, stderr: '' });
  });

  it('prints the facts as JSON with -o json', async () => {
    const inUse = parseJsonLossless((await runCtl(['ipam', 'show', '--ip=10.244.118.70', '-o', 'json'], fake())).stdout);
    const free = JSON.parse((await runCtl(['ipam', 'show', '--ip=10.244.118.9', '-o', 'json'], fake())).stdout);
    expect(inUse).toEqual({
      ip: '10.244.118.70',
      assigned: true,
      block: '10.244.118.64/26',
      handleId: 'k8s-pod-network.abc',
      attributes: { pod: 'nano-66d4c99f8b-jm5s9', namespace: 'default', node: 'node-1' },
      sequenceNumber: 1786000000000000001n,
    });
    expect(free).toEqual({ ip: '10.244.118.9', assigned: false });
  });

  it('refuses something that is not an address', async () => {
    expect(await runCtl(['ipam', 'show', '--ip=10.0.0.300'], fake())).toMatchObject({ code: 1, stderr: 'atollctl: Invalid IP address specified: 10.0.0.300\n' });
  });

  it('passes on the allocator\'s refusal, e.g. an address cooling down', async () => {
    const f = fake();
    f.failNext.set('ipam.getAssignmentAttributes', new RpcError('in-cooldown', 'address 10.244.118.70 is in cooldown', false, 9 as RpcError['grpcCode']));
    expect(await runCtl(['ipam', 'show', '--ip=10.244.118.70'], f)).toMatchObject({ code: 1, stderr: 'atollctl: address 10.244.118.70 is in cooldown\n' });
  });
});

describe('ipam show --show-borrowed', () => {
  const fake = () => {
    const f = new FakeAllocator();
    f.allocations = [
      allocation('172.16.0.1', '172.16.0.0/29', 'host:worker-node-2', { node: 'worker-node-1', namespace: 'external-ns', pod: 'nginx-6db489d4b7-gln7h' }),
      allocation('172.16.0.2', '172.16.0.0/29', 'host:worker-node-2', { node: 'worker-node-2', namespace: 'ns', pod: 'own' }),
      allocation('172.16.0.3', '172.16.0.0/29', 'host:worker-node-2', { node: 'worker-node-3', namespace: 'vms', 'vmi-name': 'vm-1', pod: 'virt-launcher' }),
      allocation('172.16.0.9', '172.16.0.8/29', '', { node: 'worker-node-3', type: 'vxlanTunnelAddress' }),
      allocation('172.16.0.4', '172.16.0.0/29', 'host:worker-node-2', {}),
    ];
    return f;
  };

  it('lists addresses whose node is not the block owner, and counts those without a node', async () => {
    const run = await runCtl(['ipam', 'show', '--show-borrowed'], fake());
    const lines = run.stdout.split('\n');
    expect(cells(lines[1]!)).toEqual(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO']);
    expect(lines.filter((l) => l.startsWith('| 172')).map(cells)).toEqual([
      ['172.16.0.1', 'worker-node-1', '172.16.0.0/29', 'worker-node-2', 'pod', 'external-ns/nginx-6db489d4b7-gln7h'],
      ['172.16.0.3', 'worker-node-3', '172.16.0.0/29', 'worker-node-2', 'vmi', 'vms/vm-1'],
      ['172.16.0.9', 'worker-node-3', '172.16.0.8/29', '', 'vxlanTunnelAddress', ''],
    ]);
    expect(run.stdout.endsWith('\nNote: found 1 IP allocations without an explicit node association. Unable to determine if they are borrowed.\n')).toBe(true);
  });

  it('prints the same as JSON', async () => {
    const json = JSON.parse((await runCtl(['ipam', 'show', '--show-borrowed', '-o', 'json'], fake())).stdout);
    expect(json.unclassified).toBe(1);
    expect(json.borrowed[0]).toEqual({ ip: '172.16.0.1', borrowingNode: 'worker-node-1', block: '172.16.0.0/29', blockOwner: 'worker-node-2', type: 'pod', allocatedTo: 'external-ns/nginx-6db489d4b7-gln7h' });
  });
});

describe('ipam show --show-configuration', () => {
  it("prints every IPAM setting with Go's %#v values", async () => {
    const run = await runCtl(['ipam', 'show', '--show-configuration'], new FakeAllocator());
    expect(run.stdout).toBe(
      [
        '+------------------------------+-----------+',
        '|           PROPERTY           |   VALUE   |',
        '+------------------------------+-----------+',
        '| StrictAffinity               | false     |',
        '| AutoAllocateBlocks           | true      |',
        '| MaxBlocksPerHost             | 0         |',
        '| KubeVirtVMAddressPersistence | "Enabled" |',
        '| IPCooldownSeconds            | 0         |',
        '+------------------------------+-----------+',
        '',
      ].join('\n'),
    );
  });

  it('prints the settings as JSON', async () => {
    const run = await runCtl(['ipam', 'show', '--show-configuration', '-o', 'json'], new FakeAllocator());
    expect(JSON.parse(run.stdout)).toEqual({ strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0, kubeVirtVMAddressPersistence: 'Enabled', ipCooldownSeconds: 0 });
  });
});

describe('ipam show flags', () => {
  it.each([
    [['--ip=10.0.0.1', '--show-borrowed'], 'flags --ip and --show-borrowed cannot be used together'],
    [['--show-configuration', '--show-blocks'], 'flags --show-configuration and --show-blocks cannot be used together'],
  ])('refuses %p together', async (flags, message) => {
    const run = await runCtl(['ipam', 'show', ...flags], new FakeAllocator());
    expect(run).toMatchObject({ code: 2, stderr: `atollctl: ${message}; see 'atollctl ipam show --help'\n` });
  });

  it('refuses an output format it does not have', async () => {
    expect((await runCtl(['ipam', 'show', '-o', 'yaml'], new FakeAllocator())).code).toBe(2);
  });
});

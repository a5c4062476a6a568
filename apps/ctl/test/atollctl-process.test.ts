import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, IntendedUse, type AllocatorClients, type GetUtilizationResponse } from '@atoll/api';
import { parseCidr } from '@atoll/ipmath';
import { blockKey, loadResources, parseJsonLossless } from '@atoll/model';
import { EtcdDatastore } from '@atoll/store';
import { formatCount, formatCountWithPercent } from '../src/format/go-float';
import { IPPOOL_REFERENCE_SAMPLE, OVERLAPPING_POOL, TOPOLOGY_RACK_POOLS } from '../src/testing/calico-docs';
import { freePort } from '../../../tools/etcd/launcher';
import { ALLOCATOR_BIN, ATOLLCTL_BIN, runAtollctlBinary, startStack, type Stack } from './stack';

// dist/bin/atollctl as a process against dist/bin/atoll-allocator and a private etcd. The
// tests run in order and build on each other like an operator's session: pools first,
// then addresses, then the ipam commands over them.

const cells = (line: string) => line.split('|').slice(1, -1).map((c) => c.trim());
const tableRows = (text: string) => text.split('\n').filter((l) => /^\| (IP Pool|Block) /.test(l)).map(cells);

describe('atollctl against a running allocator', () => {
  let stack: Stack;
  let clients: AllocatorClients;
  let dir: string;
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };

  beforeAll(async () => {
    for (const [bin, project] of [[ATOLLCTL_BIN, '@atoll/ctl'], [ALLOCATOR_BIN, '@atoll/allocator']]) {
      if (!fs.existsSync(bin!)) throw new Error(`${bin} is missing: run 'npx nx build ${project}' first`);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atollctl-test-'));
    stack = await startStack();
    clients = connectAllocator(stack.address);
  }, 60_000);

  afterAll(async () => {
    clients?.close();
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("applies the IPPool sample from Calico's docs unchanged", async () => {
    const r = await stack.ctl(['apply', '-f', file('ippool.yaml', IPPOOL_REFERENCE_SAMPLE)]);
    expect(r).toEqual({ code: 0, stdout: "Successfully applied 1 'IPPool' resource(s)\n", stderr: '' });
  });

  it('applies two pools from stdin', async () => {
    const r = await stack.ctl(['apply', '-f', '-'], { stdin: TOPOLOGY_RACK_POOLS });
    expect(r).toEqual({ code: 0, stdout: "Successfully applied 2 'IPPool' resource(s)\n", stderr: '' });
  });

  it("refuses an overlapping pool with Calico's message, one line on stderr and a non-zero exit", async () => {
    const r = await stack.ctl(['create', '-f', file('overlap.yaml', OVERLAPPING_POOL)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^atollctl: .*IPPool\(default-ipv4-ippool\) CIDR overlaps with IPPool\(my\.ippool-1\) CIDR 10\.1\.0\.0\/16\n$/);
  });

  it('creates a node for the address tests', async () => {
    const r = await stack.ctl(['create', '-f', '-'], { stdin: 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: node-1\nspec: {}\n' });
    expect(r).toEqual({ code: 0, stdout: "Successfully created 1 'Node' resource(s)\n", stderr: '' });
  });

  it('gets pools as a table, a wide table, YAML and JSON', async () => {
    const table = await stack.ctl(['get', 'ippools']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n').map((l) => l.trimEnd())).toEqual([
      'NAME            CIDR             SELECTOR',
      'my.ippool-1     10.1.0.0/16      all()',
      'rack-0-ippool   192.168.0.0/24   rack == "0"',
      'rack-1-ippool   192.168.1.0/24   rack == "1"',
      '',
      '',
    ]);

    const wide = await stack.ctl(['get', 'IPPool', 'my.ippool-1', '-o', 'wide']);
    expect(wide.stdout.split('\n').map((l) => l.trimEnd()).slice(0, 2)).toEqual([
      'NAME          CIDR          NAT    IPIPMODE      VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR',
      'my.ippool-1   10.1.0.0/16   true   CrossSubnet   Never       false      false              all()',
    ]);

    const yaml = await stack.ctl(['get', 'ipp', '-o', 'yaml']);
    const reread = loadResources(yaml.stdout, 'get.yaml');
    expect(reread.map((p) => p.metadata.name)).toEqual(['my.ippool-1', 'rack-0-ippool', 'rack-1-ippool']);
    expect(reread[0]).toMatchObject({ metadata: { uid: expect.any(String), resourceVersion: expect.any(String) }, spec: { blockSize: 26 } });

    const json = JSON.parse((await stack.ctl(['get', 'ippool', 'rack-0-ippool', '-o', 'json'])).stdout);
    expect(json).toMatchObject({ kind: 'IPPool', metadata: { name: 'rack-0-ippool' }, spec: { cidr: '192.168.0.0/24', nodeSelector: 'rack == "0"' } });

    const nodes = await stack.ctl(['get', 'nodes']);
    expect(nodes.stdout).toBe('NAME     \nnode-1   \n\n');
  });

  it('applies what get -o yaml printed, unchanged', async () => {
    const yaml = (await stack.ctl(['get', 'ippools', '-o', 'yaml'])).stdout;
    const r = await stack.ctl(['apply', '-f', '-'], { stdin: yaml });
    expect(r).toEqual({ code: 0, stdout: "Successfully applied 3 'IPPool' resource(s)\n", stderr: '' });
  });

  let assigned: string[] = [];

  it('shows the same numbers as GetUtilization after addresses are assigned', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await clients.ipam.autoAssign({
        num4: 1,
        num6: 0,
        handleId: `k8s-pod-network.c${i}`,
        attributes: { node: 'node-1', namespace: 'default', pod: `pod-${i}` },
        hostname: 'node-1',
        ipv4Pools: ['10.1.0.0/16'],
        ipv6Pools: [],
        maxBlocksPerHost: 0,
        intendedUse: IntendedUse.INTENDED_USE_WORKLOAD,
        namespaceLabels: {},
        allOrNothing: true,
      });
      assigned.push(r.ipv4!.ips[0]!.split('/')[0]!);
    }
    await clients.ipam.assignIp({ ip: '10.1.200.7', handleId: 'static-1', attributes: { node: 'node-1', pod: 'static' }, hostname: 'node-1', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
    assigned = [...assigned, '10.1.200.7'];

    const usage: GetUtilizationResponse = await clients.ipam.getUtilization({ poolNames: [] });
    const expected: string[][] = [];
    for (const p of usage.pools) {
      const row = (g: string, u: { cidr: string; capacity: string; inUse: string; reserved: string; available: string }) => {
        const cap = BigInt(u.capacity);
        return [g, u.cidr, formatCount(cap), ...[u.inUse, u.reserved, u.available].map((n) => formatCountWithPercent(BigInt(n), cap))];
      };
      expected.push(row('IP Pool', p), ...p.blocks.map((b) => row('Block', b)));
    }
    const shown = await stack.ctl(['ipam', 'show', '--show-blocks']);
    expect(shown.code).toBe(0);
    expect(tableRows(shown.stdout)).toEqual(expected);
    expect(tableRows(shown.stdout)).toContainEqual(['IP Pool', '10.1.0.0/16', '65536', '4 (0%)', '0 (0%)', '65532 (100%)']);

    const json = parseJsonLossless((await stack.ctl(['ipam', 'show', '-o', 'json'])).stdout) as { pools: { cidr: string; inUse: unknown; available: unknown }[] };
    expect(json.pools.map((p) => [p.cidr, String(p.inUse), String(p.available)])).toEqual(usage.pools.map((p) => [p.cidr, p.inUse, p.available]));
  });

  it('shows who holds an address, and says when one is free', async () => {
    const inUse = await stack.ctl(['ipam', 'show', `--ip=${assigned[1]}`]);
    expect(inUse.stdout).toBe(`IP ${assigned[1]} is in use\nHandle ID: k8s-pod-network.c1\nActive Owner Attributes:\n  namespace: default\n  node: node-1\n  pod: pod-1\n`);
    expect((await stack.ctl(['ipam', 'show', '--ip=10.1.250.1'])).stdout).toBe('10.1.250.1 is not assigned\n');
  });

  it('releases an address with --ip, and refuses to release it twice', async () => {
    const first = await stack.ctl(['ipam', 'release', `--ip=${assigned[2]}`]);
    expect(first).toEqual({ code: 0, stdout: `Successfully released IP address ${assigned[2]}\n`, stderr: '' });
    expect((await stack.ctl(['ipam', 'show', `--ip=${assigned[2]}`])).stdout).toBe(`${assigned[2]} is not assigned\n`);
    const again = await stack.ctl(['ipam', 'release', `--ip=${assigned[2]}`]);
    expect(again).toEqual({ code: 1, stdout: '', stderr: `atollctl: IP address ${assigned[2]} is not assigned\n` });
  });

  it('finds no problems in a clean datastore', async () => {
    const r = await stack.ctl(['ipam', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('Checking IPAM for inconsistencies...\n\nLoading all IPAM blocks...\nFound 2 IPAM blocks.\n')).toBe(true);
    expect(r.stdout).toContain('\nIPAM blocks record 3 allocations.\n');
    expect(r.stdout).toContain('\nFound 3 active IP pools.\n');
    expect(r.stdout).toContain('needs the Kubernetes API');
    expect(r.stdout).toContain('\nFound 0 handles with no matching IPs (and 3 handles with matches).\n');
    expect(r.stdout.endsWith('\nCheck complete; found 0 problems.\n')).toBe(true);
  });

  it('finds a broken block written straight into etcd', async () => {
    const ds = new EtcdDatastore({ endpoints: stack.etcd.endpoints });
    try {
      // Ordinal 0 listed twice in unallocated, 63 missing; owned by a node with no affinity record.
      const unallocated = [0, ...Array.from({ length: 63 }, (_, i) => i)];
      const broken = JSON.stringify({
        cidr: '10.1.99.0/26',
        affinity: 'host:node-9',
        allocations: Array.from({ length: 64 }, () => null),
        unallocated,
        attributes: [],
        sequenceNumber: 1,
        sequenceNumberForAllocation: {},
        deleted: false,
      });
      await ds.commit({ preconditions: [], mutations: [{ op: 'put', key: blockKey(parseCidr('10.1.99.0/26')), value: broken }] });
    } finally {
      await ds.close();
    }
    const r = await stack.ctl(['ipam', 'check', '--show-problem-ips', '-o', path.join(dir, 'report.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nFound 3 IPAM blocks.\n');
    expect(r.stdout).toContain('\n  block 10.1.99.0/26: ordinal 0 is listed twice in unallocated\n');
    expect(r.stdout).toContain('\nFound 1 invalid IPAMBlocks.\n');
    expect(r.stdout).toContain('\nFound 1 block affinity problems.\n');
    expect(r.stdout).toMatch(/\nCheck complete; found [1-9]\d* problems\.\n$/);

    const json = JSON.parse((await stack.ctl(['ipam', 'check', '-o', 'json'])).stdout);
    expect(json.invalidBlocks).toEqual([{ block: '10.1.99.0/26', problems: expect.arrayContaining(['block 10.1.99.0/26: ordinal 0 is listed twice in unallocated']) }]);
  });

  it('releases from a report only what it marks as not in use, checking sequence numbers', async () => {
    const report = parseJsonLossless(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as {
      podsChecked: boolean;
      allocations: Record<string, { ip: string; inUse: boolean; sequenceNumber: bigint }[]>;
    };
    expect(report.podsChecked).toBe(false);
    expect(Object.keys(report.allocations).sort()).toEqual([assigned[0], assigned[1], '10.1.200.7'].sort());
    expect(Object.values(report.allocations).every((list) => list.every((a) => a.inUse))).toBe(true);

    // An operator who knows pod-0 is gone marks its address leaked.
    report.allocations[assigned[0]!]![0]!.inUse = false;
    const edited = JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? `__big${v}` : v)).replace(/"__big(\d+)"/g, '$1');
    const r = await stack.ctl(['ipam', 'release', `--from-report=${file('edited.json', edited)}`, '--force']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'WARNING: Data store is not locked. Ignoring due to --force option\nReleasing 1 old IPs...\nReleased 1 IPs successfully\n' +
        "Report didn't contain any handles to clean up.\nYou may now unlock the data store.\n",
    });
    expect((await stack.ctl(['ipam', 'show', `--ip=${assigned[0]}`])).stdout).toBe(`${assigned[0]} is not assigned\n`);
    expect((await stack.ctl(['ipam', 'show', `--ip=${assigned[1]}`])).stdout).toContain('is in use');
  });

  it('configures IPAM and shows the configuration', async () => {
    expect(await stack.ctl(['ipam', 'configure', '--strictaffinity=true', '--max-blocks-per-host=4'])).toEqual({
      code: 0,
      stdout: 'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 4\n',
      stderr: '',
    });
    const shown = await stack.ctl(['ipam', 'show', '--show-configuration']);
    expect(shown.stdout).toContain('| StrictAffinity               | true      |');
    expect(shown.stdout).toContain('| MaxBlocksPerHost             | 4         |');
    expect((await stack.ctl(['get', 'ipamconfig', '-o', 'wide'])).stdout.split('\n')[1]!.trimEnd()).toBe('default   true             true                 4');
    const refused = await stack.ctl(['ipam', 'configure', '--strictaffinity=false']);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'atollctl: MaxBlocksPerHost requires StrictAffinity to be enabled\n' });
    expect((await stack.ctl(['ipam', 'configure', '--max-blocks-per-host=0', '--strictaffinity=false'])).code).toBe(0);
  });

  it('splits a pool into smaller pools', async () => {
    await stack.ctl(['apply', '-f', '-'], { stdin: 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: to-split\nspec:\n  cidr: 10.50.0.0/16\n' });
    const r = await stack.ctl(['ipam', 'split', '2', '--cidr=10.50.0.0/16']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: 'IP Pool to-split was successfully split into 2 smaller pools.\nCreated split-to-split-0 with CIDR 10.50.0.0/17.\nCreated split-to-split-1 with CIDR 10.50.128.0/17.\n',
    });
    const pools = JSON.parse((await stack.ctl(['get', 'ippools', '-o', 'json'])).stdout) as { items: { metadata: { name: string }; spec: { cidr: string; disabled: boolean } }[] };
    expect(pools.items.filter((p) => p.metadata.name.includes('split')).map((p) => [p.metadata.name, p.spec.cidr, p.spec.disabled])).toEqual([
      ['split-to-split-0', '10.50.0.0/17', false],
      ['split-to-split-1', '10.50.128.0/17', false],
    ]);
  });

  it('deletes by type and name, and by file', async () => {
    expect(await stack.ctl(['delete', 'ippool', 'split-to-split-0', 'split-to-split-1'])).toEqual({ code: 0, stdout: "Successfully deleted 2 'IPPool' resource(s)\n", stderr: '' });
    expect(await stack.ctl(['delete', '-f', file('rack.yaml', TOPOLOGY_RACK_POOLS)])).toEqual({ code: 0, stdout: "Successfully deleted 2 'IPPool' resource(s)\n", stderr: '' });
    const missing = await stack.ctl(['delete', 'ippool', 'rack-0-ippool']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: "atollctl: Failed to delete 'IPPool' resource: resource does not exist: IPPool(rack-0-ippool)\n" });
  });

  it('names a bad flag in a usage error with exit code 2', async () => {
    expect(await stack.ctl(['ipam', 'show', '--show-blockz'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "atollctl: unknown flag --show-blockz for 'atollctl ipam show'; see 'atollctl ipam show --help'\n",
    });
  });

  it('says in one line when no allocator listens at the address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const r = await runAtollctlBinary(['get', 'ippools'], { ATOLL_ALLOCATOR: address });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^atollctl: cannot reach the allocator at ${address.replace(/\./g, '\\.')}: .*ECONNREFUSED.*\\n$`));
  });
});

import { loadResources, type Resource } from '@atoll/model';
import { FakeAllocator, runCtl } from '../testing/fake-allocator';

const v3 = 'projectcalico.org/v3' as const;
const pools: Resource[] = [
  { apiVersion: v3, kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '192.168.0.0/16', ipipMode: 'Always', natOutgoing: true } },
  { apiVersion: v3, kind: 'IPPool', metadata: { name: 'manual' }, spec: { cidr: '10.9.0.0/24', nodeSelector: '!all()', disabled: true } },
];

describe('get', () => {
  it("lists pools in calicoctl's table, with the empty line after it", async () => {
    const run = await runCtl(['get', 'ippools'], new FakeAllocator().seed(...pools));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      'NAME                  CIDR             SELECTOR   \n' +
        'default-ipv4-ippool   192.168.0.0/16   all()      \n' +
        'manual                10.9.0.0/24      !all()     \n' +
        '\n',
    );
  });

  it('adds the wide columns with -o wide', async () => {
    const run = await runCtl(['get', 'ippool', '-o', 'wide'], new FakeAllocator().seed(...pools));
    expect(run.stdout.split('\n').map((l) => l.trimEnd())).toEqual([
      'NAME                  CIDR             NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR',
      'default-ipv4-ippool   192.168.0.0/16   true    Always     Never       false      false              all()',
      'manual                10.9.0.0/24      false   Never      Never       true       false              !all()',
      '',
      '',
    ]);
  });

  it.each([['table'], ['ps']])('takes -o %s as the default table', async (format) => {
    const run = await runCtl(['get', 'ippools', '-o', format], new FakeAllocator().seed(...pools));
    expect(run.stdout.startsWith('NAME  ')).toBe(true);
  });

  it('prints one named resource as YAML that apply reads back', async () => {
    const run = await runCtl(['get', 'ippool', 'manual', '-o', 'yaml'], new FakeAllocator().seed(...pools));
    expect(run.stdout.startsWith('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: manual\n')).toBe(true);
    expect(loadResources(run.stdout).map((r) => r.metadata.name)).toEqual(['manual']);
  });

  it('prints a listing as an IPPoolList that apply reads back', async () => {
    const run = await runCtl(['get', 'ippools', '-o', 'yaml'], new FakeAllocator().seed(...pools));
    expect(run.stdout).toMatch(/^apiVersion: projectcalico.org\/v3\nkind: IPPoolList\nmetadata: \{\}\nitems:\n/);
    expect(loadResources(run.stdout).map((r) => r.metadata.name)).toEqual(['default-ipv4-ippool', 'manual']);
  });

  it('prints JSON: the resource by name, a list otherwise', async () => {
    const fake = new FakeAllocator().seed(...pools);
    const one = JSON.parse((await runCtl(['get', 'ippool', 'manual', '-o', 'json'], fake)).stdout);
    const all = JSON.parse((await runCtl(['get', 'ippools', '-o', 'json'], fake)).stdout);
    expect(one).toMatchObject({ kind: 'IPPool', metadata: { name: 'manual' }, spec: { cidr: '10.9.0.0/24' } });
    expect(all).toMatchObject({ apiVersion: v3, kind: 'IPPoolList', items: [{ metadata: { name: 'default-ipv4-ippool' } }, { metadata: { name: 'manual' } }] });
  });

  it.each<[string, Resource, string[]]>([
    [
      'reservations',
      { apiVersion: v3, kind: 'IPReservation', metadata: { name: 'r1' }, spec: { reservedCIDRs: ['192.168.2.3', '10.0.2.3/32'] } },
      ['NAME   CIDRS', 'r1     192.168.2.3,10.0.2.3/32'],
    ],
    [
      'nodes',
      { apiVersion: v3, kind: 'Node', metadata: { name: 'node-1' }, spec: { bgp: { ipv4Address: '10.244.0.1/24' } } },
      ['NAME     ASN       IPV4            IPV6', 'node-1   (64512)   10.244.0.1/24'],
    ],
    [
      'the IPAM configuration',
      { apiVersion: v3, kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: { strictAffinity: true, maxBlocksPerHost: 4 } },
      ['NAME      STRICTAFFINITY   AUTOALLOCATEBLOCKS   MAXBLOCKSPERHOST', 'default   true             true                 4'],
    ],
  ])('lists %s in the wide table', async (_title, resource, lines) => {
    const run = await runCtl(['get', resource.kind.toLowerCase(), '-o', 'wide'], new FakeAllocator().seed(resource));
    expect(run.stdout.split('\n').map((l) => l.trimEnd()).slice(0, 2)).toEqual(lines);
  });

  it('cuts long reservation lists at 80 characters as calicoctl does', async () => {
    const cidrs = Array.from({ length: 12 }, (_, i) => `10.0.${i}.0/24`);
    const run = await runCtl(['get', 'ipreservations', '-o', 'wide'], new FakeAllocator().seed({ apiVersion: v3, kind: 'IPReservation', metadata: { name: 'r' }, spec: { reservedCIDRs: cidrs } }));
    const cell = run.stdout.split('\n')[1]!.slice('NAME   '.length).trimEnd();
    expect(cell).toHaveLength(80);
    expect(cell.endsWith('...')).toBe(true);
  });

  it('prints only the headings when there is nothing to list', async () => {
    const run = await runCtl(['get', 'ipreservations'], new FakeAllocator());
    expect(run.stdout).toBe('NAME   \n\n');
  });

  it('fails with the allocator\'s message for a missing resource', async () => {
    const run = await runCtl(['get', 'ippool', 'nope'], new FakeAllocator());
    expect(run).toMatchObject({ code: 1, stdout: '', stderr: 'atollctl: Failed to get resources: resource does not exist: IPPool(nope)\n' });
  });

  it.each([
    [['get', 'bgppeers'], "atollctl: Resource type 'bgppeers' is not supported; use one of ippool, ipreservation, ipamconfiguration, node\n", 1],
    [['get', 'ippools', '-o', 'go-template'], `atollctl: flag --output must be one of table, ps, wide, yaml, json, got "go-template"; see 'atollctl get --help'\n`, 2],
  ])('refuses %p', async (argv, stderr, code) => {
    expect(await runCtl(argv, new FakeAllocator())).toMatchObject({ code, stderr, stdout: '' });
  });
});

import type { IPPool } from '@atoll/model';
import { CliError } from '../errors';
import { FakeAllocator, invalid, runCtl } from '../testing/fake-allocator';
import { childName, splitCidr } from './ipam-split';

const v3 = 'projectcalico.org/v3' as const;
const parent = (spec: Partial<IPPool['spec']> = {}): IPPool => ({
  apiVersion: v3,
  kind: 'IPPool',
  metadata: { name: 'default-ipv4-ippool', labels: { team: 'net' } },
  spec: { cidr: '192.168.0.0/16', natOutgoing: true, ...spec },
});

const pools = (f: FakeAllocator) => [...f.store.values()].filter((r): r is IPPool => r.kind === 'IPPool');

describe('splitCidr', () => {
  it.each<[string, number, string[]]>([
    ['172.0.0.0/8', 2, ['172.0.0.0/9', '172.128.0.0/9']],
    ['10.0.0.0/24', 4, ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26']],
    ['fd00::/120', 2, ['fd00::/121', 'fd00::80/121']],
  ])('splits %s into %i equal CIDRs in address order', (cidr, parts, expected) => {
    expect(splitCidr(cidr, parts)).toEqual(expected);
  });

  it.each<[string, number, string]>([
    ['10.0.0.0/24', 3, 'number to split CIDR into is not a valid power of 2: 3'],
    ['10.0.0.0/24', 1, 'number to split CIDR into is not a valid power of 2: 1'],
    ['10.0.0.0/24', 0, 'number to split CIDR into is not a valid power of 2: 0'],
    ['10.0.0.0/31', 4, 'the CIDR 10.0.0.0/31 is not large enough to be split into 4 parts'],
  ])("refuses %s into %i with calicoctl's message", (cidr, parts, message) => {
    expect(() => splitCidr(cidr, parts)).toThrow(new CliError(message));
  });
});

describe('childName', () => {
  it('names children split-<name>-<i>, cutting names past 253 characters', () => {
    expect(childName('pool', 3)).toBe('split-pool-3');
    expect(childName('p'.repeat(250), 1)).toBe(`split-${'p'.repeat(245)}-1`);
  });
});

describe('ipam split', () => {
  it("replaces the pool by enabled children and prints calicoctl's lines", async () => {
    const fake = new FakeAllocator().seed(parent());
    const run = await runCtl(['ipam', 'split', '2', '--name=default-ipv4-ippool'], fake);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      'IP Pool default-ipv4-ippool was successfully split into 2 smaller pools.\n' +
        'Created split-default-ipv4-ippool-0 with CIDR 192.168.0.0/17.\n' +
        'Created split-default-ipv4-ippool-1 with CIDR 192.168.128.0/17.\n',
    );
    expect(pools(fake).map((p) => [p.metadata.name, p.spec.cidr, p.spec.disabled, p.spec.natOutgoing, p.metadata.labels])).toEqual([
      ['split-default-ipv4-ippool-0', '192.168.0.0/17', false, true, { team: 'net' }],
      ['split-default-ipv4-ippool-1', '192.168.128.0/17', false, true, { team: 'net' }],
    ]);
  });

  it('disables and deletes the parent first, creates the children disabled, then enables them', async () => {
    const fake = new FakeAllocator().seed(parent());
    await runCtl(['ipam', 'split', '2', '--cidr=192.168.0.0/16'], fake);
    const steps = fake.calls
      .filter((c) => c.method !== 'resources.list' && c.method !== 'resources.get')
      .map((c) => {
        const r = c.request as { resourceJson?: string; name?: string };
        if (!r.resourceJson) return `${c.method} ${r.name}`;
        const pool = JSON.parse(r.resourceJson) as IPPool;
        return `${c.method} ${pool.metadata.name} disabled=${pool.spec.disabled}`;
      });
    expect(steps).toEqual([
      'resources.apply default-ipv4-ippool disabled=true',
      'resources.delete default-ipv4-ippool',
      'resources.create split-default-ipv4-ippool-0 disabled=true',
      'resources.create split-default-ipv4-ippool-1 disabled=true',
      'resources.apply split-default-ipv4-ippool-0 disabled=false',
      'resources.apply split-default-ipv4-ippool-1 disabled=false',
    ]);
  });

  it('keeps the children of a disabled pool disabled', async () => {
    const fake = new FakeAllocator().seed(parent({ disabled: true }));
    await runCtl(['ipam', 'split', '4', '--name=default-ipv4-ippool'], fake);
    expect(pools(fake).map((p) => p.spec.disabled)).toEqual([true, true, true, true]);
  });

  it('puts the parent back when a child cannot be created', async () => {
    const fake = new FakeAllocator().seed(parent());
    fake.failNext.set('resources.create', invalid('IPPool "split-default-ipv4-ippool-0": something is wrong'));
    const run = await runCtl(['ipam', 'split', '2', '--name=default-ipv4-ippool'], fake);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'atollctl: error creating split pool with cidr 192.168.0.0/17: IPPool "split-default-ipv4-ippool-0": something is wrong; ' +
        'the split was rolled back and IP pool default-ipv4-ippool recreated\n',
    );
    expect(pools(fake).map((p) => [p.metadata.name, p.spec.cidr, p.spec.disabled])).toEqual([['default-ipv4-ippool', '192.168.0.0/16', false]]);
  });

  it.each<[string, string[], IPPool[], string, number]>([
    ['neither --name nor --cidr', ['2'], [parent()], 'no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split', 2],
    ['a number that is not one', ['two', '--name=default-ipv4-ippool'], [parent()], 'error reading number to split IP pools into. two is not a valid number', 2],
    ['an unknown name', ['2', '--name=nope'], [parent()], 'unable to find IP pool with name nope: resource does not exist: IPPool(nope)', 1],
    ['an unknown CIDR', ['2', '--cidr=10.0.0.0/8'], [parent()], 'unable to find IP pool covering the specified CIDR 10.0.0.0/8', 1],
    ['a count that is no power of 2', ['6', '--name=default-ipv4-ippool'], [parent()], 'number to split CIDR into is not a valid power of 2: 6', 1],
    [
      'children smaller than a block',
      ['8', '--name=small'],
      [{ ...parent(), metadata: { name: 'small' }, spec: { cidr: '10.0.0.0/24' } }],
      "error splitting the CIDR 10.0.0.0/24 into 8 CIDRs: /27 pools are smaller than the pool's /26 blocks",
      1,
    ],
    [
      'a child name already taken',
      ['2', '--name=default-ipv4-ippool'],
      [parent(), { ...parent(), metadata: { name: 'split-default-ipv4-ippool-1' }, spec: { cidr: '10.0.0.0/24' } }],
      'error splitting IP pool default-ipv4-ippool: an IP pool named split-default-ipv4-ippool-1 already exists',
      1,
    ],
  ])('refuses %s without changing anything', async (_title, args, seeded, message, code) => {
    const fake = new FakeAllocator().seed(...seeded);
    const run = await runCtl(['ipam', 'split', ...args], fake);
    expect(run).toMatchObject({ code, stdout: '', stderr: `atollctl: ${message}\n` });
    expect(fake.calls.filter((c) => !['resources.get', 'resources.list'].includes(c.method))).toEqual([]);
  });
});

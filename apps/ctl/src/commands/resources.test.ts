import { FakeAllocator, runCtl } from '../testing/fake-allocator';
import { IPPOOL_REFERENCE_SAMPLE, IPRESERVATION_REFERENCE_SAMPLE, NODE_REFERENCE_SAMPLE, OVERLAPPING_POOL, TOPOLOGY_RACK_POOLS } from '../testing/calico-docs';

const pool = (name: string, cidr: string) => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n`;

describe('apply and create', () => {
  it.each([
    ['the IPPool sample from Calico docs', ['apply'], IPPOOL_REFERENCE_SAMPLE, "Successfully applied 1 'IPPool' resource(s)\n"],
    ['two pools joined with ---', ['apply'], TOPOLOGY_RACK_POOLS, "Successfully applied 2 'IPPool' resource(s)\n"],
    ['resources of two kinds', ['apply'], `${IPRESERVATION_REFERENCE_SAMPLE}---\n${NODE_REFERENCE_SAMPLE}`, 'Successfully applied 2 resource(s)\n'],
    ['the IPPool sample, with create', ['create'], IPPOOL_REFERENCE_SAMPLE, "Successfully created 1 'IPPool' resource(s)\n"],
  ])('%s: prints calicoctl\'s success line', async (_title, verb, yaml, stdout) => {
    const fake = new FakeAllocator();
    const run = await runCtl([...verb, '-f', 'in.yaml'], fake, { files: { 'in.yaml': yaml } });
    expect(run).toMatchObject({ code: 0, stdout, stderr: '' });
  });

  it('sends each resource as written, leaving defaults to the allocator', async () => {
    const fake = new FakeAllocator();
    await runCtl(['apply', '-f', 'p.yaml'], fake, { files: { 'p.yaml': IPPOOL_REFERENCE_SAMPLE } });
    const [request] = fake.callsOf('resources.apply') as { resourceJson: string }[];
    expect(JSON.parse(request!.resourceJson)).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: 'my.ippool-1' },
      spec: { cidr: '10.1.0.0/16', ipipMode: 'CrossSubnet', natOutgoing: true, disabled: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic' },
    });
  });

  it('reads -f - from stdin', async () => {
    const run = await runCtl(['apply', '-f', '-'], new FakeAllocator(), { files: { '-': IPPOOL_REFERENCE_SAMPLE } });
    expect(run.stdout).toBe("Successfully applied 1 'IPPool' resource(s)\n");
  });

  it("refuses an overlapping pool with Calico's message on one line and exit code 1", async () => {
    const fake = new FakeAllocator();
    await runCtl(['apply', '-f', 'a.yaml'], fake, { files: { 'a.yaml': IPPOOL_REFERENCE_SAMPLE } });
    const run = await runCtl(['create', '-f', 'b.yaml'], fake, { files: { 'b.yaml': OVERLAPPING_POOL } });
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        `atollctl: Failed to create 'IPPool' resource: IPPool "default-ipv4-ippool": spec.cidr: ` +
        'IPPool(default-ipv4-ippool) CIDR overlaps with IPPool(my.ippool-1) CIDR 10.1.0.0/16\n',
    });
  });

  it('says which resource already exists on create', async () => {
    const fake = new FakeAllocator();
    const files = { 'a.yaml': IPPOOL_REFERENCE_SAMPLE };
    await runCtl(['create', '-f', 'a.yaml'], fake, { files });
    const run = await runCtl(['create', '-f', 'a.yaml'], fake, { files });
    expect(run.stderr).toBe("atollctl: Failed to create 'IPPool' resource: resource already exists: IPPool(my.ippool-1)\n");
  });

  it('stops at the first refused resource and says how many were applied', async () => {
    const fake = new FakeAllocator().seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'base' }, spec: { cidr: '10.1.0.0/16' } });
    const yaml = [pool('a', '10.2.0.0/16'), pool('b', '10.1.1.0/24'), pool('c', '10.3.0.0/16')].join('---\n');
    const run = await runCtl(['apply', '-f', 'p.yaml'], fake, { files: { 'p.yaml': yaml } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("Partial success: applied the first 1 out of 3 'IPPool' resources:\n");
    expect(run.stderr).toBe('atollctl: Hit error: IPPool "b": spec.cidr: IPPool(b) CIDR overlaps with IPPool(base) CIDR 10.1.0.0/16\n');
    expect(fake.callsOf('resources.apply')).toHaveLength(2);
  });

  it('says "any" when the first of several resources is refused', async () => {
    const fake = new FakeAllocator().seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'base' }, spec: { cidr: '10.1.0.0/16' } });
    const run = await runCtl(['apply', '-f', 'p.yaml'], fake, { files: { 'p.yaml': [pool('b', '10.1.1.0/24'), pool('c', '10.3.0.0/16')].join('---\n') } });
    expect(run.stderr).toMatch(/^atollctl: Failed to apply any 'IPPool' resources: IPPool "b": spec\.cidr: /);
  });

  it('sends nothing when any document of the file is invalid, and lists every problem on one line', async () => {
    const fake = new FakeAllocator();
    const yaml = `${pool('good', '10.2.0.0/16')}---\n${pool('bad', '10.3.0.0/16')}  blockSize: 40\n---\n${pool('Worse', '10.4.0.0/16')}`;
    const run = await runCtl(['apply', '-f', 'p.yaml'], fake, { files: { 'p.yaml': yaml } });
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(run.stderr).toContain('atollctl: Failed to execute command: p.yaml: document 2 (IPPool "bad"): spec.blockSize: IPv4 block size must be between 20 and 32, got 40; ');
    expect(run.stderr).toContain('p.yaml: document 3 (IPPool "Worse"): metadata.name:');
    expect(fake.calls).toEqual([]);
  });

  it.each([
    ['a missing file', { }, "atollctl: Failed to execute command: cannot read in.yaml: no such file or directory\n"],
    ['an empty file', { 'in.yaml': '---\n' }, 'atollctl: No resources specified in file in.yaml\n'],
  ])('fails on %s', async (_title, files, stderr) => {
    const run = await runCtl(['apply', '-f', 'in.yaml'], new FakeAllocator(), { files });
    expect(run).toMatchObject({ code: 1, stdout: '', stderr });
  });
});

describe('delete', () => {
  const seeded = () =>
    new FakeAllocator().seed(
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: '10.1.0.0/16' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p2' }, spec: { cidr: '10.2.0.0/16' } },
    );

  it.each([['ippool'], ['IPPool'], ['ippools'], ['pool']])('deletes by type %p and name', async (kind) => {
    const fake = seeded();
    const run = await runCtl(['delete', kind, 'p1'], fake);
    expect(run).toMatchObject({ code: 0, stdout: "Successfully deleted 1 'IPPool' resource(s)\n", stderr: '' });
    expect(fake.callsOf('resources.delete')).toEqual([{ kind: 'IPPool', name: 'p1' }]);
  });

  it('deletes what a file defines', async () => {
    const fake = seeded();
    const run = await runCtl(['delete', '-f', 'p.yaml'], fake, { files: { 'p.yaml': [pool('p1', '10.1.0.0/16'), pool('p2', '10.2.0.0/16')].join('---\n') } });
    expect(run.stdout).toBe("Successfully deleted 2 'IPPool' resource(s)\n");
    expect(fake.store.size).toBe(0);
  });

  it('goes on past a missing resource and reports it', async () => {
    const fake = seeded();
    const run = await runCtl(['delete', 'ippool', 'nope', 'p2'], fake);
    expect(run).toMatchObject({
      code: 1,
      stdout: "Successfully deleted 1 'IPPool' resource(s)\n",
      stderr: "atollctl: Failed to delete 'IPPool' resource: resource does not exist: IPPool(nope)\n",
    });
  });

  it('needs a name after the type', async () => {
    const run = await runCtl(['delete', 'ippool'], seeded());
    expect(run).toMatchObject({ code: 2, stderr: "atollctl: missing KIND and NAME (or -f FILE) for 'atollctl delete'; see 'atollctl delete --help'\n" });
  });

  it('refuses names together with -f', async () => {
    const run = await runCtl(['delete', '-f', 'p.yaml', 'ippool'], seeded(), { files: { 'p.yaml': pool('p1', '10.1.0.0/16') } });
    expect(run.code).toBe(2);
  });
});

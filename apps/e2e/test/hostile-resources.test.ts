import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { cleanupNetnsWithPrefix, DemoCluster } from '@atoll/test-tools';
import { caseTest, expand, loadCorpus, messagesOf } from './support/corpus';

// Hostile and broken resource YAML and command lines for atollctl, run as the real binary
// against the real allocator and etcd: each must fail with its exit code and a one-line
// message on stderr naming the problem, print nothing on stdout, and change nothing —
// no resource, no allocation, no IPAM setting.
const PREFIX = 'atoll-e2r-';

interface CtlInput {
  /** atollctl's arguments after --allocator (default: apply -f -). */
  readonly args?: readonly string[];
  readonly stdin: string;
}

const KINDS = ['IPPool', 'IPReservation', 'IPAMConfiguration', 'Node'];

describe('hostile resource YAML and command lines for atollctl', () => {
  let cluster: DemoCluster;
  let client: AllocatorClients;

  const datastoreState = async () => {
    const lists = await Promise.all(KINDS.map((kind) => client.resources.list({ kind }).then((r) => [...r.resourceJson].sort())));
    const [allocations, config] = await Promise.all([client.ipam.listAllocations({ node: '', handlePrefix: '' }), client.ipam.getIpamConfig({})]);
    return { resources: Object.fromEntries(KINDS.map((k, i) => [k, lists[i]!])) as Record<string, string[]>, allocations: allocations.allocations.map((a) => `${a.address} ${a.handleId}`).sort(), config };
  };

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1'] });
    client = connectAllocator(cluster.allocator.address);
    const doc = (kind: string, name: string, spec: string) => `apiVersion: projectcalico.org/v3\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
    const applied = await cluster.atollctl(['apply', '-f', '-'], [
      doc('IPPool', 'base-v4', '  cidr: 10.88.0.0/16\n'),
      doc('IPPool', 'base-v6', '  cidr: fd00:88::/64\n'),
      doc('IPReservation', 'base-reservation', '  reservedCIDRs: [10.88.0.0/24]\n'),
    ].join('---\n'));
    expect(applied).toMatchObject({ code: 0 });
    await cluster.kube.createPod({ metadata: { name: 'holder' }, spec: { nodeName: 'node-1' } });
    expect(await cluster.ipamOnly({ node: 'node-1', name: 'holder' })).toMatchObject({ code: 0 });
  }, 120_000);

  /** After a defect, deletes what the refused input created, so that it cannot spill into the next case. */
  const removeWhatWasAdded = async (before: Record<string, string[]>, after: Record<string, string[]>) => {
    for (const kind of KINDS) {
      const had = new Set((before[kind] ?? []).map((j) => (JSON.parse(j) as { metadata: { name: string } }).metadata.name));
      for (const j of after[kind] ?? []) {
        const name = (JSON.parse(j) as { metadata: { name: string } }).metadata.name;
        if (!had.has(name)) await client.resources.delete({ kind, name }).catch(() => undefined);
      }
    }
  };

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
    expect(await cleanupNetnsWithPrefix(PREFIX)).toEqual([]);
  });

  const corpus = loadCorpus<CtlInput>('resources-yaml.json');
  describe(corpus.description, () => {
    for (const c of corpus.cases) {
      caseTest(c)(`refuses ${c.name} with exit code ${c.expect.code}${c.knownBug ? ` (known bug: ${c.knownBug})` : ''}`, async () => {
        const input = expand(c.input, {}) as CtlInput;
        const before = await datastoreState();
        const out = await cluster.atollctl(input.args ?? ['apply', '-f', '-'], input.stdin);
        const after = await datastoreState();
        await removeWhatWasAdded(before.resources, after.resources);
        expect(out.code).toBe(c.expect.code);
        if (c.expect.code !== 2) expect(out.stdout).toBe('');
        expect(out.stderr.trim().split('\n').filter((l) => l.startsWith('atollctl:'))).toHaveLength(1);
        for (const part of messagesOf(c.expect)) expect(out.stderr).toContain(part);
        expect(after).toEqual(before);
      });
    }
  });
});

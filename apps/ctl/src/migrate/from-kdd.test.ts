import { parseJsonLossless, stringifyJsonLossless } from '@atoll/model';
import { calicoKddDataset } from '../../../../tools/k8s-api/calico-kdd-dataset';
import { consistencyProblems } from './consistency';
import { parseGoBool, recordsFromKdd, type KddSource } from './from-kdd';
import { CRD_PLURALS, type CrdPlural, type KubeObject } from './kdd-kinds';
import { affinityName, cidrToName, handleName } from './kdd-names';
import { kddObjectOf } from './to-kdd';
import { parseCidr } from '@atoll/ipmath';

// The KDD → etcd mapping and the checks that refuse a dataset, each problem naming the
// Calico object it is about.

function source(mutate?: (objects: Record<CrdPlural, KubeObject[]>) => void): KddSource {
  const data = calicoKddDataset({ nodes: 2, blocks: 4, allocations: 20 });
  const objects = Object.fromEntries(CRD_PLURALS.map((p) => [p, [] as KubeObject[]])) as Record<CrdPlural, KubeObject[]>;
  // Through JSON text and back, as read from an API server (bigints stay bigints).
  for (const o of data.objects) objects[o.plural as CrdPlural].push(parseJsonLossless(stringifyJsonLossless(o.body)) as unknown as KubeObject);
  mutate?.(objects);
  return { objects, nodes: data.nodes as unknown as KubeObject[] };
}

const problemsOf = (s: KddSource) => {
  const c = recordsFromKdd(s);
  return [...c.problems, ...consistencyProblems(c.records)];
};
const spec = (o: KubeObject) => o.spec as Record<string, unknown>;

describe('mapping Calico\'s Kubernetes datastore objects', () => {
  it('maps a consistent dataset with no problem, every object to one record', () => {
    const s = source();
    const c = recordsFromKdd(s);
    expect(c.problems).toEqual([]);
    expect(consistencyProblems(c.records)).toEqual([]);
    const crdCount = CRD_PLURALS.reduce((n, p) => n + s.objects[p].length, 0);
    expect(c.records).toHaveLength(crdCount + 2);
  });

  it('names Calico objects the way Calico does', () => {
    expect(cidrToName(parseCidr('10.0.0.0/26'))).toBe('10-0-0-0-26');
    expect(cidrToName(parseCidr('fd00::/122'))).toBe('fd00---122');
    expect(affinityName('node-1', parseCidr('10.0.0.64/26'))).toBe('node-1-10-0-0-64-26');
    const long = affinityName('n'.repeat(260), parseCidr('10.0.0.0/26'));
    expect(long.length).toBeLessThan(253);
    expect(long).toMatch(/^n+-10-0-0-0-26-[0-9a-f]{11}$/);
    expect(handleName('k8s-pod-network.ABC')).toBe('k8s-pod-network.abc');
  });

  it.each([
    ['1', true],
    ['true', true],
    ['T', true],
    ['false', false],
    ['0', false],
    ['', false],
    ['yes', undefined],
  ])('reads an affinity\'s string deleted %j as %j', (text, want) => {
    expect(parseGoBool(text)).toBe(want);
  });

  it('refuses an allocation with no handle, naming the block and address', () => {
    const problems = problemsOf(
      source((o) => {
        const attrs = spec(o.ipamblocks[0]!)['attributes'] as Record<string, unknown>[];
        delete attrs[0]!['handle_id'];
      }),
    );
    expect(problems).toContainEqual(expect.stringMatching(/^IPAMBlock 10-0-0-0-26: address 10\.0\.0\.0 has no handle$/));
  });

  it('refuses a handle count that disagrees with its blocks', () => {
    const problems = problemsOf(
      source((o) => {
        const h = o.ipamhandles.find((x) => (spec(x)['handleID'] as string).startsWith('k8s-pod-network.'))!;
        const block = spec(h)['block'] as Record<string, number>;
        block[Object.keys(block)[0]!] = 7;
      }),
    );
    expect(problems).toContainEqual(expect.stringMatching(/^IPAMHandle k8s-pod-network\.\S+: counts 7 address\(es\) of k8s-pod-network\.\S+ in block 10\.\d\.0\.\d+\/26, the block holds 1$/));
  });

  it('refuses an affinity to a block that does not exist', () => {
    const problems = problemsOf(
      source((o) => {
        o.blockaffinities.push({ metadata: { name: 'node-00-10-5-0-0-26' }, spec: { state: 'confirmed', node: 'node-00', type: 'host', cidr: '10.5.0.0/26', deleted: 'false' } });
      }),
    );
    expect(problems).toContain('BlockAffinity node-00-10-5-0-0-26: its block 10.5.0.0/26 does not exist');
  });

  it('refuses an object whose name is not the one Calico derives from its spec', () => {
    const problems = problemsOf(source((o) => void (o.ipamblocks[1]!.metadata.name = 'renamed')));
    expect(problems).toContain('IPAMBlock renamed: its name should be 10-0-0-64-26 for spec.cidr 10.0.0.64/26');
  });

  it('skips objects Calico marked deleted and counts them', () => {
    const c = recordsFromKdd(source((o) => void o.blockaffinities.push({ metadata: { name: 'x' }, spec: { state: 'confirmed', node: 'n', cidr: '10.9.0.0/26', deleted: 'true' } })));
    expect(c.skipped).toEqual(['BlockAffinity x (marked deleted)']);
    expect(c.problems).toEqual([]);
  });

  it('maps the fields that differ: affinity omitted ↔ null, affinityClaimTime ↔ affinity_claim_time, string deleted ↔ boolean', () => {
    const c = recordsFromKdd(source());
    const blocks = c.records.filter((r) => r.kind === 'IPAMBlock').map((r) => parseJsonLossless(r.value) as Record<string, unknown>);
    const unowned = blocks.find((b) => b['affinity'] === null)!;
    expect(unowned).toBeDefined();
    expect(Object.keys(unowned)).not.toContain('affinity_claim_time');
    const owned = blocks.find((b) => b['affinity'] !== null)!;
    expect(owned['affinity_claim_time']).toBe('2026-10-01T08:00:00Z');
    expect(typeof owned['sequenceNumber']).toBe('bigint');
    expect(Object.keys(owned)).not.toContain('strictAffinity');
    const affinity = c.records.find((r) => r.kind === 'BlockAffinity')!;
    expect(parseJsonLossless(affinity.value)).toEqual({ state: 'confirmed', deleted: false });

    // and back: each record gives the object it came from
    const s = source();
    for (const r of c.records) {
      const back = kddObjectOf(r);
      if (!back) continue;
      const original = s.objects[back.plural].find((o) => o.metadata.name === back.object.metadata.name)!;
      expect([back.plural, back.object.spec]).toEqual([back.plural, original.spec]);
    }
  });
});

import fc from 'fast-check';
import { stringify } from 'yaml';
import { dumpResource, loadResources, ResourceLoadError } from './index';

// Property-based fuzzing of the resource loader (what atollctl apply/create/delete -f
// read): for any text — random characters, YAML built from its own syntax, JSON and YAML
// of resource-shaped values with random bodies, deeply nested input — loadResources
// returns resources or throws ResourceLoadError, never anything else; and what it accepts
// it reads back equal from its own dump, in YAML and in JSON.

function loadOrError(text: string) {
  try {
    return loadResources(text, 'fuzz.yaml');
  } catch (err) {
    if (err instanceof ResourceLoadError) return err;
    throw err;
  }
}

const expectLoadError = (out: ReturnType<typeof loadOrError>) => {
  if (out instanceof ResourceLoadError) {
    expect(out.problems.length).toBeGreaterThan(0);
    for (const p of out.problems) expect(p.message.startsWith('fuzz.yaml')).toBe(true);
  }
};

const YAML_FRAGMENTS = [
  'apiVersion: projectcalico.org/v3', 'kind: IPPool', 'kind: IPReservation', 'kind: List', 'kind: IPPoolList', 'metadata:', 'name: p',
  'spec:', 'cidr: 10.0.0.0/16', 'cidr: fd00::/64', 'blockSize: 26', 'nodeSelector: all()', 'items:', 'reservedCIDRs:', '- ', '---', '...',
  '&a ', '*a', '<<: *a', '!!str ', '!!binary ', '!custom ', '? ', ': ', '{', '}', '[', ']', ',', '"', "'", '#', '|', '>', '%YAML 1.2',
  '\n', '\n  ', '\n    ', '\t', ' ', 'null', '~', 'true', 'yes', '0x1F', '1e3', '.inf', '2024-01-01', 'é', '\u{1F600}', '\r\n', '\ufeff',
];
const yamlishText = fc.array(fc.constantFrom(...YAML_FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join(''));

const KINDS = ['IPPool', 'IPReservation', 'IPAMConfiguration', 'Node', 'List', 'IPPoolList', 'Pod', ''];
const specValue = fc.oneof(
  fc.record(
    {
      cidr: fc.oneof(fc.constantFrom('10.0.0.0/16', '10.0.1.0/16', 'fd00::/64', '::ffff:10.0.0.0/112', '10.0.0.0/33', ''), fc.jsonValue({ maxDepth: 0 })),
      blockSize: fc.oneof(fc.integer({ min: -1, max: 130 }), fc.jsonValue({ maxDepth: 0 })),
      nodeSelector: fc.oneof(fc.constantFrom('all()', '!all()', "zone == 'a'", 'has(', ''), fc.string({ maxLength: 10 })),
      reservedCIDRs: fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 8 })), { maxLength: 3 }),
      allowedUses: fc.array(fc.constantFrom('Workload', 'Tunnel', 'LoadBalancer', 'Pods'), { maxLength: 3 }),
      disabled: fc.jsonValue({ maxDepth: 0 }),
      ipipMode: fc.constantFrom('Always', 'CrossSubnet', 'Never', 'always'),
      strictAffinity: fc.jsonValue({ maxDepth: 0 }),
      maxBlocksPerHost: fc.jsonValue({ maxDepth: 0 }),
      other: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const resourceShaped = fc.record(
  {
    apiVersion: fc.constantFrom('projectcalico.org/v3', 'v1', 'projectcalico.org/v1', ''),
    kind: fc.constantFrom(...KINDS),
    metadata: fc.oneof(
      fc.record({ name: fc.oneof(fc.constantFrom('p', 'default', 'node-1', 'P', 'a/b', ''), fc.string({ maxLength: 12 })), labels: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })) }, { requiredKeys: ['name'] }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    spec: specValue,
    items: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

// Mostly valid resources, with the label values and strings that YAML 1.1 readers take for
// something else (yes, on, 0x1F, 2024-01-01, null, ~), for the round trip.
const TRICKY = ['yes', 'no', 'on', 'off', 'y', 'N', 'true', 'False', 'null', 'NULL', '0x1F', '0o17', '017', '1e3', '2024-01-01', '12:30', '', 'plain'];
const labelKey = fc.oneof(fc.constantFrom('on', 'yes', 'zone', 'example.com/tier', 'k8s-app'), fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,10}[a-z0-9])?$/));
const labels = fc.dictionary(labelKey, fc.oneof(fc.constantFrom(...TRICKY), fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?$/)), { maxKeys: 4 });
const v4Cidr = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 8, max: 28 })).map(([n, len]) => {
  const net = len === 0 ? 0 : (n >>> (32 - len)) << (32 - len);
  const u = net >>> 0;
  return { cidr: `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}/${len}`, len };
});
const meta = fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), labels }, { requiredKeys: ['name'] });
const validish = fc.oneof(
  fc.record({
    apiVersion: fc.constant('projectcalico.org/v3'),
    kind: fc.constant('IPPool'),
    metadata: meta,
    spec: v4Cidr.chain(({ cidr, len }) =>
      fc.record(
        {
          cidr: fc.constant(cidr),
          blockSize: fc.integer({ min: Math.max(len, 20), max: 32 }),
          nodeSelector: fc.constantFrom('all()', '!all()', "zone == 'on'", 'has(yes)', "k in {'a', 'b'}"),
          disabled: fc.boolean(),
          natOutgoing: fc.boolean(),
          ipipMode: fc.constantFrom('Always', 'CrossSubnet', 'Never'),
          allowedUses: fc.constantFrom(['Workload'], ['Tunnel'], ['Workload', 'Tunnel'], ['LoadBalancer']),
        },
        { requiredKeys: ['cidr'] },
      ),
    ),
  }),
  fc.record({
    apiVersion: fc.constant('projectcalico.org/v3'),
    kind: fc.constant('IPReservation'),
    metadata: meta,
    spec: fc.record({ reservedCIDRs: fc.uniqueArray(fc.oneof(fc.ipV4(), v4Cidr.map((c) => c.cidr)), { maxLength: 4 }) }),
  }),
  fc.record({
    apiVersion: fc.constant('projectcalico.org/v3'),
    kind: fc.constant('IPAMConfiguration'),
    metadata: meta,
    spec: fc.record({ strictAffinity: fc.constant(true), maxBlocksPerHost: fc.integer({ min: 0, max: 100 }), autoAllocateBlocks: fc.boolean() }, { requiredKeys: [] }),
  }),
);

describe('loadResources under random input', () => {
  it('answers random text with resources or a ResourceLoadError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 })), (text) => {
        expectLoadError(loadOrError(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('answers text built from YAML syntax with resources or a ResourceLoadError', () => {
    fc.assert(
      fc.property(yamlishText, (text) => {
        expectLoadError(loadOrError(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers resource-shaped JSON and YAML with random bodies with resources or a ResourceLoadError', () => {
    fc.assert(
      fc.property(fc.array(resourceShaped, { minLength: 1, maxLength: 3 }), fc.boolean(), (docs, asJson) => {
        const text = asJson ? JSON.stringify(docs[0]) : docs.map((d) => stringify(d)).join('---\n');
        expectLoadError(loadOrError(text));
      }),
      { numRuns: 1500 },
    );
  });

  it('answers deeply nested input with a ResourceLoadError, not a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom(['[', ']'], ['{a: ', '}'], ['- ', ''], ['{"a":', '}']), (depth, [open, close]) => {
        const out = loadOrError(`${open.repeat(depth)}1${close.repeat(depth)}`);
        expect(out).toBeInstanceOf(ResourceLoadError);
      }),
      { numRuns: 20 },
    );
  });

  it('reads back equal every resource it accepts, from its own YAML and JSON dump', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(validish, { minLength: 1, maxLength: 3 }), (docs) => {
        const named = docs.map((d, i) => ({ ...d, metadata: { ...d.metadata, name: d.kind === 'IPAMConfiguration' ? 'default' : `${d.metadata.name}-${i}` } }));
        const first = loadOrError(named.map((d) => stringify(d)).join('---\n'));
        if (first instanceof ResourceLoadError) return;
        accepted += first.length;
        for (const resource of first) {
          expect(loadResources(dumpResource(resource, 'yaml'))).toEqual([resource]);
          expect(loadResources(dumpResource(resource, 'json'))).toEqual([resource]);
        }
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(600);
  });
});

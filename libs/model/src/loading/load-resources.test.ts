import { loadResources, ResourceLoadError } from './index';

function loadError(text: string, source?: string, options?: Parameters<typeof loadResources>[2]): ResourceLoadError {
  try {
    loadResources(text, source, options);
  } catch (err) {
    if (err instanceof ResourceLoadError) return err;
    throw err;
  }
  throw new Error('expected loadResources to fail');
}

const pool = (name: string, spec: string) =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n${spec
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}\n`;

describe('loadResources', () => {
  it('reads several documents separated by ---', () => {
    const text = `${pool('p1', 'cidr: 10.0.0.0/16')}---\n${pool('p2', 'cidr: 10.1.0.0/16')}`;
    expect(loadResources(text).map((r) => r.metadata.name)).toEqual(['p1', 'p2']);
  });

  it('reads JSON', () => {
    const json = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: 'fd00::/64' } });
    expect(loadResources(json, 'pool.json')[0]?.spec).toEqual({ cidr: 'fd00::/64' });
  });

  it('reads a kubectl-style List of mixed kinds', () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: p1}
  spec: {cidr: 10.0.0.0/16}
- apiVersion: projectcalico.org/v3
  kind: IPReservation
  metadata: {name: r1}
  spec: {reservedCIDRs: [10.0.0.1]}
`;
    expect(loadResources(text).map((r) => r.kind)).toEqual(['IPPool', 'IPReservation']);
  });

  it('reads an IPPoolList as calicoctl prints it, items taking kind and apiVersion from the list', () => {
    const text = `apiVersion: projectcalico.org/v3
kind: IPPoolList
metadata:
  resourceVersion: "1234"
items:
- metadata: {name: p1}
  spec: {cidr: 10.0.0.0/16}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: p2}
  spec: {cidr: 10.1.0.0/16}
`;
    expect(loadResources(text)).toEqual([
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: '10.0.0.0/16' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p2' }, spec: { cidr: '10.1.0.0/16' } },
    ]);
  });

  it.each([
    ['empty input', ''],
    ['only comments', '# nothing here\n'],
    ['only separators', '---\n---\n'],
  ])('returns nothing for %s', (_title, text) => {
    expect(loadResources(text)).toEqual([]);
  });

  it('skips empty documents between resources', () => {
    expect(loadResources(`---\n${pool('p1', 'cidr: 10.0.0.0/16')}---\n---\n`)).toHaveLength(1);
  });

  it('drops null fields, which mean unset', () => {
    const [resource] = loadResources(pool('p1', 'cidr: 10.0.0.0/16\nnodeSelector:\nblockSize: null'));
    expect(resource?.spec).toEqual({ cidr: '10.0.0.0/16' });
  });

  it('returns defaulted resources when asked', () => {
    const [resource] = loadResources(pool('p1', 'cidr: fd00:0::/64'), 'x', { applyDefaults: true });
    expect(resource?.spec).toMatchObject({ cidr: 'fd00::/64', blockSize: 122, nodeSelector: 'all()' });
  });

  it('names the source, the document, the resource and the field of a problem', () => {
    const text = `${pool('p1', 'cidr: 10.0.0.0/16')}---\n${pool('p2', 'cidr: 10.1.0.0/16\nblockSize: 40')}`;
    const error = loadError(text, 'pools.yaml');
    expect(error.message).toBe(
      'pools.yaml: document 2 (IPPool "p2"): spec.blockSize: IPv4 block size must be between 20 and 32, got 40',
    );
    expect(error).toMatchObject({ name: 'ResourceLoadError', source: 'pools.yaml', document: 2, field: 'spec.blockSize' });
    expect(error.problems[0]).toMatchObject({ kind: 'IPPool', resourceName: 'p2', document: 2 });
  });

  it('lists every problem in every document, one line each', () => {
    const text = `${pool('p1', 'cidr: 10.0.0.1/16')}---\n${pool('p2', 'cidr: 10.1.0.0/16\nipipMode: always\ncolour: blue')}`;
    expect(loadError(text, 'pools.yaml').message.split('\n')).toEqual([
      'pools.yaml: document 1 (IPPool "p1"): spec.cidr: IPPool CIDR is not strictly masked, got "10.0.0.1/16"',
      'pools.yaml: document 2 (IPPool "p2"): spec.colour: unknown field "colour"',
      'pools.yaml: document 2 (IPPool "p2"): spec.ipipMode: must be one of Never, Always, CrossSubnet, got "always"',
    ]);
  });

  it('names the item of a List', () => {
    const text = `apiVersion: projectcalico.org/v3
kind: IPPoolList
items:
- metadata: {name: p1}
  spec: {cidr: 10.0.0.0/16}
- metadata: {name: p2}
  spec: {cidr: 10.1.0.0/16, natOutgoing: "yes"}
`;
    expect(loadError(text, 'list.yaml').message).toBe(
      'list.yaml: document 1, item 2 (IPPool "p2"): spec.natOutgoing: must be true or false, got "yes"',
    );
  });

  it.each([
    ['an unknown kind', 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: x}\n', 'in.yaml: document 1 (BGPPeer "x"): kind: must be one of IPPool, IPReservation, IPAMConfiguration, Node, got "BGPPeer"'],
    ['a missing kind', 'apiVersion: projectcalico.org/v3\nmetadata: {name: x}\n', 'in.yaml: document 1 (resource "x"): kind: must be one of IPPool, IPReservation, IPAMConfiguration, Node, got null'],
    [
      "Calico's internal CRD apiVersion",
      'apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: p1}\nspec: {cidr: 10.0.0.0/16}\n',
      'in.yaml: document 1 (IPPool "p1"): apiVersion: must be "projectcalico.org/v3", got "crd.projectcalico.org/v1"',
    ],
    ['a document that is a list', '- a\n- b\n', 'in.yaml: document 1: must be a resource (a mapping with apiVersion, kind, metadata and spec), got a list'],
    ['a document that is a scalar', 'hello\n', 'in.yaml: document 1: must be a resource (a mapping with apiVersion, kind, metadata and spec), got "hello"'],
    ['a List item that is not a mapping', 'apiVersion: v1\nkind: List\nitems: [3]\n', 'in.yaml: document 1, item 1: must be a resource (a mapping with apiVersion, kind, metadata and spec), got 3'],
    [
      'an item of another kind in a typed list',
      'apiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n- kind: Node\n  metadata: {name: n1}\n',
      'in.yaml: document 1, item 1: kind: must be "IPPool", the kind of every item in IPPoolList, got "Node"',
    ],
    ['a list of an unknown kind', 'apiVersion: projectcalico.org/v3\nkind: BGPPeerList\nitems: []\n', 'in.yaml: document 1 (BGPPeerList): kind: must be List or one of IPPoolList, IPReservationList, IPAMConfigurationList, NodeList, got "BGPPeerList"'],
    ['a list whose items are not a list', 'apiVersion: v1\nkind: List\nitems: {a: 1}\n', 'in.yaml: document 1 (List): items: must be a list'],
    ['an unknown field on a list', 'apiVersion: v1\nkind: List\nitems: []\nextra: 1\n', 'in.yaml: document 1 (List): extra: unknown field "extra"'],
    [
      'the same resource twice',
      `${pool('p1', 'cidr: 10.0.0.0/16')}---\n${pool('p1', 'cidr: 10.1.0.0/16')}`,
      'in.yaml: document 2 (IPPool "p1"): metadata.name: the same IPPool is also defined in document 1',
    ],
  ])('refuses %s', (_title, text, message) => {
    expect(loadError(text, 'in.yaml').message).toBe(message);
  });

  it('reports a YAML syntax error with its document and line', () => {
    const text = `${pool('p1', 'cidr: 10.0.0.0/16')}---\napiVersion: projectcalico.org/v3\nkind: IPPool\nspec: {cidr: [10.0.0.0/16}\n`;
    const error = loadError(text, 'bad.yaml');
    expect(error.document).toBe(2);
    expect(error.problems[0]?.line).toBe(10);
    expect(error.message).toMatch(/^bad\.yaml: document 2, line 10: YAML syntax error at column \d+: /);
  });

  it('refuses duplicate keys, which YAML forbids', () => {
    expect(loadError(pool('p1', 'cidr: 10.0.0.0/16\ncidr: 10.1.0.0/16'), 'dup.yaml').message).toContain('Map keys must be unique');
  });

  it('refuses an alias that expands into a huge tree', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
    expect(loadError(lines.join('\n'), 'bomb.yaml').message).toMatch(/^bomb\.yaml: document 1: YAML error: .*alias/i);
  });

  it('refuses input larger than the size limit, saying what to do', () => {
    expect(loadError('a'.repeat(101), 'big.yaml', { maxBytes: 100 }).message).toBe(
      'big.yaml: input is 101 bytes, more than the limit of 100; split it into smaller files',
    );
  });

  it('counts the size in bytes, not characters', () => {
    expect(() => loadResources('#' + 'é'.repeat(50), 'x', { maxBytes: 100 })).toThrow('input is 101 bytes');
  });

  it('refuses more documents than the limit', () => {
    const text = Array.from({ length: 4 }, (_, i) => pool(`p${i}`, `cidr: 10.${i}.0.0/16`)).join('---\n');
    expect(loadError(text, 'many.yaml', { maxResources: 3 }).message).toBe('many.yaml: input has 4 documents, more than the limit of 3');
  });

  it('counts the items of Lists against the resource limit', () => {
    const items = Array.from({ length: 4 }, (_, i) => `- metadata: {name: p${i}}\n  spec: {cidr: 10.${i}.0.0/16}`).join('\n');
    const text = `apiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n${items}\n`;
    expect(loadError(text, 'list.yaml', { maxResources: 3 }).message).toBe('list.yaml: input has 4 resources, more than the limit of 3');
  });

  it('names the input <input> when no source is given', () => {
    expect(loadError('kind: Foo\n').message).toMatch(/^<input>: document 1/);
  });
});

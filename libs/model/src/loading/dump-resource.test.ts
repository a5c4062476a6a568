import fc from 'fast-check';
import { parse } from 'yaml';
import { applyDefaults, IPPool, Node, Resource } from '../resources';
import { dumpResource, loadResources } from './index';

const pool: IPPool = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name: 'p1', labels: { answer: 'yes', 'on': 'off' }, creationTimestamp: '2026-08-01T10:00:00Z' },
  spec: { cidr: '10.0.0.0/16', nodeSelector: '!all()', allowedUses: ['Workload'], natOutgoing: true },
};

describe('dumpResource', () => {
  it('writes YAML in the conventional field order', () => {
    const shuffled = { spec: pool.spec, metadata: { name: 'p1' }, kind: 'IPPool', apiVersion: 'projectcalico.org/v3' } as IPPool;
    expect(dumpResource(shuffled, 'yaml')).toBe(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: p1
spec:
  cidr: 10.0.0.0/16
  nodeSelector: "!all()"
  allowedUses:
    - Workload
  natOutgoing: true
`);
  });

  it('writes indented JSON ending in a newline', () => {
    const text = dumpResource(pool, 'json');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(pool);
    expect(Object.keys(JSON.parse(text))).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });

  it('quotes strings a YAML 1.1 reader (Go, calicoctl) would take for booleans or timestamps', () => {
    const text = dumpResource(pool, 'yaml');
    expect(text).toContain('answer: "yes"');
    expect(text).toContain('"on": "off"');
    expect(text).toContain('creationTimestamp: "2026-08-01T10:00:00Z"');
    expect(parse(text, { version: '1.1' })).toEqual(pool);
  });

  it.each<[string, Resource]>([
    ['a pool', pool],
    ['a defaulted IPv6 pool', applyDefaults({ ...pool, spec: { cidr: 'fd00::/64', namespaceSelector: 'team == "a"' } })],
    ['a reservation', { apiVersion: 'projectcalico.org/v3', kind: 'IPReservation', metadata: { name: 'r1' }, spec: { reservedCIDRs: ['10.0.0.1', 'cafe:f00d::/123'] } }],
    ['the IPAM configuration', { apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: { strictAffinity: true, maxBlocksPerHost: 4 } }],
    [
      'a node',
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'Node',
        metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
        spec: { bgp: { asNumber: '1.10', ipv4Address: '10.0.0.1/24' }, orchRefs: [{ nodeName: 'node-1', orchestrator: 'k8s' }] },
      } satisfies Node,
    ],
  ])('writes %s so that loadResources reads it back unchanged', (_title, resource) => {
    expect(loadResources(dumpResource(resource, 'yaml'))).toEqual([resource]);
    expect(loadResources(dumpResource(resource, 'json'))).toEqual([resource]);
  });

  it('round-trips any valid label values and annotation text through YAML', () => {
    const labelValue = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?)?$/);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'zone', 'y', 'n'), labelValue), fc.string(), (labels, note) => {
        const node: Node = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n1', labels, annotations: { note } }, spec: {} };
        expect(loadResources(dumpResource(node, 'yaml'))).toEqual([node]);
      }),
    );
  });
});

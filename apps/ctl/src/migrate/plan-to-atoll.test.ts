import { parseJsonLossless } from '@atoll/model';
import type { StoredMigrationRecord } from './atoll-records';
import { planToAtoll } from './plan-to-atoll';
import type { MigrationRecord } from './records';

// Source records against the Atoll datastore: what is written, what is left, what is refused.

const node = (name: string, spec: object, extra: object = {}) => JSON.stringify({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name, ...extra }, spec });
const nodeKey = (name: string) => `/calico/resources/v3/projectcalico.org/nodes/${name}`;
const pool = (name: string, cidr: string) => JSON.stringify({ kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name }, spec: { cidr } });
const poolKey = (name: string) => `/calico/resources/v3/projectcalico.org/ippools/${name}`;
const stored = (r: MigrationRecord, revision = '5'): [string, StoredMigrationRecord] => [r.key, { ...r, revision }];

describe('planning the writes into Atoll', () => {
  it('adds tunnel addresses to a node the agent registered, guarded by its revision, keeping its labels', () => {
    const want: MigrationRecord = { kind: 'Node', key: nodeKey('n1'), value: node('n1', { bgp: { ipv4IPIPTunnelAddr: '10.0.0.1' } }) };
    const have: MigrationRecord = { kind: 'Node', key: nodeKey('n1'), value: node('n1', { bgp: { ipv4Address: '192.0.2.1/24' } }, { labels: { zone: 'a' } }) };
    const plan = planToAtoll([want], new Map([stored(have, '42')]));
    expect(plan.conflicts).toEqual([]);
    expect(plan.writes).toHaveLength(1);
    expect(plan.writes[0]!.expectRevision).toBe('42');
    expect(parseJsonLossless(plan.writes[0]!.value)).toEqual({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: 'n1', labels: { zone: 'a' } }, spec: { bgp: { ipv4Address: '192.0.2.1/24', ipv4IPIPTunnelAddr: '10.0.0.1' } } });
  });

  it('leaves a node alone that already has the same tunnel address, and refuses another one', () => {
    const want: MigrationRecord = { kind: 'Node', key: nodeKey('n1'), value: node('n1', { ipv4VXLANTunnelAddr: '10.0.0.1' }) };
    const same = planToAtoll([want], new Map([stored({ ...want, value: node('n1', { ipv4VXLANTunnelAddr: '10.0.0.1', addresses: [] }) })]));
    expect(same.writes).toEqual([]);
    expect(same.alreadyPresent.Node).toBe(1);
    const other = planToAtoll([want], new Map([stored({ ...want, value: node('n1', { ipv4VXLANTunnelAddr: '10.0.0.9' }) })]));
    expect(other.conflicts).toEqual(['Node n1: tunnel addresses differ: vxlan: "10.0.0.1" here, "10.0.0.9" there']);
  });

  it('refuses a pool that overlaps one of another name in Atoll, and lists what exists only in Atoll', () => {
    const plan = planToAtoll([{ kind: 'IPPool', key: poolKey('calico'), value: pool('calico', '10.0.0.0/16') }], new Map([stored({ kind: 'IPPool', key: poolKey('atoll'), value: pool('atoll', '10.0.128.0/17') })]));
    expect(plan.conflicts).toEqual(['IPPool calico (10.0.0.0/16) overlaps IPPool atoll (10.0.128.0/17) in Atoll']);
    expect(plan.onlyInAtoll).toEqual(['IPPool atoll exists only in Atoll']);
  });
});

import { parseCidr } from '@atoll/ipmath';
import { blockRoutesOf, routeNodeOf, routePoolOf } from './route-records';

const block = (value: Record<string, unknown>) => JSON.stringify({ cidr: '10.0.0.0/30', sequenceNumber: 1, ...value });
const CIDR = parseCidr('10.0.0.0/30');

describe('a block read for routes', () => {
  it.each<[string, Record<string, unknown>, ReturnType<typeof blockRoutesOf>]>([
    ['names the node of a host affinity', { affinity: 'host:node-a', allocations: [null, null, null, null] }, { block: { cidr: '10.0.0.0/30', node: 'node-a' }, borrowed: [] }],
    ['has no node without an affinity', { affinity: null, allocations: [] }, { block: { cidr: '10.0.0.0/30', node: '' }, borrowed: [] }],
    ['has no node for a virtual affinity', { affinity: 'virtual:vm-1' }, { block: { cidr: '10.0.0.0/30', node: '' }, borrowed: [] }],
    [
      'lists addresses whose node attribute is another node as borrowed',
      { affinity: 'host:node-a', allocations: [0, 1, null, 1], attributes: [{ handle_id: 'h1', secondary: { node: 'node-a' } }, { handle_id: 'h2', secondary: { node: 'node-b' } }] },
      {
        block: { cidr: '10.0.0.0/30', node: 'node-a' },
        borrowed: [
          { ip: '10.0.0.1', node: 'node-b', block: '10.0.0.0/30' },
          { ip: '10.0.0.3', node: 'node-b', block: '10.0.0.0/30' },
        ],
      },
    ],
    [
      'counts every address with a node as borrowed from a block without affinity',
      { affinity: null, allocations: [0, null, null, null], attributes: [{ secondary: { node: 'node-c' } }] },
      { block: { cidr: '10.0.0.0/30', node: '' }, borrowed: [{ ip: '10.0.0.0', node: 'node-c', block: '10.0.0.0/30' }] },
    ],
    [
      'leaves out addresses cooling down and addresses without a node',
      { affinity: 'host:node-a', allocations: [0, 1, null, null], attributes: [{ releasedAt: '2024-01-01T00:00:00Z' }, { handle_id: 'manual' }] },
      { block: { cidr: '10.0.0.0/30', node: 'node-a' }, borrowed: [] },
    ],
    ['has no routes when marked deleted', { affinity: 'host:node-a', deleted: true }, undefined],
  ])('%s', (_sentence, value, expected) => {
    expect(blockRoutesOf(CIDR, block(value))).toEqual(expected);
  });

  it('has no routes when its value is not JSON', () => {
    expect(blockRoutesOf(CIDR, '{')).toBeUndefined();
  });

  it('names IPv6 addresses canonically', () => {
    const v6 = JSON.stringify({ cidr: 'fd00::/126', affinity: 'host:a', allocations: [null, null, 0], attributes: [{ secondary: { node: 'b' } }] });
    expect(blockRoutesOf(parseCidr('fd00::/126'), v6)?.borrowed).toEqual([{ ip: 'fd00::2', node: 'b', block: 'fd00::/126' }]);
  });
});

describe('a node read for routes', () => {
  const node = (bgp: unknown) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n' }, spec: { bgp } });
  it.each<[string, unknown, { ipv4Address: string; ipv6Address: string }]>([
    ['keeps addresses as Calico wrote them, prefix length included', { ipv4Address: '172.30.0.11/24', ipv6Address: 'fd30::11/64' }, { ipv4Address: '172.30.0.11/24', ipv6Address: 'fd30::11/64' }],
    ['accepts bare addresses', { ipv4Address: '172.30.0.11' }, { ipv4Address: '172.30.0.11', ipv6Address: '' }],
    ['drops an address of the wrong family', { ipv4Address: 'fd30::11', ipv6Address: '10.0.0.1' }, { ipv4Address: '', ipv6Address: '' }],
    ['drops an address that does not parse', { ipv4Address: '172.30.0.300/24', ipv6Address: 'fd30::1/129' }, { ipv4Address: '', ipv6Address: '' }],
    ['has none without spec.bgp', undefined, { ipv4Address: '', ipv6Address: '' }],
  ])('%s', (_sentence, bgp, expected) => {
    expect(routeNodeOf('n', node(bgp))).toEqual({ name: 'n', ...expected });
  });

  it('has no addresses when its value is not JSON', () => {
    expect(routeNodeOf('n', 'not json')).toEqual({ name: 'n', ipv4Address: '', ipv6Address: '' });
  });
});

describe('a pool read for routes', () => {
  const pool = (spec: unknown) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec });
  it('applies Calico\'s defaults', () => {
    expect(routePoolOf('p', pool({ cidr: '10.0.0.0/16' }))).toEqual({ name: 'p', cidr: '10.0.0.0/16', natOutgoing: false, ipipMode: 'Never', vxlanMode: 'Never', disabled: false });
  });
  it('carries NAT, encapsulation and disabled', () => {
    expect(routePoolOf('p', pool({ cidr: '10.0.0.0/16', natOutgoing: true, ipipMode: 'CrossSubnet', vxlanMode: 'Never', disabled: true }))).toEqual({
      name: 'p',
      cidr: '10.0.0.0/16',
      natOutgoing: true,
      ipipMode: 'CrossSubnet',
      vxlanMode: 'Never',
      disabled: true,
    });
  });
  it('is left out when its CIDR does not parse', () => {
    expect(routePoolOf('p', pool({ cidr: 'ten' }))).toBeUndefined();
  });
});

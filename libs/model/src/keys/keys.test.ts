import { parseCidr } from '@atoll/ipmath';
import {
  affinityKey,
  affinityPrefix,
  blockKey,
  blockPrefix,
  handleKey,
  ipamConfigKey,
  parseAffinityKey,
  parseBlockKey,
  parseHandleKey,
  parseResourceKey,
  resourceKey,
} from './index';

describe('etcd key codec', () => {
  it.each([
    ['10.0.0.0/26', '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26'],
    ['fd80:24e2:f998:72d6::/122', '/calico/ipam/v2/assignment/ipv6/block/fd80:24e2:f998:72d6::-122'],
  ])('writes the block key of %s as Calico does', (cidr, key) => {
    expect(blockKey(parseCidr(cidr))).toBe(key);
    expect(parseBlockKey(key)).toEqual(parseCidr(cidr));
  });

  it.each([
    ['host', 'node-1', '10.0.0.0/26', '/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.0-26'],
    ['virtual', 'load-balancer', 'fd00::/122', '/calico/ipam/v2/virtual/load-balancer/ipv6/block/fd00::-122'],
  ] as const)('writes a %s affinity key for %s and %s', (type, host, cidr, key) => {
    expect(affinityKey({ type, host, cidr: parseCidr(cidr) })).toBe(key);
    expect(parseAffinityKey(key)).toEqual({ type, host, cidr: parseCidr(cidr) });
  });

  it('reads a legacy "@" affinity key as a host affinity', () => {
    expect(parseAffinityKey('/calico/ipam/v2/@/n1/ipv4/block/10.0.0.0-26')?.type).toBe('host');
  });

  it.each([
    ['/calico/ipam/v2/assignment/ipv4/block/10.0.0.1-26'],
    ['/calico/ipam/v2/assignment/ipv6/block/10.0.0.0-26'],
    ['/calico/ipam/v2/assignment/ipv4/block/garbage'],
    ['/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26/extra'],
    ['/calico/ipam/v2/assignment/ipv6/block/FD00::-122'],
  ])('does not take %s for a block key', (key) => {
    expect(parseBlockKey(key)).toBeUndefined();
  });

  it('builds prefixes that contain exactly the matching keys', () => {
    const k4 = blockKey(parseCidr('10.0.0.0/26'));
    const k6 = blockKey(parseCidr('fd00::/122'));
    expect(k4.startsWith(blockPrefix(4))).toBe(true);
    expect(k6.startsWith(blockPrefix(4))).toBe(false);
    expect(k6.startsWith(blockPrefix())).toBe(true);
    const aff = affinityKey({ type: 'host', host: 'node-1', cidr: parseCidr('10.0.0.0/26') });
    expect(aff.startsWith(affinityPrefix('host', 'node-1', 4))).toBe(true);
    expect(aff.startsWith(affinityPrefix('host', 'node-10'))).toBe(false);
    expect(aff.startsWith(affinityPrefix('host'))).toBe(true);
  });

  it('round-trips handle ids, including ones with dots and slashes', () => {
    for (const id of ['k8s-pod-network.abc123', 'ipip-tunnel-addr-node-1', 'odd/id']) {
      expect(parseHandleKey(handleKey(id))).toBe(id);
    }
    expect(() => handleKey('')).toThrow('handle id cannot be empty');
  });

  it('names resources and the IPAM config singleton', () => {
    expect(resourceKey('ippools', 'default-ipv4-ippool')).toBe('/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool');
    expect(parseResourceKey('/calico/resources/v3/projectcalico.org/nodes/n1')).toEqual({ plural: 'nodes', name: 'n1' });
    expect(ipamConfigKey()).toBe('/calico/ipam/v2/config');
    expect(() => resourceKey('nodes', 'a/b')).toThrow('contains "/"');
    expect(() => affinityKey({ type: 'host', host: '', cidr: parseCidr('10.0.0.0/26') })).toThrow('empty');
  });
});

import { applyNodeDefaults, isMacAddress, Node, validateNode } from './index';

function node(spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'node-1' }): Node {
  return { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata, spec } as unknown as Node;
}

function problems(value: unknown): Array<[string, string]> {
  return validateNode(value).map((p) => [p.field, p.reason]);
}

describe('validateNode', () => {
  it.each([
    ['a node with only a name', {}],
    ['the BGP addresses Calico writes', { bgp: { ipv4Address: '10.244.0.1/24', ipv6Address: '2001:db8::1/120', ipv4IPIPTunnelAddr: '192.168.0.1' } }],
    ['a bare BGP address', { bgp: { ipv4Address: '10.244.0.1' } }],
    ['an AS number', { bgp: { asNumber: 64512, ipv4Address: '10.0.0.1/24' } }],
    ['an AS number in dotted notation', { bgp: { asNumber: '1.10' } }],
    ['VXLAN tunnel addresses and MACs', { ipv4VXLANTunnelAddr: '10.0.0.1', ipv6VXLANTunnelAddr: 'fd00::1', vxlanTunnelMACAddr: '66:d4:1d:8b:ee:10', vxlanTunnelMACAddrV6: '66-D4-1D-8B-EE-11' }],
    ['orchestrator references', { orchRefs: [{ nodeName: 'k8s-node-1', orchestrator: 'k8s' }] }],
    ['node addresses', { addresses: [{ address: '10.0.0.5', type: 'InternalIP' }, { address: '10.0.0.0/24', type: 'CalicoNodeIP' }, { address: 'fd00::5' }] }],
    ['WireGuard interface addresses', { wireguard: { interfaceIPv4Address: '10.0.0.9', interfaceIPv6Address: 'fd00::9' } }],
    ['interfaces', { interfaces: [{ name: 'eth0', addresses: ['10.0.0.5'] }] }],
  ])('accepts %s', (_title, spec) => {
    expect(problems(node(spec))).toEqual([]);
  });

  it('accepts the labels that pools select on', () => {
    const labels = { 'kubernetes.io/hostname': 'node-1', 'topology.kubernetes.io/zone': 'zone-a', rack: '' };
    expect(problems(node({}, { name: 'node-1', labels }))).toEqual([]);
  });

  it('accepts a status written by Calico', () => {
    expect(problems({ ...node({}), status: { podCIDRs: ['10.0.0.0/24'] } })).toEqual([]);
  });

  it.each([
    ['a name that is not a DNS-1123 subdomain', { name: 'Node_1' }, 'metadata.name', expect.stringContaining('lower case alphanumeric')],
    ['a missing name', {}, 'metadata.name', 'name is required'],
    ['a label key with two slashes', { name: 'n', labels: { 'a/b/c': 'x' } }, 'metadata.labels["a/b/c"]', expect.stringContaining('invalid label key')],
    ['a label value with a space', { name: 'n', labels: { zone: 'zone a' } }, 'metadata.labels["zone"]', expect.stringContaining('invalid label value')],
    ['a label value longer than 63 characters', { name: 'n', labels: { zone: 'z'.repeat(64) } }, 'metadata.labels["zone"]', 'invalid label value: must be no more than 63 characters'],
    ['an annotation key with a space', { name: 'n', annotations: { 'my note': 'x' } }, 'metadata.annotations["my note"]', expect.stringContaining('invalid annotation key')],
    ['annotations above 256 KiB in total', { name: 'n', annotations: { a: 'x'.repeat(256 * 1024) } }, 'metadata.annotations', 'total size of annotations is too large by 1 bytes'],
  ])('refuses %s', (_title, metadata, field, reason) => {
    expect(problems(node({}, metadata))).toContainEqual([field, reason]);
  });

  it.each([
    ['an empty bgp section', { bgp: {} }, 'spec.bgp', 'should not be empty; omit spec.bgp when BGP is not used'],
    ['an IPv6 address as the BGP IPv4 address', { bgp: { ipv4Address: 'fd00::1/64' } }, 'spec.bgp.ipv4Address', 'must be an IPv4 address, optionally with a subnet (e.g. 10.0.0.1/24)'],
    ['an IPv4 address as the BGP IPv6 address', { bgp: { ipv6Address: '10.0.0.1' } }, 'spec.bgp.ipv6Address', 'must be an IPv6 address, optionally with a subnet (e.g. fd00::1/64)'],
    ['a subnet as the IPIP tunnel address', { bgp: { ipv4IPIPTunnelAddr: '10.0.0.1/32' } }, 'spec.bgp.ipv4IPIPTunnelAddr', 'must be an IPv4 address'],
    ['a route reflector cluster ID that is not an IPv4 address', { bgp: { routeReflectorClusterID: 'rr1' } }, 'spec.bgp.routeReflectorClusterID', 'must be an IPv4 address'],
    ['an AS number above 32 bits', { bgp: { asNumber: 4294967296 } }, 'spec.bgp.asNumber', expect.stringContaining('must be an AS number')],
    ['a dotted AS number with a half above 16 bits', { bgp: { asNumber: '1.65536' } }, 'spec.bgp.asNumber', expect.stringContaining('must be an AS number')],
    ['an IPv6 VXLAN address in the IPv4 field', { ipv4VXLANTunnelAddr: 'fd00::1' }, 'spec.ipv4VXLANTunnelAddr', 'must be an IPv4 address'],
    ['an IPv4 VXLAN address in the IPv6 field', { ipv6VXLANTunnelAddr: '10.0.0.1' }, 'spec.ipv6VXLANTunnelAddr', 'must be an IPv6 address'],
    ['a MAC address with five octets', { vxlanTunnelMACAddr: '66:d4:1d:8b:ee' }, 'spec.vxlanTunnelMACAddr', 'must be a MAC address'],
    ['an orchestrator reference without orchestrator', { orchRefs: [{ nodeName: 'n' }] }, 'spec.orchRefs[0].orchestrator', 'is required'],
    ['an unknown orchestrator reference field', { orchRefs: [{ orchestrator: 'k8s', name: 'n' }] }, 'spec.orchRefs[0].name', 'unknown field "name"'],
    ['a node address with host bits and a prefix', { addresses: [{ address: '10.0.0.5/24' }] }, 'spec.addresses[0].address', 'must be an IP address or a strictly masked CIDR'],
    ['a node address without an address', { addresses: [{ type: 'InternalIP' }] }, 'spec.addresses[0].address', 'is required'],
    ['an unknown node address type', { addresses: [{ address: '10.0.0.5', type: 'Internal' }] }, 'spec.addresses[0].type', 'must be one of CalicoNodeIP, InternalIP, ExternalIP'],
    ['addresses that are not a list', { addresses: '10.0.0.5' }, 'spec.addresses', 'must be a list'],
    ['a WireGuard address with a subnet', { wireguard: { interfaceIPv4Address: '10.0.0.9/32' } }, 'spec.wireguard.interfaceIPv4Address', 'must be an IPv4 address'],
    ['an interface name with upper case', { interfaces: [{ name: 'Eth0' }] }, 'spec.interfaces[0].name', expect.stringContaining('lower case alphanumeric')],
    ['an unknown spec field', { podCIDR: '10.0.0.0/24' }, 'spec.podCIDR', 'unknown field "podCIDR"'],
  ])('refuses %s', (_title, spec, field, reason) => {
    expect(problems(node(spec))).toContainEqual([field, reason]);
  });
});

describe('isMacAddress', () => {
  it.each([
    ['00:00:5e:00:53:01', true],
    ['00-00-5E-00-53-01', true],
    ['0000.5e00.5301', true],
    ['02:00:5e:10:00:00:00:01', true],
    ['00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01', true],
    ['00:00:5e:00:53', false],
    ['00:00:5e-00:53:01', false],
    ['00:00:5e:00:53:0g', false],
    ['', false],
  ])('says %j is %s, as Go net.ParseMAC does', (text, expected) => {
    expect(isMacAddress(text)).toBe(expected);
  });
});

describe('applyNodeDefaults', () => {
  it('returns an equal copy, never the input itself', () => {
    const input = Object.freeze(node({ bgp: { ipv4Address: '10.0.0.1/24' } }, { name: 'n', labels: { a: 'b' } }));
    const output = applyNodeDefaults(input);
    expect(output).toEqual(input);
    expect(output).not.toBe(input);
    expect(output.metadata.labels).not.toBe(input.metadata.labels);
  });
});

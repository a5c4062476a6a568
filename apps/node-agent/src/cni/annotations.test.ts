import { parseCniArgs } from './cni-args';
import { Annotations, resolveAddressRequest } from './annotations';
import { CniFailure } from './errors';
import { parseNetConf } from './netconf';

const conf = (ipam: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', ipam: { type: 'atoll-ipam', ...ipam }, ...extra }));
const noArgs = parseCniArgs('K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p');

const resolve = (pod: Record<string, string>, ns: Record<string, string> = {}, netconf = conf(), args = noArgs) =>
  resolveAddressRequest({ netconf, args, podAnnotations: pod, namespaceAnnotations: ns });

describe('address requests from annotations', () => {
  it('uses the CNI configuration when nothing is annotated: IPv4 only by default', () => {
    expect(resolve({})).toEqual({ kind: 'auto', assignIpv4: true, assignIpv6: false, ipv4Pools: [], ipv6Pools: [] });
  });

  it.each([
    [{ assign_ipv4: 'false', assign_ipv6: 'true' }, false, true],
    [{ assign_ipv6: 'true' }, true, true],
    [{ assign_ipv4: 'yes' }, true, false],
    [{ assign_ipv6: 'TRUE' }, true, false],
  ])('reads Calico\'s string flags %o as IPv4 %s, IPv6 %s', (ipam, v4, v6) => {
    expect(resolve({}, {}, conf(ipam))).toMatchObject({ assignIpv4: v4, assignIpv6: v6 });
  });

  it('lets the pod override the namespace, which overrides the CNI configuration', () => {
    const netconf = conf({ ipv4_pools: ['from-config'] });
    expect(resolve({}, { [Annotations.ipv4Pools]: '["from-namespace"]' }, netconf)).toMatchObject({ ipv4Pools: ['from-namespace'] });
    expect(resolve({ [Annotations.ipv4Pools]: '["from-pod"]' }, { [Annotations.ipv4Pools]: '["from-namespace"]' }, netconf)).toMatchObject({ ipv4Pools: ['from-pod'] });
    expect(resolve({ [Annotations.ipFamilies]: '["IPv6"]' }, { [Annotations.ipFamilies]: '["IPv4","IPv6"]' })).toMatchObject({ assignIpv4: false, assignIpv6: true });
  });

  it.each([
    ['["192.168.0.1"]', ['192.168.0.1']],
    ['["192.168.0.1", "fd00::1"]', ['192.168.0.1', 'fd00::1']],
    [' [ "10.0.0.7" ] ', ['10.0.0.7']],
    ['["FD00:0:0::5"]', ['fd00::5']],
  ])('takes the specific addresses %s from ipAddrs', (value, ips) => {
    expect(resolve({ [Annotations.ipAddrs]: value, [Annotations.ipv4Pools]: '["ignored"]' })).toEqual({ kind: 'static', ips });
  });

  it.each([
    ['[', 'failed to parse IPs [ for annotation "cni.projectcalico.org/ipAddrs": failed to parse \'[\' as JSON'],
    ['"10.0.0.1"', 'must be a JSON list of IP addresses'],
    ['[]', 'annotation "cni.projectcalico.org/ipAddrs" specified but empty'],
    ['["10.0.0.1","10.0.0.2"]', 'cannot have more than one IPv4 address for "cni.projectcalico.org/ipAddrs" annotation'],
    ['["fd00::1","fd00::2"]', 'cannot have more than one IPv6 address for "cni.projectcalico.org/ipAddrs" annotation'],
    ['["10.0.0.256"]', 'invalid IP format: 10.0.0.256'],
    ['["010.0.0.1"]', 'invalid IP format: 010.0.0.1'],
    ['["fe80::1%eth0"]', 'invalid IP format: fe80::1%eth0'],
    ['["::ffff:10.0.0.1"]', 'invalid IP format: ::ffff:10.0.0.1'],
    ['["10.0.0.1/32"]', 'invalid IP format: 10.0.0.1/32'],
    ['[1]', 'must be a JSON list of IP addresses'],
    [JSON.stringify(Array.from({ length: 5000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`)), 'larger than'],
  ])('refuses ipAddrs %s with Calico\'s error', (value, message) => {
    expect(() => resolve({ [Annotations.ipAddrs]: value })).toThrow(CniFailure);
    expect(() => resolve({ [Annotations.ipAddrs]: value })).toThrow(message);
  });

  it('refuses ipAddrs together with ipAddrsNoIpam, and ipAddrsNoIpam unless enabled', () => {
    expect(() => resolve({ [Annotations.ipAddrs]: '["10.0.0.1"]', [Annotations.ipAddrsNoIpam]: '["10.0.0.1"]' })).toThrow(
      "can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time",
    );
    expect(() => resolve({ [Annotations.ipAddrsNoIpam]: '["10.0.0.1"]' })).toThrow('requested feature is not enabled: ip_addrs_no_ipam');
    const enabled = conf({ feature_control: { ip_addrs_no_ipam: true } });
    expect(resolve({ [Annotations.ipAddrsNoIpam]: '["10.0.0.1"]' }, {}, enabled)).toEqual({ kind: 'no-ipam', ips: ['10.0.0.1'] });
  });

  it.each([
    ['["IPv5"]'],
    ['[]'],
    ['"IPv4"'],
    ['not json'],
  ])('refuses ipFamilies %s', (value) => {
    expect(() => resolve({ [Annotations.ipFamilies]: value })).toThrow(CniFailure);
  });

  it('takes IP= from CNI_ARGS when there is no annotation', () => {
    expect(resolve({}, {}, conf(), parseCniArgs('IP=192.168.123.123'))).toEqual({ kind: 'static', ips: ['192.168.123.123'] });
  });
});

describe('CNI_ARGS', () => {
  it.each([
    ['K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=abc', { podNamespace: 'ns', podName: 'p', ips: [] }],
    ['IgnoreUnknown=1;FOO=bar;IP=10.0.0.1,fd00::1', { ips: ['10.0.0.1', 'fd00::1'] }],
    ['', { ips: [] }],
  ])('parses %j', (text, expected) => {
    expect(parseCniArgs(text)).toMatchObject(expected);
  });

  it.each([['FOO=bar'], ['noequals'], ['=x']])('refuses %j', (text) => {
    expect(() => parseCniArgs(text)).toThrow(CniFailure);
  });
});

describe('network configuration', () => {
  it.each([
    ['{', 6, 'failed to decode network configuration'],
    ['[]', 6, 'not a JSON object'],
    ['{"cniVersion":"0.2.0","name":"n","ipam":{}}', 1, 'incompatible CNI versions'],
    ['{"cniVersion":"1.0.0","ipam":{}}', 7, 'missing network name'],
    ['{"cniVersion":"1.0.0","name":"n"}', 7, 'missing ipam section'],
    ['{"cniVersion":"1.0.0","name":"n","ipam":{"ipv4_pools":"x"}}', 7, 'ipam.ipv4_pools must be a list'],
    ['{"cniVersion":"1.0.0","name":"n","ipam":{"assign_ipv4":false}}', 7, 'ipam.assign_ipv4 must be the string'],
  ])('refuses %s with code %d', (text, code, message) => {
    try {
      parseNetConf(text);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(CniFailure);
      expect((err as CniFailure).code).toBe(code);
      expect((err as CniFailure).message).toContain(message);
    }
  });
});

import { PoolRequestError, poolSettingsOfIpamConfig, resolvePoolRequest } from './pool-request';

const DEFAULTS = poolSettingsOfIpamConfig({});

describe('the pools a pod asks for', () => {
  it("takes Calico's defaults from an empty ipam section: IPv4 only, any pool", () => {
    expect(DEFAULTS).toEqual({ assignIpv4: true, assignIpv6: false, ipv4Pools: [], ipv6Pools: [] });
    expect(poolSettingsOfIpamConfig({ assign_ipv6: 'true', assign_ipv4: 'false', ipv4_pools: ['a'] })).toEqual({ assignIpv4: false, assignIpv6: true, ipv4Pools: ['a'], ipv6Pools: [] });
  });

  it('lets the namespace override the configuration and the pod override the namespace, and says what it applied', () => {
    const r = resolvePoolRequest(
      { ...DEFAULTS, ipv4Pools: ['conf'] },
      { 'cni.projectcalico.org/ipv4pools': '["ns"]', 'cni.projectcalico.org/ipFamilies': '["IPv4","IPv6"]' },
      { 'cni.projectcalico.org/ipv4pools': '["pod"]' },
    );
    expect(r.settings).toEqual({ assignIpv4: true, assignIpv6: true, ipv4Pools: ['pod'], ipv6Pools: [] });
    expect(r.applied.map((a) => `${a.source} ${a.annotation}`)).toEqual([
      'namespace cni.projectcalico.org/ipv4pools',
      'namespace cni.projectcalico.org/ipFamilies',
      'pod cni.projectcalico.org/ipv4pools',
    ]);
  });

  it.each([
    [{ 'cni.projectcalico.org/ipv4pools': 'nope' }, 'failed to parse annotation "cni.projectcalico.org/ipv4pools" as JSON'],
    [{ 'cni.projectcalico.org/ipv4pools': '[1]' }, 'annotation "cni.projectcalico.org/ipv4pools" must be a JSON list of strings, got [1]'],
    [{ 'cni.projectcalico.org/ipFamilies': '["IPv5"]' }, 'error parsing ipFamilies: ["IPv5"]'],
  ])('refuses the pod annotation %j', (annotations, message) => {
    expect(() => resolvePoolRequest(DEFAULTS, {}, annotations)).toThrow(PoolRequestError);
    expect(() => resolvePoolRequest(DEFAULTS, {}, annotations)).toThrow(message);
  });

  it('refuses a configuration value that is not a Calico flag string', () => {
    expect(() => poolSettingsOfIpamConfig({ assign_ipv4: true })).toThrow('ipam.assign_ipv4 must be the string "true" or "false", got true');
  });
});

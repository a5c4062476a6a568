import { parseRoutingFlags, ROUTING_FLAGS, type RoutingFlag } from './routing-config';

const parse = (values: Partial<Record<RoutingFlag, string>>) =>
  parseRoutingFlags((f) => values[f] ?? ROUTING_FLAGS[f].default, (m) => new Error(m));

describe('the routing flags', () => {
  it('route nothing by default', () => {
    expect(parse({})).toEqual({ routing: { mode: 'none', protocol: 197, resyncMs: 30_000 } });
  });

  it('read host-gw, the protocol, the resync period and the node addresses', () => {
    expect(parse({ routing: 'host-gw', 'route-protocol': '80', 'route-resync-seconds': '5', 'node-ip': ' 172.30.0.11/24 , FD30:0::11 ' })).toEqual({
      routing: { mode: 'host-gw', protocol: 80, resyncMs: 5000 },
      nodeIp: { ipv4: '172.30.0.11/24', ipv6: 'fd30::11' },
    });
  });

  it.each<[Partial<Record<RoutingFlag, string>>, string]>([
    [{ routing: 'bgp' }, '--routing: expected host-gw or none, got "bgp"'],
    [{ 'route-protocol': '4' }, '--route-protocol: expected a number from 5 to 255'],
    [{ 'route-protocol': '256' }, '--route-protocol: expected a number from 5 to 255'],
    [{ 'route-resync-seconds': '0' }, '--route-resync-seconds: expected a whole number from 1 to 86400'],
    [{ 'node-ip': '172.30.0.11,172.30.0.12' }, '--node-ip: at most one IPv4 address'],
    [{ 'node-ip': '172.30.0.11/33' }, '--node-ip: "172.30.0.11/33" is not an IP address with an optional prefix length'],
    [{ 'node-ip': 'node-a' }, '--node-ip: "node-a" is not an IP address'],
  ])('refuse %j', (values, message) => {
    expect(() => parse(values)).toThrow(message);
  });
});

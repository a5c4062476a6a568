import { parseBatchFailures, parseRouteList, routeCommand } from './ip-routes';

describe('iproute2 for routes', () => {
  it('writes batch lines that name the main table and the protocol', () => {
    expect(routeCommand('add', { dst: '10.0.1.0/26', via: '172.30.0.2' }, 197)).toBe('route add 10.0.1.0/26 via 172.30.0.2 table main proto 197');
    expect(routeCommand('replace', { dst: 'fd00::/122' }, 80)).toBe('route replace blackhole fd00::/122 table main proto 80');
  });

  it('reads routes from ip -j route show, host routes as /32 and /128', () => {
    const v4 = JSON.stringify([
      { dst: '10.0.1.0/26', gateway: '172.30.0.2', dev: 'eth0', flags: [] },
      { type: 'blackhole', dst: '10.0.0.0/26', flags: [] },
      { dst: '10.0.0.9', gateway: '172.30.0.3', dev: 'eth0', flags: [] },
      { type: 'unreachable', dst: '10.9.0.0/24', flags: [] },
      { dst: '10.8.0.0/24', nexthops: [{ gateway: '172.30.0.2' }, { gateway: '172.30.0.3' }], flags: [] },
    ]);
    expect([...parseRouteList(v4).values()]).toEqual([
      { dst: '10.0.1.0/26', via: '172.30.0.2' },
      { dst: '10.0.0.0/26' },
      { dst: '10.0.0.9/32', via: '172.30.0.3' },
      { dst: '10.9.0.0/24', other: true },
      { dst: '10.8.0.0/24', other: true },
    ]);
    expect([...parseRouteList(JSON.stringify([{ type: 'blackhole', dst: 'fd00::/122', dev: 'lo', metric: 1024 }, { dst: 'fd00::7', gateway: 'fd30::3' }])).values()]).toEqual([
      { dst: 'fd00::/122' },
      { dst: 'fd00::7/128', via: 'fd30::3' },
    ]);
    expect(parseRouteList('')).toEqual(new Map());
  });

  it('tells the failed lines of a forced batch apart, with the kernel\'s words', () => {
    const stderr = 'Error: Nexthop has invalid gateway.\nCommand failed -:2\nRTNETLINK answers: File exists\nCommand failed -:5\n';
    expect(parseBatchFailures(stderr)).toEqual(new Map([
      [2, 'Error: Nexthop has invalid gateway.'],
      [5, 'RTNETLINK answers: File exists'],
    ]));
  });
});

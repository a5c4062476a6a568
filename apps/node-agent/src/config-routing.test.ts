import { ConfigError, parseAgentConfig, usage } from './config';

const base = ['--labels', 'zone=a', '--node-name', 'node-a'];

describe('the node agent routing flags', () => {
  it('route nothing unless asked (an agent in the machine namespace never touches its routes)', () => {
    expect(parseAgentConfig(base, {}, '/p')).toMatchObject({ routing: { mode: 'none', protocol: 197, resyncMs: 30_000 } });
    expect(parseAgentConfig(base, {}, '/p')).not.toHaveProperty('nodeIp');
  });

  it('take host-gw, the protocol, the resync period and the node address from flags or ATOLL_* variables', () => {
    const env = { ATOLL_ROUTING: 'host-gw', ATOLL_ROUTE_PROTOCOL: '80', ATOLL_NODE_IP: '172.30.0.11/24' };
    expect(parseAgentConfig(base, env, '/p')).toMatchObject({ routing: { mode: 'host-gw', protocol: 80 }, nodeIp: { ipv4: '172.30.0.11/24' } });
    expect(parseAgentConfig([...base, '--routing', 'none', '--route-resync-seconds', '5', '--node-ip', 'fd00::11'], env, '/p')).toMatchObject({
      routing: { mode: 'none', protocol: 80, resyncMs: 5000 },
      nodeIp: { ipv6: 'fd00::11' },
    });
  });

  it('reach the allocator on a unix socket', () => {
    expect(parseAgentConfig([...base, '--allocator', 'unix:/run/atoll/allocator.sock'], {}, '/p')).toMatchObject({ allocator: 'unix:/run/atoll/allocator.sock' });
    expect(() => parseAgentConfig([...base, '--allocator', 'unix:run/allocator.sock'], {}, '/p')).toThrow('--allocator: expected host:port or unix:/absolute/path');
  });

  it('refuse an unknown routing mode, naming the flag', () => {
    expect(() => parseAgentConfig([...base, '--routing', 'bgp'], {}, '/p')).toThrow(ConfigError);
    expect(() => parseAgentConfig([...base, '--routing', 'bgp'], {}, '/p')).toThrow('--routing: expected host-gw or none');
  });

  it('list the routing flags in the usage text', () => {
    for (const flag of ['--routing', '--route-protocol', '--route-resync-seconds', '--node-ip']) expect(usage()).toContain(flag);
  });
});

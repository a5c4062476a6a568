import { ConfigError, parseAllocatorConfig } from './config';

describe('allocator configuration', () => {
  it('uses defaults, then environment, then flags', () => {
    expect(parseAllocatorConfig([], {})).toEqual({
      etcdEndpoints: ['http://127.0.0.1:2379'],
      listen: '127.0.0.1:7443',
      metricsListen: '127.0.0.1:9443',
      logLevel: 'info',
      etcdNamespace: '',
      gc: { kubeconfig: '', leakGracePeriodMs: 900_000, intervalMs: 450_000, leaderLeaseSeconds: 15 },
    });
    const env = { ATOLL_ETCD_ENDPOINTS: 'http://10.1.1.1:2379,https://10.1.1.2:2379', ATOLL_LISTEN: '0.0.0.0:7443', ATOLL_INSECURE: 'true' };
    expect(parseAllocatorConfig([], env)).toMatchObject({ etcdEndpoints: ['http://10.1.1.1:2379', 'https://10.1.1.2:2379'], listen: '0.0.0.0:7443' });
    expect(parseAllocatorConfig(['--listen', '[::1]:9000'], env)).toMatchObject({ listen: '[::1]:9000' });
  });

  it('listens on a unix socket without mTLS (only root on this machine can reach it)', () => {
    expect(parseAllocatorConfig(['--listen', 'unix:/run/atoll/allocator.sock'], {})).toMatchObject({ listen: 'unix:/run/atoll/allocator.sock' });
  });

  it('answers help', () => {
    expect(parseAllocatorConfig(['--help'], {})).toBe('help');
  });

  it.each([
    [['--listen', '127.0.0.1'], '--listen: expected host:port'],
    [['--listen', '127.0.0.1:70000'], '--listen: expected host:port'],
    [['--listen', 'unix:run/atoll.sock'], '--listen: expected unix:/absolute/path'],
    [['--metrics-listen', ':'], '--metrics-listen: expected host:port'],
    [['--etcd-endpoints', ''], '--etcd-endpoints: at least one etcd URL is required'],
    [['--etcd-namespace', 'atoll'], '--etcd-namespace: expected a key prefix starting and ending with "/"'],
    [['extra'], 'Unexpected argument'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseAllocatorConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseAllocatorConfig(argv, {})).toThrow(message);
  });
});

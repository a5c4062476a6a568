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
      history: { retentionSeconds: 7 * 24 * 3600, maxRecords: 200_000 },
    });
    expect(parseAllocatorConfig(['--history-retention', '0'], {})).toMatchObject({ history: { retentionSeconds: 0 } });
    expect(parseAllocatorConfig(['--history-retention', '90s', '--history-max-records', '10'], {})).toMatchObject({ history: { retentionSeconds: 90, maxRecords: 10 } });
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
    [['--history-retention', '7d'], '--history-retention: expected a duration such as 24h or 168h, got "7d"'],
    [['--history-retention', '1500ms'], '--history-retention: must be 0 or a whole number of seconds of at least 1s, got 1500ms'],
    [['--history-max-records', '0'], '--history-max-records: expected a whole number of at least 1, got "0"'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseAllocatorConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseAllocatorConfig(argv, {})).toThrow(message);
  });
});

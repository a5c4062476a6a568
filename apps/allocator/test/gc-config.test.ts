import { ConfigError, parseAllocatorConfig } from '../src/config';

describe('the leak collector flags', () => {
  it('defaults to in-cluster, a 15m grace period, passes every 7m30s and a 15s leader lease', () => {
    expect(parseAllocatorConfig([], {})).toMatchObject({ gc: { kubeconfig: '', leakGracePeriodMs: 900_000, intervalMs: 450_000, leaderLeaseSeconds: 15 } });
  });

  it('takes flags over environment, and the interval from the grace period unless given', () => {
    const env = { ATOLL_KUBECONFIG: '/etc/kube/config', ATOLL_LEAK_GRACE_PERIOD: '1h' };
    expect(parseAllocatorConfig([], env)).toMatchObject({ gc: { kubeconfig: '/etc/kube/config', leakGracePeriodMs: 3_600_000, intervalMs: 1_800_000 } });
    expect(parseAllocatorConfig(['--leak-grace-period', '30s', '--gc-interval', '5s', '--gc-leader-lease', '2s'], env)).toMatchObject({
      gc: { leakGracePeriodMs: 30_000, intervalMs: 5000, leaderLeaseSeconds: 2 },
    });
  });

  it('accepts a grace period of 0, which turns the collector off', () => {
    expect(parseAllocatorConfig(['--leak-grace-period', '0'], {})).toMatchObject({ gc: { leakGracePeriodMs: 0 } });
  });

  it.each<[string[], string, Record<string, string>?]>([
    [['--leak-grace-period', '15'], '--leak-grace-period: expected a duration such as 30s, 15m or 1h, got "15"'],
    [['--leak-grace-period=-1m'], '--leak-grace-period: expected a duration'],
    [[], '--leak-grace-period: expected a duration', { ATOLL_LEAK_GRACE_PERIOD: '1 hour' }],
    [['--gc-interval', 'often'], '--gc-interval: expected a duration'],
    [['--gc-interval', '10ms'], '--gc-interval: must be at least 100ms, got 10ms'],
    [['--gc-leader-lease', '500ms'], '--gc-leader-lease: must be a whole number of seconds, at least 1s'],
    [['--gc-leader-lease', '1500ms'], '--gc-leader-lease: must be a whole number of seconds'],
  ])('refuses %j with one line naming the flag', (argv, message, env = {}) => {
    expect(() => parseAllocatorConfig(argv, env)).toThrow(ConfigError);
    expect(() => parseAllocatorConfig(argv, env)).toThrow(message);
  });
});

import { formatDuration, parseGoDuration } from '@atoll/model';

// The leak collector's flags (spread into ALLOCATOR_FLAGS). Durations are Go's syntax, as in
// Calico's KubeControllersConfiguration (`leakGracePeriod: 15m`).

export const GC_FLAGS = {
  kubeconfig: {
    env: 'ATOLL_KUBECONFIG',
    default: '',
    help: 'kubeconfig for the leak collector (empty: in-cluster; no Kubernetes config turns the collector off)',
  },
  'leak-grace-period': {
    env: 'ATOLL_LEAK_GRACE_PERIOD',
    default: '15m',
    help: 'how long an address must look leaked before the collector releases it, e.g. 30s, 15m, 1h (0 turns the collector off)',
  },
  'gc-interval': {
    env: 'ATOLL_GC_INTERVAL',
    default: '',
    help: 'time between collector passes (empty: half the grace period, as Calico)',
  },
  'gc-leader-lease': {
    env: 'ATOLL_GC_LEADER_LEASE',
    default: '15s',
    help: 'TTL of the etcd lease that elects the one collecting replica (whole seconds): how long a dead leader blocks the others',
  },
} as const;

export interface LeakCollectorConfig {
  /** Path of a kubeconfig; empty: the in-cluster service account. */
  readonly kubeconfig: string;
  /** 0: the collector is off. */
  readonly leakGracePeriodMs: number;
  readonly intervalMs: number;
  readonly leaderLeaseSeconds: number;
}

export function parseGcFlags(get: (flag: keyof typeof GC_FLAGS) => string, error: (message: string) => Error): LeakCollectorConfig {
  const duration = (flag: keyof typeof GC_FLAGS): number => {
    const text = get(flag);
    const ms = parseGoDuration(text);
    if (ms === undefined) throw error(`--${flag}: expected a duration such as 30s, 15m or 1h, got ${JSON.stringify(text)}`);
    return ms;
  };
  const leakGracePeriodMs = duration('leak-grace-period');
  const intervalMs = get('gc-interval') === '' ? leakGracePeriodMs / 2 : duration('gc-interval');
  if (leakGracePeriodMs > 0 && intervalMs < 100) {
    throw error(`--gc-interval: must be at least 100ms, got ${formatDuration(intervalMs)}`);
  }
  const leaseMs = duration('gc-leader-lease');
  if (leaseMs < 1000 || leaseMs % 1000 !== 0) {
    throw error(`--gc-leader-lease: must be a whole number of seconds, at least 1s, got ${JSON.stringify(get('gc-leader-lease'))}`);
  }
  return { kubeconfig: get('kubeconfig'), leakGracePeriodMs, intervalMs, leaderLeaseSeconds: leaseMs / 1000 };
}

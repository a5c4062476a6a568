import { parseArgs } from 'node:util';
import { GC_FLAGS, parseGcFlags, type LeakCollectorConfig } from './gc/gc-config';
import { HISTORY_FLAGS, parseHistoryFlags, type HistoryConfig } from './history/history-config';
import { INSECURE_FLAG, parseSecurityFlags, SECURITY_FLAGS, type AllocatorTlsConfig, type EtcdTlsConfig } from './security-config';

// Flags, each with an ATOLL_* environment equivalent (flags win). Bad values stop start-up
// with one line naming the flag.

export interface AllocatorConfig {
  readonly etcdEndpoints: readonly string[];
  /** gRPC listen address, host:port or unix:/absolute/path. */
  readonly listen: string;
  /** HTTP listen address for /metrics, /healthz, /readyz. */
  readonly metricsListen: string;
  readonly logLevel: string;
  /** Key prefix for every etcd key: several installations (or test runs) in one etcd. */
  readonly etcdNamespace: string;
  /** The leak garbage collector (gc/gc-config.ts). */
  readonly gc: LeakCollectorConfig;
  /** The allocation history (history/history-config.ts). */
  readonly history: HistoryConfig;
  /** gRPC over TLS; mTLS when it has a client CA (see security-config.ts). */
  readonly tls?: AllocatorTlsConfig;
  /** etcd over TLS (https:// endpoints). */
  readonly etcdTls?: EtcdTlsConfig;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const ALLOCATOR_FLAGS = {
  'etcd-endpoints': { env: 'ATOLL_ETCD_ENDPOINTS', default: 'http://127.0.0.1:2379', help: 'comma-separated etcd client URLs' },
  listen: { env: 'ATOLL_LISTEN', default: '127.0.0.1:7443', help: 'gRPC listen address (host:port, or unix:/absolute/path for a root-only socket)' },
  'metrics-listen': { env: 'ATOLL_METRICS_LISTEN', default: '127.0.0.1:9443', help: 'HTTP address for /metrics, /healthz and /readyz' },
  'log-level': { env: 'ATOLL_LOG_LEVEL', default: 'info', help: 'trace, debug, info, warn, error or fatal' },
  'etcd-namespace': { env: 'ATOLL_ETCD_NAMESPACE', default: '', help: 'prefix for every etcd key (empty: Calico\'s layout at the root)' },
  ...SECURITY_FLAGS,
  ...GC_FLAGS,
  ...HISTORY_FLAGS,
} as const;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export function usage(): string {
  const lines = Object.entries(ALLOCATOR_FLAGS).map(([flag, f]) => `  --${flag.padEnd(16)} ${f.help} (env ${f.env}, default ${f.default})`);
  lines.push(`  --${'insecure'.padEnd(16)} ${INSECURE_FLAG.help} (env ${INSECURE_FLAG.env}=true)`);
  return `usage: atoll-allocator [flags]\n${lines.join('\n')}\n`;
}

export function hostPort(flag: string, value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`--${flag}: expected host:port, got ${JSON.stringify(value)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** The socket path of a `unix:/absolute/path` address; undefined for anything else. */
export function unixSocketPath(flag: string, value: string): string | undefined {
  if (!value.startsWith('unix:')) return undefined;
  const socketPath = value.slice('unix:'.length);
  if (!socketPath.startsWith('/') || socketPath.includes('\0')) throw new ConfigError(`--${flag}: expected unix:/absolute/path, got ${JSON.stringify(value)}`);
  return socketPath;
}

export function parseAllocatorConfig(argv: readonly string[], env: NodeJS.ProcessEnv): AllocatorConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(Object.keys(ALLOCATOR_FLAGS).map((k) => [k, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
        insecure: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (values['help']) return 'help';
  const get = (flag: keyof typeof ALLOCATOR_FLAGS): string => {
    const v = values[flag];
    return typeof v === 'string' ? v : (env[ALLOCATOR_FLAGS[flag].env] ?? ALLOCATOR_FLAGS[flag].default);
  };
  const endpoints = get('etcd-endpoints')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (endpoints.length === 0) throw new ConfigError('--etcd-endpoints: at least one etcd URL is required');
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/\s]+$/.test(e)) throw new ConfigError(`--etcd-endpoints: ${JSON.stringify(e)} is not an http(s)://host:port URL`);
  }
  const listen = get('listen');
  const listenHost = unixSocketPath('listen', listen) === undefined ? hostPort('listen', listen).host : undefined;
  const metricsListen = get('metrics-listen');
  hostPort('metrics-listen', metricsListen);
  const logLevel = get('log-level');
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const etcdNamespace = get('etcd-namespace');
  if (etcdNamespace !== '' && !/^\/[\x21-\x7e]*\/$/.test(etcdNamespace)) {
    throw new ConfigError(`--etcd-namespace: expected a key prefix starting and ending with "/", got ${JSON.stringify(etcdNamespace)}`);
  }
  const insecure = values['insecure'] === true || ['true', '1'].includes(env[INSECURE_FLAG.env] ?? '');
  const security = parseSecurityFlags(get, { listen, listenHost, etcdEndpoints: endpoints, insecure }, (m) => new ConfigError(m));
  const gc = parseGcFlags(get, (m) => new ConfigError(m));
  const history = parseHistoryFlags(get, (m) => new ConfigError(m));
  return { etcdEndpoints: endpoints, listen, metricsListen, logLevel, etcdNamespace, ...security, gc, history };
}

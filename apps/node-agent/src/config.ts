import os from 'node:os';
import { parseArgs } from 'node:util';
import { parseGoDuration } from '@atoll/model';
import { parseRoutingFlags, ROUTING_FLAGS, type NodeAddresses, type RoutingConfig } from './routing/routing-config';

// Flags with ATOLL_* environment equivalents (flags win). Bad values stop start-up with
// one line naming the flag.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const AGENT_FLAGS = {
  'node-name': { env: 'ATOLL_NODE_NAME', default: '', help: "this node's name (default: the host name)" },
  allocator: { env: 'ATOLL_ALLOCATOR', default: '127.0.0.1:7443', help: 'allocator gRPC address (host:port, or unix:/absolute/path)' },
  'allocator-ca-file': { env: 'ATOLL_ALLOCATOR_CA_FILE', default: '', help: 'TLS to the allocator: CA (PEM) that signed its certificate' },
  'tls-cert-file': { env: 'ATOLL_TLS_CERT_FILE', default: '', help: "this node's client certificate (PEM) for the allocator's mTLS" },
  'tls-key-file': { env: 'ATOLL_TLS_KEY_FILE', default: '', help: 'private key (PEM) of --tls-cert-file' },
  socket: { env: 'ATOLL_AGENT_SOCKET', default: '/run/atoll/agent.sock', help: 'unix socket the CNI plugin connects to' },
  kubeconfig: { env: 'ATOLL_KUBECONFIG', default: '', help: 'kubeconfig file (default: in-cluster configuration)' },
  labels: { env: 'ATOLL_NODE_LABELS', default: '', help: 'run without Kubernetes: node labels as k=v,k2=v2' },
  'metrics-listen': { env: 'ATOLL_METRICS_LISTEN', default: '127.0.0.1:9444', help: 'HTTP address for /metrics, /healthz and /readyz' },
  'log-level': { env: 'ATOLL_LOG_LEVEL', default: 'info', help: 'trace, debug, info, warn, error or fatal' },
  concurrency: { env: 'ATOLL_AGENT_CONCURRENCY', default: '8', help: 'CNI requests served at once; the rest queue' },
  'static-handoff-grace': {
    env: 'ATOLL_STATIC_HANDOFF_GRACE',
    default: '30s',
    help: "how long the pod holding a requested address must be gone from the Kubernetes API before the address is handed to a new pod (Go duration; a force-deleted pod's sandbox may still run)",
  },
  'request-timeout-seconds': { env: 'ATOLL_REQUEST_TIMEOUT_SECONDS', default: '90', help: 'time limit of one CNI request, counted from when it leaves the queue' },
  'tunnel-resync-seconds': { env: 'ATOLL_TUNNEL_RESYNC_SECONDS', default: '30', help: 'how often tunnel addresses are reconciled' },
  'cni-bin-dir': { env: 'ATOLL_CNI_BIN_DIR', default: '/opt/cni/bin', help: '--install-cni: where to put the plugin (as atoll and atoll-ipam)' },
  'cni-conf-dir': { env: 'ATOLL_CNI_CONF_DIR', default: '/etc/cni/net.d', help: '--install-cni: where to write the network configuration' },
  'cni-conf-name': { env: 'ATOLL_CNI_CONF_NAME', default: '10-atoll.conflist', help: '--install-cni: file name of the configuration list' },
  'cni-network-name': { env: 'ATOLL_CNI_NETWORK_NAME', default: 'k8s-pod-network', help: '--install-cni: network name (first part of every handle)' },
  'cni-plugin-path': { env: 'ATOLL_CNI_PLUGIN_PATH', default: '', help: '--install-cni: the atoll-ipam binary to copy (default: beside this binary)' },
  'cni-assign-ipv6': { env: 'ATOLL_CNI_ASSIGN_IPV6', default: 'false', help: '--install-cni: "true" gives every pod an IPv6 address too (ipam.assign_ipv6; dual stack needs an IPv6 pool)' },
  'cni-mtu': { env: 'ATOLL_CNI_MTU', default: '1500', help: "--install-cni: MTU of each pod's interface (the node's uplink MTU, less any encapsulation)" },
  ...ROUTING_FLAGS,
} as const;

type FlagName = keyof typeof AGENT_FLAGS;

export interface AgentConfig {
  readonly nodeName: string;
  readonly allocator: string;
  /** TLS to the allocator (file paths; read at start). Plaintext when absent. */
  readonly allocatorTls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  readonly socket: string;
  readonly kubernetes: { readonly kubeconfig?: string } | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly metricsListen: string;
  readonly logLevel: string;
  readonly concurrency: number;
  readonly requestTimeoutMs: number;
  /** --static-handoff-grace in milliseconds. */
  readonly staticHandOffGraceMs: number;
  readonly tunnelResyncMs: number;
  /** Routes between nodes (routing/); mode none: the agent never touches routes or iptables. */
  readonly routing: RoutingConfig;
  /** --node-ip: this node's addresses for other nodes' routes; absent: the Kubernetes Node's InternalIP. */
  readonly nodeIp?: NodeAddresses;
  readonly installCni?: {
    readonly binDir: string;
    readonly confDir: string;
    readonly confName: string;
    readonly networkName: string;
    readonly pluginPath: string;
    readonly mtu: number;
    readonly assignIpv6: boolean;
  };
}

export function usage(): string {
  const lines = Object.entries(AGENT_FLAGS).map(([f, d]) => `  --${f.padEnd(24)} ${d.help} (env ${d.env})`);
  return `usage: atoll-node-agent [--install-cni] [flags]\n${lines.join('\n')}\n`;
}

function positiveInt(flag: string, text: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new ConfigError(`--${flag}: expected a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A Go duration of whole units ("30s", "2m", "1m30s", "500ms", "0"), as Kubernetes flags take them. */
function duration(flag: string, text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined) throw new ConfigError(`--${flag}: expected a duration such as 30s, 2m or 1m30s, got ${JSON.stringify(text)}`);
  if (ms > 24 * 3_600_000) throw new ConfigError(`--${flag}: at most 24h, got ${JSON.stringify(text)}`);
  return ms;
}

function trueOrFalse(flag: string, text: string): boolean {
  if (text !== 'true' && text !== 'false') throw new ConfigError(`--${flag}: expected true or false, got ${JSON.stringify(text)}`);
  return text === 'true';
}

function mtu(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 68 || Number(text) > 65535) throw new ConfigError(`--cni-mtu: expected a whole number from 68 to 65535, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--labels: expected k=v pairs separated by commas, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function parseAgentConfig(argv: readonly string[], env: NodeJS.ProcessEnv, defaultPluginPath: string): AgentConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(Object.keys(AGENT_FLAGS).map((k) => [k, { type: 'string' as const }])),
        'install-cni': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (values['help']) return 'help';
  const get = (f: FlagName): string => {
    const v = values[f];
    return typeof v === 'string' ? v : (env[AGENT_FLAGS[f].env] ?? AGENT_FLAGS[f].default);
  };
  const nodeName = get('node-name') || os.hostname();
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeName)) throw new ConfigError(`--node-name: ${JSON.stringify(nodeName)} is not a valid node name (lower-case DNS name)`);
  const allocator = get('allocator');
  if (!/^(\[[0-9a-fA-F:]+\]|[^:\s/]+):\d{1,5}$/.test(allocator) && !/^unix:\/[^\0]*$/.test(allocator)) {
    throw new ConfigError(`--allocator: expected host:port or unix:/absolute/path, got ${JSON.stringify(allocator)}`);
  }
  const allocatorTls = { caFile: get('allocator-ca-file'), certFile: get('tls-cert-file'), keyFile: get('tls-key-file') };
  if ((allocatorTls.certFile === '') !== (allocatorTls.keyFile === '')) throw new ConfigError('--tls-cert-file and --tls-key-file must be given together');
  const socket = get('socket');
  if (!socket.startsWith('/')) throw new ConfigError(`--socket: expected an absolute path, got ${JSON.stringify(socket)}`);
  const labelsText = get('labels');
  const kubeconfig = get('kubeconfig') || env['KUBECONFIG'] || '';
  const withoutKubernetes = labelsText !== '' || (values['labels'] !== undefined);
  let kubernetes: AgentConfig['kubernetes'];
  if (!withoutKubernetes) {
    if (kubeconfig) kubernetes = { kubeconfig };
    else if (env['KUBERNETES_SERVICE_HOST']) kubernetes = {};
    else if (!values['install-cni']) {
      throw new ConfigError('no Kubernetes configuration: pass --kubeconfig, run in a pod, or pass --labels k=v to run without Kubernetes');
    }
  }
  const logLevel = get('log-level');
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(logLevel)) throw new ConfigError(`--log-level: expected trace, debug, info, warn, error or fatal, got ${JSON.stringify(logLevel)}`);
  const metricsListen = get('metrics-listen');
  if (!/^(\[[0-9a-fA-F:]+\]|[^:\s/]+):\d{1,5}$/.test(metricsListen)) throw new ConfigError(`--metrics-listen: expected host:port, got ${JSON.stringify(metricsListen)}`);
  return {
    nodeName,
    allocator,
    ...((allocatorTls.caFile !== '' || allocatorTls.certFile !== '') && {
      allocatorTls: { ...(allocatorTls.caFile && { caFile: allocatorTls.caFile }), ...(allocatorTls.certFile && { certFile: allocatorTls.certFile, keyFile: allocatorTls.keyFile }) },
    }),
    socket,
    kubernetes,
    labels: withoutKubernetes ? parseLabels(labelsText) : {},
    metricsListen,
    logLevel,
    concurrency: positiveInt('concurrency', get('concurrency'), 256),
    requestTimeoutMs: positiveInt('request-timeout-seconds', get('request-timeout-seconds'), 3600) * 1000,
    staticHandOffGraceMs: duration('static-handoff-grace', get('static-handoff-grace')),
    tunnelResyncMs: positiveInt('tunnel-resync-seconds', get('tunnel-resync-seconds'), 86400) * 1000,
    ...parseRoutingFlags(get, (m) => new ConfigError(m)),
    ...(values['install-cni'] && {
      installCni: {
        binDir: get('cni-bin-dir'),
        confDir: get('cni-conf-dir'),
        confName: get('cni-conf-name'),
        networkName: get('cni-network-name'),
        pluginPath: get('cni-plugin-path') || defaultPluginPath,
        mtu: mtu(get('cni-mtu')),
        assignIpv6: trueOrFalse('cni-assign-ipv6', get('cni-assign-ipv6')),
      },
    }),
  };
}

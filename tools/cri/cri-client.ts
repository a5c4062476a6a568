import { credentials, Metadata, status as GrpcStatus, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import {
  ImageServiceClient,
  NamespaceMode,
  PodSandboxState,
  RuntimeServiceClient,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxStatus,
} from './generated/runtime/v1/api';

// A client for the CRI RuntimeService (and one ImageService call) on a containerd socket,
// sending what the kubelet sends for pod sandboxes. Errors keep containerd's own text.

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface RunPodSandboxOptions {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** Default 0; the kubelet counts up when it recreates a pod's sandbox. */
  readonly attempt?: number;
  /** cgroupfs parent of the sandbox; a node's client fills in its own. */
  readonly cgroupParent?: string;
  /** Default: the pod name. */
  readonly hostname?: string;
  /** Default: `<logRoot>/<namespace>_<name>_<uid>` when the client has a logRoot, else none. */
  readonly logDirectory?: string;
  /** Added to the kubelet's own labels (io.kubernetes.pod.name/namespace/uid). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly dnsServers?: readonly string[];
  /** Empty: the default runtime (runc). */
  readonly runtimeHandler?: string;
  readonly timeoutMs?: number;
}

export interface SandboxSummary {
  readonly id: string;
  readonly state: SandboxState;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly attempt: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface SandboxStatus extends SandboxSummary {
  /** The first pod IP ('' when the sandbox has none, e.g. once stopped). */
  readonly ip: string;
  readonly additionalIps: readonly string[];
  /** Path of the pod's network namespace, from the verbose info ('' when unknown). */
  readonly netnsPath: string;
  /** containerd's verbose `info` JSON, parsed (cniResult, runtimeSpec, pid, …). */
  readonly info: Readonly<Record<string, unknown>>;
  /** Every verbose entry as containerd sent it (JSON text per key). */
  readonly rawInfo: Readonly<Record<string, string>>;
}

export interface RuntimeCondition {
  readonly type: string;
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface CriClient {
  readonly socket: string;
  version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }>;
  /** Creates and starts a sandbox (network set up by CNI ADD); resolves its id. */
  runPodSandbox(opts: RunPodSandboxOptions): Promise<string>;
  /** Idempotent (containerd runs CNI DEL again on every call). */
  stopPodSandbox(id: string): Promise<void>;
  /** Idempotent: a sandbox that is gone already is success. */
  removePodSandbox(id: string): Promise<void>;
  /** Verbose status; rejects with a CriError (code NOT_FOUND) for an unknown id. */
  podSandboxStatus(id: string): Promise<SandboxStatus>;
  listPodSandbox(filter?: { id?: string; state?: SandboxState; labels?: Readonly<Record<string, string>> }): Promise<SandboxSummary[]>;
  /** Runtime conditions (RuntimeReady, NetworkReady) and, verbose, the loaded CNI config. */
  status(): Promise<{ conditions: RuntimeCondition[]; info: Record<string, unknown> }>;
  /** The image's id as the CRI plugin sees it, or null when it does not know the name. */
  imageId(name: string): Promise<string | null>;
  close(): void;
}

/** A failed CRI call: `details` is containerd's message, `code` the gRPC status code. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`CRI ${method} failed (${GrpcStatus[code] ?? code}): ${details}`);
    this.name = 'CriError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => unknown;

function call<Req, Res>(method: string, fn: Unary<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(new CriError(method, err.code, err.details || err.message));
      else resolve(res);
    });
  });
}

function parseInfo(raw: Readonly<Record<string, string>>): Record<string, unknown> {
  const text = raw['info'];
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsed: text };
  }
}

/** The network namespace path from the OCI spec containerd keeps in the verbose info. */
function netnsPathOf(info: Record<string, unknown>): string {
  const spec = info['runtimeSpec'] as { linux?: { namespaces?: { type?: string; path?: string }[] } } | undefined;
  return spec?.linux?.namespaces?.find((ns) => ns.type === 'network')?.path ?? '';
}

const stateName = (s: PodSandboxState): SandboxState => (s === PodSandboxState.SANDBOX_READY ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY');

function summarize(p: PodSandbox | PodSandboxStatus): SandboxSummary {
  return {
    id: p.id,
    state: stateName(p.state),
    name: p.metadata?.name ?? '',
    namespace: p.metadata?.namespace ?? '',
    uid: p.metadata?.uid ?? '',
    attempt: p.metadata?.attempt ?? 0,
    labels: p.labels,
    annotations: p.annotations,
  };
}

export function connectCri(socket: string, defaults: { cgroupParent?: string; logRoot?: string; timeoutMs?: number } = {}): CriClient {
  const address = `unix://${socket}`;
  const options = { 'grpc.enable_http_proxy': 0, 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
  const runtime = new RuntimeServiceClient(address, credentials.createInsecure(), options);
  const images = new ImageServiceClient(address, credentials.createInsecure(), options);
  const timeout = defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  function sandboxConfig(o: RunPodSandboxOptions): PodSandboxConfig {
    const cgroupParent = o.cgroupParent ?? defaults.cgroupParent;
    if (!cgroupParent) throw new Error('runPodSandbox needs a cgroupParent (a node client supplies its own)');
    const logDirectory = o.logDirectory ?? (defaults.logRoot ? `${defaults.logRoot}/${o.namespace}_${o.name}_${o.uid}` : '');
    return {
      metadata: { name: o.name, uid: o.uid, namespace: o.namespace, attempt: o.attempt ?? 0 },
      hostname: o.hostname ?? o.name,
      logDirectory,
      dnsConfig: { servers: [...(o.dnsServers ?? [])], searches: [], options: [] },
      labels: { 'io.kubernetes.pod.name': o.name, 'io.kubernetes.pod.namespace': o.namespace, 'io.kubernetes.pod.uid': o.uid, ...o.labels },
      annotations: { 'kubernetes.io/config.source': 'api', ...o.annotations },
      linux: {
        cgroupParent,
        securityContext: {
          namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ipc: NamespaceMode.POD, targetId: '' },
          readonlyRootfs: false,
          privileged: false,
        },
        sysctls: {},
      },
    };
  }

  return {
    socket,
    async version() {
      const r = await call('Version', runtime.version.bind(runtime), { version: 'v1' }, timeout);
      return { runtimeName: r.runtimeName, runtimeVersion: r.runtimeVersion, runtimeApiVersion: r.runtimeApiVersion };
    },
    async runPodSandbox(o) {
      const config = sandboxConfig(o);
      const r = await call('RunPodSandbox', runtime.runPodSandbox.bind(runtime), { config, runtimeHandler: o.runtimeHandler ?? '' }, o.timeoutMs ?? timeout);
      return r.podSandboxId;
    },
    async stopPodSandbox(id) {
      await call('StopPodSandbox', runtime.stopPodSandbox.bind(runtime), { podSandboxId: id }, timeout);
    },
    async removePodSandbox(id) {
      await call('RemovePodSandbox', runtime.removePodSandbox.bind(runtime), { podSandboxId: id }, timeout);
    },
    async podSandboxStatus(id) {
      const r = await call('PodSandboxStatus', runtime.podSandboxStatus.bind(runtime), { podSandboxId: id, verbose: true }, timeout);
      const s = r.status;
      if (!s) throw new CriError('PodSandboxStatus', GrpcStatus.INTERNAL, `no status for sandbox ${id}`);
      const info = parseInfo(r.info);
      return {
        ...summarize(s),
        ip: s.network?.ip ?? '',
        additionalIps: (s.network?.additionalIps ?? []).map((p) => p.ip),
        netnsPath: netnsPathOf(info),
        info,
        rawInfo: r.info,
      };
    },
    async listPodSandbox(filter) {
      const request = {
        filter: filter
          ? {
              id: filter.id ?? '',
              state: filter.state ? { state: filter.state === 'SANDBOX_READY' ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY } : undefined,
              labelSelector: { ...filter.labels },
            }
          : undefined,
      };
      const r = await call('ListPodSandbox', runtime.listPodSandbox.bind(runtime), request, timeout);
      return r.items.map(summarize);
    },
    async status() {
      const r = await call('Status', runtime.status.bind(runtime), { verbose: true }, timeout);
      const info: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r.info)) {
        try {
          info[k] = JSON.parse(v);
        } catch {
          info[k] = v;
        }
      }
      return { conditions: (r.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })), info };
    },
    async imageId(name) {
      const r = await call('ImageStatus', images.imageStatus.bind(images), { image: { image: name, annotations: {} }, verbose: false }, timeout);
      return r.image ? r.image.id : null;
    },
    close() {
      runtime.close();
      images.close();
    },
  };
}

import {
  type AssignmentExplanation,
  type HoldingsAnswer,
  type HoldingsQuery,
  type Allocation,
  type CheckResponse,
  type GetUtilizationResponse,
  HealthCheckResponse_ServingStatus,
  type IPAMConfig,
  type ReleaseIPsResponse,
  RpcError,
} from '@atoll/api';
import { applyDefaults, type IPPool, type Resource, validatePoolAgainstExisting, validateResource } from '@atoll/model';
import type { CtlIo, ExplainApi, HealthApi, HistoryApi, IpamApi, ResourcesApi } from '../context';
import type { AllocatorConnection } from '../run';
import { runAtollctl } from '../run';

// A stand-in for the allocator in unit tests: resources kept in memory with the model's
// validation and the repository's error texts; IPAM answers set by each test. Every call
// is recorded. `unreachable` makes every call fail the way grpc-js does without a server.

type GrpcCode = RpcError['grpcCode'];
const GRPC = { NOT_FOUND: 5 as GrpcCode, ALREADY_EXISTS: 6 as GrpcCode, INVALID_ARGUMENT: 3 as GrpcCode, FAILED_PRECONDITION: 9 as GrpcCode, UNAVAILABLE: 14 as GrpcCode };

export const notFound = (message: string) => new RpcError('not-found', message, false, GRPC.NOT_FOUND);
export const invalid = (message: string) => new RpcError('invalid-argument', message, false, GRPC.INVALID_ARGUMENT);
export const unavailable = (message: string) => new RpcError('unavailable', message, true, GRPC.UNAVAILABLE);

const notFaked = (): never => {
  throw new Error('not faked');
};

const EMPTY_CHECK: CheckResponse = {
  blocks: 0,
  allocations: 0,
  handles: 0,
  affinities: 0,
  invalidBlocks: [],
  handlesWithoutAddresses: [],
  addressesWithoutHandle: [],
  miscountedHandles: [],
  blocksOutsidePools: [],
  affinityProblems: [],
  problems: 0,
};

export class FakeAllocator implements AllocatorConnection {
  readonly store = new Map<string, Resource>();
  utilization: GetUtilizationResponse = { pools: [], orphanBlocks: [] };
  checkResponse: CheckResponse = EMPTY_CHECK;
  allocations: Allocation[] = [];
  /** Handles that exist; by default every handle of `allocations`. */
  extraHandles = new Set<string>();
  config: IPAMConfig = { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0, kubeVirtVmAddressPersistence: 'Enabled', ipCooldownSeconds: 0 };
  readonly calls: { method: string; request: unknown }[] = [];
  /** Every call fails as if no allocator listened. */
  unreachable = false;
  /** Calls answer 'unavailable' but the health check passes (the allocator cannot reach etcd). */
  backendDown = false;
  /** Failures for the next call of a method. */
  readonly failNext = new Map<string, RpcError>();
  closed = false;

  private call<T>(method: string, request: unknown, answer: () => T): Promise<T> {
    this.calls.push({ method, request });
    if (this.unreachable) return Promise.reject(unavailable('No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7443'));
    if (this.backendDown && method !== 'health.check') return Promise.reject(unavailable('etcd is unavailable: deadline exceeded'));
    const failure = this.failNext.get(method);
    if (failure) {
      this.failNext.delete(method);
      return Promise.reject(failure);
    }
    try {
      return Promise.resolve(answer());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  callsOf(method: string): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.request);
  }

  /** Adds resources as if applied. */
  seed(...resources: Resource[]): this {
    for (const r of resources) this.store.set(`${r.kind}/${r.metadata.name}`, { ...applyDefaults(r), metadata: { ...r.metadata, resourceVersion: '1' } });
    return this;
  }

  private write(json: string, mode: 'apply' | 'create'): { resourceJson: string } {
    const resource = JSON.parse(json) as Resource;
    const problems = validateResource(resource);
    const key = `${resource.kind}/${resource.metadata.name}`;
    const existing = this.store.get(key);
    if (resource.kind === 'IPPool' && !existing) {
      const pools = [...this.store.values()].filter((r): r is IPPool => r.kind === 'IPPool');
      problems.push(...validatePoolAgainstExisting(resource, pools));
    }
    if (problems.length > 0) throw invalid(problems.map((p) => p.message).join('; '));
    if (existing && mode === 'create') throw new RpcError('already-exists', `resource already exists: ${resource.kind}(${resource.metadata.name})`, false, GRPC.ALREADY_EXISTS);
    const stored = { ...applyDefaults(resource), metadata: { ...resource.metadata, resourceVersion: String(this.calls.length + 1) } } as Resource;
    this.store.set(key, stored);
    return { resourceJson: JSON.stringify(stored) };
  }

  private find(kind: string, name: string): Resource {
    const r = this.store.get(`${kind}/${name}`);
    if (!r) throw notFound(`resource does not exist: ${kind}(${name})`);
    return r;
  }

  private handles(): Set<string> {
    return new Set([...this.allocations.map((a) => a.handleId).filter((h) => h !== ''), ...this.extraHandles]);
  }

  private releaseOne(address: string, handleId: string, sequenceNumber: string, out: ReleaseIPsResponse): void {
    const i = this.allocations.findIndex((a) => a.address === address);
    const a = this.allocations[i];
    if (!a) {
      out.unallocated.push(address);
      return;
    }
    if (sequenceNumber !== '' && sequenceNumber !== a.sequenceNumber) {
      const message = `the given sequence number (${sequenceNumber}) does not match (${a.sequenceNumber}) when attempting to release IP`;
      out.errors.push({ address, errorCode: 'sequence-mismatch', errorMessage: message });
      return;
    }
    this.allocations.splice(i, 1);
    out.released.push({ address, handleId, sequenceNumber });
  }

  /** What History/QueryHoldings answers, and the queries it was asked. */
  historyAnswer: HoldingsAnswer = { holdings: [], historyBegins: '', now: '2026-12-06T00:00:00.000Z', retentionSeconds: 604800 };
  readonly historyQueries: HoldingsQuery[] = [];

  readonly history: HistoryApi = {
    queryHoldings: async (q) => {
      this.historyQueries.push(q);
      return this.historyAnswer;
    },
  };

  /** What Explain/ExplainAutoAssign answers. */
  explanation: AssignmentExplanation = { families: [], errorCode: '', errorMessage: '' };

  readonly explain: ExplainApi = {
    explainAutoAssign: async () => this.explanation,
  };

  readonly resources: ResourcesApi = {
    apply: (req) => this.call('resources.apply', req, () => this.write(req.resourceJson, 'apply')),
    create: (req) => this.call('resources.create', req, () => this.write(req.resourceJson, 'create')),
    get: (req) => this.call('resources.get', req, () => ({ resourceJson: JSON.stringify(this.find(req.kind, req.name)) })),
    list: (req) =>
      this.call('resources.list', req, () => ({
        resourceJson: [...this.store.values()]
          .filter((r) => r.kind === req.kind)
          .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
          .map((r) => JSON.stringify(r)),
      })),
    delete: (req) =>
      this.call('resources.delete', req, () => {
        const r = this.find(req.kind, req.name);
        this.store.delete(`${req.kind}/${req.name}`);
        return { resourceJson: JSON.stringify(r) };
      }),
  };

  readonly ipam: IpamApi = {
    autoAssign: (req) => this.call('ipam.autoAssign', req, notFaked),
    autoAssignBatch: (req) => this.call('ipam.autoAssignBatch', req, notFaked),
    releaseByHandleBatch: (req) => this.call('ipam.releaseByHandleBatch', req, notFaked),
    assignIp: (req) => this.call('ipam.assignIp', req, notFaked),
    releaseIPs: (req) =>
      this.call('ipam.releaseIPs', req, () => {
        const out: ReleaseIPsResponse = { unallocated: [], released: [], errors: [] };
        for (const o of req.options) this.releaseOne(o.address, o.handleId, o.sequenceNumber, out);
        return out;
      }),
    releaseByHandle: (req) =>
      this.call('ipam.releaseByHandle', req, () => {
        if (!this.handles().has(req.handleId)) throw notFound(`resource does not exist: IPAMHandle(${req.handleId})`);
        const released = this.allocations.filter((a) => a.handleId === req.handleId).map((a) => a.address);
        this.allocations = this.allocations.filter((a) => a.handleId !== req.handleId);
        this.extraHandles.delete(req.handleId);
        return { released };
      }),
    ipsByHandle: (req) =>
      this.call('ipam.ipsByHandle', req, () => {
        if (!this.handles().has(req.handleId)) throw notFound(`resource does not exist: IPAMHandle(${req.handleId})`);
        return { ips: this.allocations.filter((a) => a.handleId === req.handleId).map((a) => a.address) };
      }),
    getAssignmentAttributes: (req) =>
      this.call('ipam.getAssignmentAttributes', req, () => {
        const a = this.allocations.find((x) => x.address === req.ip);
        if (!a) throw notFound(`resource does not exist: ${req.ip}`);
        return { address: a.address, block: a.block, handleId: a.handleId, attributes: a.attributes, sequenceNumber: a.sequenceNumber };
      }),
    claimAffinity: (req) => this.call('ipam.claimAffinity', req, notFaked),
    releaseAffinity: (req) => this.call('ipam.releaseAffinity', req, notFaked),
    releaseHostAffinities: (req) => this.call('ipam.releaseHostAffinities', req, notFaked),
    getUtilization: (req) => this.call('ipam.getUtilization', req, () => this.utilization),
    check: (req) => this.call('ipam.check', req, () => this.checkResponse),
    getIpamConfig: (req) => this.call('ipam.getIpamConfig', req, () => this.config),
    setIpamConfig: (req) =>
      this.call('ipam.setIpamConfig', req, () => {
        const next = { ...this.config, ...Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined)) } as IPAMConfig;
        if (next.maxBlocksPerHost > 0 && !next.strictAffinity) {
          throw new RpcError('config-invalid', 'MaxBlocksPerHost requires StrictAffinity to be enabled', false, GRPC.INVALID_ARGUMENT);
        }
        this.config = next;
        return next;
      }),
    listAllocations: (req) =>
      this.call('ipam.listAllocations', req, () => ({
        allocations: this.allocations.filter((a) => (req.node === '' || a.attributes['node'] === req.node) && a.handleId.startsWith(req.handlePrefix)),
      })),
  };

  readonly health: HealthApi = {
    check: (req) => this.call('health.check', req, () => ({ status: HealthCheckResponse_ServingStatus.SERVING })),
  };

  close(): void {
    this.closed = true;
  }
}

/** Output sinks in memory; `files` are what readInput finds ("-" is stdin). */
export function memoryIo(files: Record<string, string> = {}): CtlIo & { stdout: string; written: Map<string, string> } {
  const io = {
    stdout: '',
    written: new Map<string, string>(),
    out(text: string) {
      io.stdout += text;
    },
    async readInput(path: string) {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
    async writeFile(path: string, text: string) {
      io.written.set(path, text);
    },
  };
  return io;
}

export interface CtlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly written: Map<string, string>;
  readonly connectedTo: string[];
}

/** Runs atollctl against the fake, as the binary would run against an allocator. */
export async function runCtl(argv: readonly string[], fake: FakeAllocator, opts: { files?: Record<string, string>; env?: Record<string, string> } = {}): Promise<CtlRun> {
  const io = memoryIo(opts.files);
  let stderr = '';
  const connectedTo: string[] = [];
  const code = await runAtollctl(argv, {
    io,
    err: (text) => {
      stderr += text;
    },
    env: opts.env ?? {},
    connect: (address) => {
      connectedTo.push(address);
      return fake;
    },
  });
  return { code, stdout: io.stdout, stderr, written: io.written, connectedTo };
}

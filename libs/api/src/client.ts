import { ChannelCredentials, credentials, Metadata, type CallOptions, type Client, type ClientReadableStream, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { IpamClient, type RouteUpdate, type WatchRoutesRequest } from './generated/atoll/ipam/v1/ipam';
import { ExplainClient } from './generated/atoll/ipam/v1/explain';
import { HistoryClient } from './generated/atoll/ipam/v1/history';
import { MigrationClient } from './generated/atoll/ipam/v1/migration';
import { ResourcesClient } from './generated/atoll/ipam/v1/resources';
import { StaticIpsClient } from './generated/atoll/ipam/v1/static';
import { HealthClient } from './generated/grpc/health/v1/health';
import { fromServiceError } from './errors';

// Promise-returning clients for the allocator's services, each call bounded by a
// deadline so a dead allocator is a prompt, retryable error instead of a hang.

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Res>) => unknown;
// Generated methods are overloaded; inference reads the last overload, the 4-argument one.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyUnary = (request: any, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<any>) => unknown;

export interface CallOpts {
  /** Milliseconds until the call fails with a retryable 'unavailable' error. */
  timeoutMs?: number;
}

/** The unary methods of a generated grpc-js client, returning promises. */
// Unary methods return a ClientUnaryCall; close/getChannel/streams do not qualify.
type IsUnary<F> = F extends AnyUnary ? (F extends (...args: never[]) => infer R ? (R extends ClientReadableStream<unknown> ? false : R extends ClientUnaryCall ? true : false) : false) : false;

export type PromiseClient<C> = {
  [K in keyof C as IsUnary<C[K]> extends true ? K : never]: C[K] extends UnaryMethod<infer Req, infer Res>
    ? (request: Req, opts?: CallOpts) => Promise<Res>
    : never;
};

function promisify<C extends Client>(client: C, methods: readonly string[], defaultTimeoutMs: number): PromiseClient<C> {
  const out: Record<string, unknown> = {};
  for (const name of methods) {
    const method = (client as unknown as Record<string, UnaryMethod<unknown, unknown>>)[name]!.bind(client);
    out[name] = (request: unknown, opts: CallOpts = {}) =>
      new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + (opts.timeoutMs ?? defaultTimeoutMs));
        method(request, new Metadata(), { deadline }, (err, res) => (err ? reject(fromServiceError(err)) : resolve(res)));
      });
  }
  return out as PromiseClient<C>;
}

/** Largest answer a client accepts from the allocator. */
export const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

export interface AllocatorClientOptions {
  /** Channel credentials; insecure (loopback, tests) when omitted. */
  credentials?: ChannelCredentials;
  defaultTimeoutMs?: number;
}

export interface AllocatorClients {
  readonly ipam: PromiseClient<IpamClient>;
  readonly resources: PromiseClient<ResourcesClient>;
  readonly staticIps: PromiseClient<StaticIpsClient>;
  readonly history: PromiseClient<HistoryClient>;
  readonly explain: PromiseClient<ExplainClient>;
  readonly health: PromiseClient<HealthClient>;
  /** Raw IPAM records for `atollctl migrate` (admin only). */
  readonly migration: PromiseClient<MigrationClient>;
  /**
   * Opens the WatchRoutes stream. It has no deadline: HTTP/2 keepalive pings (every
   * STREAM_KEEPALIVE_MS) find an allocator that went away, and the stream then fails with
   * UNAVAILABLE. The caller cancels it (`cancel()`) when done.
   */
  watchRoutes(request?: WatchRoutesRequest): ClientReadableStream<RouteUpdate>;
  close(): void;
}

/** How often a long-lived stream's connection is pinged, and how long an answer may take. */
export const STREAM_KEEPALIVE_MS = 30_000;
const STREAM_KEEPALIVE_TIMEOUT_MS = 10_000;

function unaryMethodsOf(definition: Record<string, { requestStream: boolean; responseStream: boolean }>): string[] {
  return Object.entries(definition)
    .filter(([, d]) => !d.requestStream && !d.responseStream)
    .map(([name]) => name);
}

/** Clients for the allocator at `address` ("host:port" or "unix:/absolute/path"), sharing one channel per service. */
export function connectAllocator(address: string, opts: AllocatorClientOptions = {}): AllocatorClients {
  const creds = opts.credentials ?? credentials.createInsecure();
  const timeout = opts.defaultTimeoutMs ?? 10_000;
  // Large clusters answer ListAllocations/Check with tens of MiB; grpc-js's 4 MiB default
  // receive limit would make `atollctl ipam check` fail at scale.
  // Channelz (grpc-js's live call statistics, on by default) costs CPU on every call and
  // nothing here reads it.
  const channel = { 'grpc.max_receive_message_length': MAX_RESPONSE_BYTES, 'grpc.enable_channelz': 0 };
  const ipam = new IpamClient(address, creds, channel);
  const resources = new ResourcesClient(address, creds, channel);
  const health = new HealthClient(address, creds, channel);
  const staticIps = new StaticIpsClient(address, creds, channel);
  const history = new HistoryClient(address, creds, channel);
  const explain = new ExplainClient(address, creds, channel);
  const migration = new MigrationClient(address, creds, channel);
  // Streams get a channel of their own, with keepalive pings; unary calls have deadlines instead.
  let streams: IpamClient | undefined;
  const streamClient = () =>
    (streams ??= new IpamClient(address, creds, { ...channel, 'grpc.keepalive_time_ms': STREAM_KEEPALIVE_MS, 'grpc.keepalive_timeout_ms': STREAM_KEEPALIVE_TIMEOUT_MS }));
  return {
    ipam: promisify(ipam, unaryMethodsOf(IpamClient.service), timeout),
    resources: promisify(resources, unaryMethodsOf(ResourcesClient.service), timeout),
    health: promisify(health, unaryMethodsOf(HealthClient.service), timeout),
    staticIps: promisify(staticIps, unaryMethodsOf(StaticIpsClient.service), timeout),
    history: promisify(history, unaryMethodsOf(HistoryClient.service), timeout),
    explain: promisify(explain, unaryMethodsOf(ExplainClient.service), timeout),
    migration: promisify(migration, unaryMethodsOf(MigrationClient.service), timeout),
    watchRoutes: (request = {}) => streamClient().watchRoutes(request),
    close() {
      ipam.close();
      resources.close();
      health.close();
      staticIps.close();
      history.close();
      explain.close();
      migration.close();
      streams?.close();
    },
  };
}

import { ExponentialBackoff, handleWhen, noop, retry } from 'cockatiel';
import { isRecoverableError, type IOptions } from 'etcd3';
import { StoreInvalidRequestError } from '../errors';

export interface EtcdTlsOptions {
  /** CA bundle that signed the etcd server certificates; the system roots when omitted. */
  ca?: Buffer;
  /** Client certificate chain for mTLS; must come with `key`. */
  cert?: Buffer;
  /** Client private key for mTLS; must come with `cert`. */
  key?: Buffer;
}

export interface EtcdDatastoreOptions {
  /** Client URLs, e.g. `https://etcd-0:2379`. All http or all https. */
  endpoints: string[];
  /** Prefix added to every key (isolation, e.g. one per test). Keys in results exclude it. */
  namespace?: string;
  /** TLS material; requires https endpoints. */
  tls?: EtcdTlsOptions;
  /** Bound on every unary call, retries included; past it the call fails with StoreUnavailableError. */
  requestTimeoutMs?: number;
  /** Bound on list(), retries included (default 15 s, at least requestTimeoutMs): one answer of a whole prefix can be tens of MiB. */
  listTimeoutMs?: number;
  /**
   * Bound on one attempt of a unary call other than list() (default 2 s, at most
   * requestTimeoutMs). An attempt past it is given up and retried on a fresh connection:
   * that is how a call stuck on a connection that lost its answer follows the heal.
   */
  attemptTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
export const DEFAULT_LIST_TIMEOUT_MS = 15_000;
// etcd answers a healthy request in milliseconds and elects a new leader within about a
// second here; an attempt that waits 2 s is stuck on a broken connection far more often
// than it is slow, and retrying it costs one more request.
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 2000;

// gRPC keepalive on every channel: a ping after 10 s without traffic from etcd, and the
// connection closed when the ping is not answered within 5 s. This is what detects a
// dead connection under an open watch or lease stream, which have no deadline. etcd
// sends GOAWAY to clients that ping more often than its --grpc-keepalive-min-time (5 s by
// default), so the interval stays well above it; pings only while calls are open, which
// etcd's default enforcement also requires.
const KEEPALIVE_TIME_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5000;

// Retries of one call (cockatiel counts retries, not attempts); etcd3 sends successive
// attempts round the members in shuffled order. Decorrelated-jitter exponential backoff;
// the request deadline, not this count, is what bounds a call in time.
const MAX_RETRIES = 5;
const RETRY_INITIAL_DELAY_MS = 50;
const RETRY_MAX_DELAY_MS = 1000;
// Watch streams reconnect forever; this caps the pause between attempts so a watch resumes
// within a couple of seconds of etcd coming back (etcd3's default cap is 30 s).
const WATCH_RECONNECT_MAX_DELAY_MS = 2000;

/**
 * Turns Atoll's options into etcd3's, with the fault handling measured to work here
 * (see the environment notes): a global retry policy with exponential backoff, no
 * per-host circuit breaker (etcd3's default breaker plus short deadlines blacked out every
 * member for seconds), a deadline on unary calls only — never on watch or lease streams.
 */
export function buildEtcdClientOptions(options: EtcdDatastoreOptions): IOptions {
  const requestTimeoutMs = resolveRequestTimeout(options.requestTimeoutMs);
  validateEndpoints(options.endpoints, options.tls !== undefined);
  return {
    hosts: [...options.endpoints],
    ...(options.tls ? { credentials: buildCredentials(options.tls) } : {}),
    // Large lists (thousands of blocks) can exceed grpc-js's default 4 MiB receive limit.
    grpcOptions: {
      'grpc.max_receive_message_length': -1,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      'grpc.keepalive_permit_without_calls': 0,
      // etcd3 answers a failed attempt by closing that member's client and making a new
      // one; with grpc-js's process-wide subchannel pool the new client would get the
      // old, stuck connection back (a connection still "connecting" is only given up
      // after grpc-js's 20 s connect timeout). A pool per channel makes the new client
      // dial afresh.
      'grpc.use_local_subchannel_pool': 1,
    },
    // A fallback only: EtcdDatastore passes a per-operation deadline on every unary call.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
    faultHandling: {
      host: () => noop,
      global: retry(handleWhen(isRecoverableError), {
        maxAttempts: MAX_RETRIES,
        backoff: new ExponentialBackoff({ initialDelay: RETRY_INITIAL_DELAY_MS, maxDelay: RETRY_MAX_DELAY_MS }),
      }),
      // etcd3 wants a backoff *state* here (it calls next() on it before each reconnect).
      watchBackoff: new ExponentialBackoff({
        initialDelay: RETRY_INITIAL_DELAY_MS,
        maxDelay: WATCH_RECONNECT_MAX_DELAY_MS,
      }).next(),
    },
  };
}

/** The attempt bound for unary calls: the option, or the default, never above the request bound. */
export function resolveAttemptTimeout(attemptTimeoutMs: number | undefined, requestTimeoutMs: number): number {
  return Math.min(resolveRequestTimeout(attemptTimeoutMs, 'attemptTimeoutMs', DEFAULT_ATTEMPT_TIMEOUT_MS), requestTimeoutMs);
}

export function resolveRequestTimeout(requestTimeoutMs: number | undefined, name = 'requestTimeoutMs', fallback = DEFAULT_REQUEST_TIMEOUT_MS): number {
  if (requestTimeoutMs === undefined) return fallback;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new StoreInvalidRequestError(`${name} must be a positive number of milliseconds, got ${requestTimeoutMs}`);
  }
  return requestTimeoutMs;
}

function validateEndpoints(endpoints: string[], hasTls: boolean): void {
  if (endpoints.length === 0) throw new StoreInvalidRequestError('at least one etcd endpoint is required');
  const secure = endpoints.filter((e) => e.startsWith('https://')).length;
  if (secure > 0 && secure < endpoints.length) {
    throw new StoreInvalidRequestError('etcd endpoints must be all http:// or all https://');
  }
  if (hasTls && secure === 0) {
    throw new StoreInvalidRequestError('tls options were given but the etcd endpoints are http://; use https://');
  }
}

function buildCredentials(tls: EtcdTlsOptions): NonNullable<IOptions['credentials']> {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new StoreInvalidRequestError('tls.cert and tls.key must be given together (client certificate and its key)');
  }
  return {
    // etcd3 types the root certificate as required, but hands it to grpc's createSsl, which
    // falls back to the system roots when it is missing.
    rootCertificate: tls.ca as Buffer,
    ...(tls.key ? { privateKey: tls.key } : {}),
    ...(tls.cert ? { certChain: tls.cert } : {}),
  };
}

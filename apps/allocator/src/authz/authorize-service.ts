import { toStatus } from '@atoll/api';
import type { ServerUnaryCall, ServiceDefinition, ServiceError, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import { describeIdentity, DEVELOPMENT_ADMIN, identityOf, type Identity } from './identity';
import { BATCH_ITEM_METHOD, judgeBatch } from './batches';
import { authorize, type AllocationOwners, type ServiceName } from './policy';

// The one place authorization is applied: a wrapper around a service's whole handler
// table. Every call is checked against the table in policy.ts before its handler runs;
// a refusal never reaches the handler and is answered with a coded status (mapped once,
// in @atoll/api) and logged with who tried what.

export interface AuthorizationOptions {
  /** mTLS on: callers are identified by their client certificate. Off: everyone is admin. */
  readonly mtls: boolean;
  readonly owners: AllocationOwners;
  readonly log: Logger;
  /** Counts refusals (metrics), by method and code. */
  readonly onRefused?: (method: string, code: string) => void;
}

type AnyCall = ServerUnaryCall<unknown, unknown> & { emit?(event: 'error', err: unknown): boolean };
type AnyHandler = (call: AnyCall, callback?: sendUnaryData<unknown>) => void;

/** The caller's identity: from the verified client certificate, or admin when mTLS is off. */
export function callerIdentity(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>, mtls: boolean): Identity {
  if (!mtls) return DEVELOPMENT_ADMIN;
  // grpc-js (≥ 1.10) gives the peer certificate only when the handshake verified it.
  const cert: PeerCertificate | undefined = call.getAuthContext?.()?.sslPeerCertificate;
  return identityOf(cert);
}

/** Wraps every handler of `service` with the authorization check. */
export function authorizeService<T extends UntypedServiceImplementation>(service: ServiceName, definition: ServiceDefinition, handlers: T, opts: AuthorizationOptions): T {
  const out: Record<string, AnyHandler> = {};
  for (const [method, handler] of Object.entries(handlers) as [string, AnyHandler][]) {
    const def = definition[method];
    const rpc = def?.path.split('/').pop() ?? method;
    const unary = def ? !def.requestStream && !def.responseStream : true;
    const itemMethod = BATCH_ITEM_METHOD[method];
    if (unary && itemMethod !== undefined) {
      out[method] = (call, callback) => authorizeBatch(service, method, itemMethod, handler, call, callback, opts);
      continue;
    }
    out[method] = (call, callback) => {
      const identity = callerIdentity(call, opts.mtls);
      // A server stream has one request, judged as a unary call's is. Client streams carry no
      // single request to judge: no node rule matches them, so only admins may open them.
      const oneRequest = !def?.requestStream;
      const judged = oneRequest ? { service, method, rpc, request: call.request } : { service, method: `${method} (stream)`, rpc, request: undefined };
      authorize(identity, judged, opts.owners).then(
        () => handler(call, callback),
        (err: unknown) => {
          noteRefusal(opts, method, identity, err);
          const status = toStatus(err) as ServiceError;
          if (callback) callback(status, null);
          else call.emit?.('error', status);
        },
      );
    };
  }
  return out as unknown as T;
}

function noteRefusal(opts: AuthorizationOptions, method: string, identity: Identity, err: unknown): void {
  const code = (err as { code?: string }).code ?? 'internal';
  opts.onRefused?.(method, code);
  if (code === 'permission-denied' || code === 'unauthenticated') {
    opts.log.warn({ method, identity: describeIdentity(identity), code, reason: (err as Error).message }, 'request refused by authorization');
  } else if (code === 'internal' || code === 'unavailable') {
    opts.log.error({ err, method, identity: describeIdentity(identity) }, 'authorization could not be decided');
  }
}

/** A batch: each request judged by its single method's rule; the handler sees only the allowed ones. */
function authorizeBatch(
  service: ServiceName,
  method: string,
  itemMethod: string,
  handler: AnyHandler,
  call: AnyCall,
  callback: sendUnaryData<unknown> | undefined,
  opts: AuthorizationOptions,
): void {
  const identity = callerIdentity(call, opts.mtls);
  const rpc = itemMethod.charAt(0).toUpperCase() + itemMethod.slice(1);
  const judge = (item: unknown) =>
    authorize(identity, { service, method: itemMethod, rpc, request: item }, opts.owners).catch((err: unknown) => {
      noteRefusal(opts, itemMethod, identity, err);
      throw err;
    });
  judgeBatch(call.request, judge)
    .then((judged) => {
      // The handler reads the request from the call: give it a view holding only the allowed requests.
      const view = Object.create(call, { request: { value: { ...(call.request as object), requests: judged.allowed } } }) as AnyCall;
      handler(view, (err, res) => callback?.(err, err ? res : judged.merge(res as { outcomes: unknown[] })));
    })
    .catch((err: unknown) => {
      opts.log.error({ err, method }, 'batch could not be served');
      callback?.(toStatus(err) as ServiceError, null);
    });
}

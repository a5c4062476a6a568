import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { CallError } from './generated/atoll/ipam/v1/ipam';

// How an Atoll error crosses the wire: a gRPC status code chosen from the error's stable
// code, the human message (Calico's text) as the status details, and the stable code
// and retryability in trailing metadata. Mapped here once for every service.

export const ERROR_CODE_METADATA = 'atoll-error-code';
export const RETRYABLE_METADATA = 'atoll-retryable';

/** The shape of an engine error (IpamError) as the transport needs it. */
export interface CodedError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

const STATUS_BY_CODE: Readonly<Record<string, status>> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'config-invalid': status.INVALID_ARGUMENT,
  'not-in-pool': status.FAILED_PRECONDITION,
  'use-not-allowed': status.FAILED_PRECONDITION,
  'no-qualified-pool': status.FAILED_PRECONDITION,
  'no-pools-for-node': status.FAILED_PRECONDITION,
  'pool-not-found': status.FAILED_PRECONDITION,
  'affinity-mismatch': status.FAILED_PRECONDITION,
  'block-not-empty': status.FAILED_PRECONDITION,
  'sequence-mismatch': status.FAILED_PRECONDITION,
  'in-cooldown': status.FAILED_PRECONDITION,
  'already-assigned': status.ALREADY_EXISTS,
  'already-exists': status.ALREADY_EXISTS,
  conflict: status.ABORTED,
  'not-found': status.NOT_FOUND,
  'node-not-found': status.NOT_FOUND,
  'block-limit': status.RESOURCE_EXHAUSTED,
  'no-free-block': status.RESOURCE_EXHAUSTED,
  'pool-exhausted': status.RESOURCE_EXHAUSTED,
  'max-retries': status.ABORTED,
  unavailable: status.UNAVAILABLE,
  'permission-denied': status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  internal: status.INTERNAL,
};

function isCoded(err: unknown): err is CodedError {
  return err instanceof Error && typeof (err as Partial<CodedError>).code === 'string' && typeof (err as Partial<CodedError>).retryable === 'boolean';
}

/** A status for any error a handler threw; unknown errors become INTERNAL without their details. */
export function toStatus(err: unknown): Partial<StatusObject> {
  const metadata = new Metadata();
  if (isCoded(err)) {
    metadata.set(ERROR_CODE_METADATA, err.code);
    metadata.set(RETRYABLE_METADATA, String(err.retryable));
    return { code: STATUS_BY_CODE[err.code] ?? status.UNKNOWN, details: err.message, metadata };
  }
  metadata.set(ERROR_CODE_METADATA, 'internal');
  metadata.set(RETRYABLE_METADATA, 'false');
  return { code: status.INTERNAL, details: 'internal error (see the allocator log)', metadata };
}

/** One request's error inside a batch answer: the same code, text and retryability a status carries. */
export function toCallError(err: unknown): CallError {
  if (isCoded(err)) return { code: err.code, message: err.message, retryable: err.retryable };
  return { code: 'internal', message: 'internal error (see the allocator log)', retryable: false };
}

/** The client side of toCallError: the error the same request would have failed with alone. */
export function fromCallError(e: CallError): RpcError {
  return new RpcError(e.code, e.message, e.retryable, STATUS_BY_CODE[e.code] ?? status.UNKNOWN);
}

/** An error a client received: the server's stable code, or one derived from the transport. */
export class RpcError extends Error implements CodedError {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly grpcCode: status,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

// RESOURCE_EXHAUSTED without an Atoll code is grpc-js refusing an oversized message: the
// same request can never succeed, so it is an invalid argument, not a reason to retry.
// INTERNAL without an Atoll code is grpc-js failing the connection under the call ("Received
// RST_STREAM with code 2 triggered by internal client error: Session closed with error code
// 2" when a link that lost bytes heals): the call's outcome is unknown, and another try on
// a fresh connection is what works — as for UNAVAILABLE. (Every error an Atoll handler
// raises carries its Atoll code, so this is never a refusal by the allocator.)
const TRANSPORT_RETRYABLE = new Set<status>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL]);

export function fromServiceError(err: ServiceError): RpcError {
  const code = err.metadata?.get(ERROR_CODE_METADATA)[0];
  const retryable = err.metadata?.get(RETRYABLE_METADATA)[0];
  if (typeof code === 'string') {
    return new RpcError(code, err.details, retryable === 'true', err.code);
  }
  // No Atoll code: the call never reached an Atoll handler (connection, deadline, TLS).
  const transient = TRANSPORT_RETRYABLE.has(err.code);
  const derived =
    err.code === status.UNAUTHENTICATED
      ? 'unauthenticated'
      : err.code === status.PERMISSION_DENIED
        ? 'permission-denied'
        : err.code === status.RESOURCE_EXHAUSTED
          ? 'invalid-argument'
          : transient
            ? 'unavailable'
            : 'internal';
  return new RpcError(derived, err.details || err.message, transient, err.code);
}

import { ClientClosedError, isRecoverableError } from 'etcd3';
import { StoreClosedError, StoreError, StoreUnavailableError } from '../errors';

/**
 * Maps what etcd3 throws to the store's typed errors, by class only: etcd3 has already
 * turned the gRPC status into an error class and marked the transient ones (unavailable,
 * deadline exceeded, no leader, cancelled, internal, resource exhausted, aborted, unknown)
 * as recoverable. Messages are never inspected.
 */
export function toStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof ClientClosedError) return new StoreClosedError();
  if (err instanceof Error && isRecoverableError(err)) {
    return new StoreUnavailableError(`etcd ${operation} failed: ${err.message}`, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError('internal', `etcd ${operation} failed: ${message}`, { retryable: false, cause: err });
}

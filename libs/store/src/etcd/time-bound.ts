import { StoreUnavailableError } from '../errors';

/**
 * Settles with `work`, or rejects with StoreUnavailableError after `timeoutMs`. The gRPC
 * deadline already stops each attempt, but etcd3's retry policy may be sleeping between
 * attempts when it passes; this guarantees the caller hears back within the bound.
 */
export function withTimeBound<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`etcd did not complete ${operation} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

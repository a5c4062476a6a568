import { StoreConflictError } from '@atoll/store';
import { IpamError, Messages } from './errors';

// The one bounded retry loop of the engine. Only conflicts are retried — a concurrent
// writer changed something we read — with jittered exponential backoff so that writers
// fighting over one key spread out instead of colliding again in lock step.

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 40, baseDelayMs: 1, maxDelayMs: 100 };

/** Thrown inside an attempt to ask for another one (a stale read of our own, not a store conflict). */
export class RetryableConflict extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RetryableConflict';
  }
}

function isConflict(err: unknown): boolean {
  return err instanceof StoreConflictError || err instanceof RetryableConflict;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RetryStats {
  conflicts: number;
}

/**
 * Runs `attempt` until it succeeds, throws something other than a conflict, or the
 * attempts run out — then IpamError('max-retries'), which callers report as "try later".
 */
export async function retryOnConflict<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  stats?: RetryStats,
): Promise<T> {
  let lastConflict: unknown;
  for (let n = 1; n <= policy.maxAttempts; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isConflict(err)) throw err;
      lastConflict = err;
      if (stats) stats.conflicts++;
      if (n < policy.maxAttempts) {
        const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(n - 1, 16));
        await sleep(Math.random() * cap);
      }
    }
  }
  throw new IpamError('max-retries', Messages.maxRetries, { cause: lastConflict });
}

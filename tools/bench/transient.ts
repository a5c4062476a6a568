// A call the system under test refuses as transient ("unavailable", deadline exceeded,
// CNI code 11 "try again later") is retried, as a node agent or kubelet would retry it,
// and counted: the failure is part of the result, not a crash of the benchmark.

export interface Failures {
  /** Calls that failed and were retried (or gave up). */
  count: number;
  /** Calls that still failed after the last attempt. */
  gaveUp: number;
  byCode: Record<string, number>;
  firstMessage?: string;
}

export const noFailures = (): Failures => ({ count: 0, gaveUp: 0, byCode: {} });

/** Stable code of an error from the allocator client (RpcError), or 'error'. */
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'error';
}

export function isTransient(err: unknown): boolean {
  return (err as { retryable?: unknown }).retryable === true;
}

/** Runs `fn`; on a transient error records it in `failures` and tries again after `pauseMs`, up to `attempts` times. */
export async function retryTransient<T>(failures: Failures, fn: () => Promise<T>, attempts = 5, pauseMs = 200): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err)) throw err;
      failures.count++;
      failures.byCode[codeOf(err)] = (failures.byCode[codeOf(err)] ?? 0) + 1;
      failures.firstMessage ??= (err as Error).message;
      if (attempt >= attempts) {
        failures.gaveUp++;
        throw err;
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

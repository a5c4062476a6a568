/**
 * The revision up to which one watched prefix has been applied to a cache, and the callers
 * waiting for it to get somewhere. It only moves forward.
 */
export class AppliedRevision {
  private current = 0n;
  private readonly waiters = new Set<{ readonly revision: bigint; readonly resolve: (reached: boolean) => void }>();

  get value(): bigint {
    return this.current;
  }

  advance(revision: bigint): void {
    if (revision <= this.current) return;
    this.current = revision;
    for (const waiter of this.waiters) {
      if (waiter.revision <= revision) {
        this.waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }

  /** Resolves true once `revision` is applied, false when `timeoutMs` pass first. */
  reach(revision: bigint, timeoutMs: number): Promise<boolean> {
    if (this.current >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        revision,
        resolve: (reached: boolean) => {
          clearTimeout(timer);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Ends every wait now, as not reached (the cache is closing). */
  abandonAll(): void {
    for (const waiter of this.waiters) waiter.resolve(false);
    this.waiters.clear();
  }
}

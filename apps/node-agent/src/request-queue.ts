/**
 * Runs at most `concurrency` tasks at once, first come first served. A task's time limit
 * starts when it starts, not when it was queued, so a burst of pods on one node does not
 * use up the later pods' budgets while they wait (Calico #11824).
 */
export class RequestQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly concurrency: number) {}

  async run<T>(timeoutMs: number, onTimeout: () => Error, task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        task(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(onTimeout()), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.running--;
      this.waiting.shift()?.();
    }
  }

  get depth(): number {
    return this.waiting.length;
  }
}

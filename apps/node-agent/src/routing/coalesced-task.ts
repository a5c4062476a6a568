// Runs an async task on request, never two at once and at most once per `minIntervalMs`:
// requests that arrive while it runs or waits are merged into the next run, and a request
// for a full run is never lost in a merge. A burst of route updates costs one reconcile.

export class CoalescedTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private requested = false;
  private fullRequested = false;
  private lastStart = 0;
  private stopped = false;

  constructor(
    private readonly task: (full: boolean) => Promise<void>,
    private readonly minIntervalMs: number,
  ) {}

  request(full = false): void {
    if (this.stopped) return;
    this.requested = true;
    this.fullRequested ||= full;
    this.schedule();
  }

  /** No more runs; resolves when the one in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.running !== undefined || !this.requested || this.stopped) return;
    const wait = Math.max(0, this.lastStart + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
  }

  private async run(): Promise<void> {
    const full = this.fullRequested;
    this.requested = false;
    this.fullRequested = false;
    this.lastStart = Date.now();
    this.running = this.task(full).catch(() => undefined);
    await this.running;
    this.running = undefined;
    this.schedule();
  }
}

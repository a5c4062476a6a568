// Requests that share a key run one batch at a time, so that they never fight each other
// over the same records; requests under different keys never wait for each other. The
// engine keys allocations by host (they share the host's blocks) and releases by block.
// The first batch of an idle key starts once the current tick's work is done, so requests
// that arrive together (one AutoAssignBatch call fans out into several engine calls in the
// same tick) form one batch; whatever queues up while a batch runs forms the next one,
// which the engine serves with one transaction — under load, batches grow and
// transactions per request fall.

interface Pending<Req, Res> {
  readonly req: Req;
  readonly weight: number;
  readonly resolve: (r: Res) => void;
  readonly reject: (e: unknown) => void;
}

export type BatchHandler<Req, Res> = (key: string, reqs: readonly Req[]) => Promise<(Res | Error)[]>;

export class KeyedQueue<Req, Res> {
  private readonly queues = new Map<string, Pending<Req, Res>[]>();
  private readonly running = new Set<string>();

  /**
   * `maxWeight` bounds a batch: requests are taken in order while their weights (1 unless
   * given) fit, and a batch always takes at least one request.
   */
  constructor(
    private readonly handler: BatchHandler<Req, Res>,
    private readonly maxWeight: number,
  ) {}

  submit(key: string, req: Req, weight = 1): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const q = this.queues.get(key) ?? [];
      q.push({ req, weight, resolve, reject });
      this.queues.set(key, q);
      if (!this.running.has(key)) {
        this.running.add(key);
        // nextTick runs after the promise jobs already queued, so requests of this same
        // tick still join; no event-loop turn is spent waiting.
        process.nextTick(() => void this.drain(key));
      }
    });
  }

  private async drain(key: string): Promise<void> {
    try {
      for (;;) {
        const q = this.queues.get(key);
        if (!q || q.length === 0) break;
        const batch = q.splice(0, this.batchLength(q));
        try {
          const results = await this.handler(
            key,
            batch.map((p) => p.req),
          );
          batch.forEach((p, i) => {
            const r = results[i];
            if (r instanceof Error) p.reject(r);
            else p.resolve(r as Res);
          });
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.queues.delete(key);
      this.running.delete(key);
    }
  }

  /** How many of the queued requests form the next batch. */
  private batchLength(q: readonly Pending<Req, Res>[]): number {
    let n = 1;
    let weight = q[0]!.weight;
    while (n < q.length && weight + q[n]!.weight <= this.maxWeight) weight += q[n++]!.weight;
    return n;
  }
}

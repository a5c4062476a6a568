// Requests for one host run one batch at a time, so that they never fight each other over
// the host's blocks; requests for different hosts never wait for each other. Whatever
// queued up while a batch ran forms the next batch, which the engine serves with one
// transaction — under load, batches grow and transactions per allocation fall.

interface Pending<Req, Res> {
  readonly req: Req;
  readonly resolve: (r: Res) => void;
  readonly reject: (e: unknown) => void;
}

export type BatchHandler<Req, Res> = (host: string, reqs: readonly Req[]) => Promise<(Res | Error)[]>;

export class HostQueue<Req, Res> {
  private readonly queues = new Map<string, Pending<Req, Res>[]>();
  private readonly running = new Set<string>();

  constructor(
    private readonly handler: BatchHandler<Req, Res>,
    private readonly maxBatch: number,
  ) {}

  submit(host: string, req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const q = this.queues.get(host) ?? [];
      q.push({ req, resolve, reject });
      this.queues.set(host, q);
      if (!this.running.has(host)) void this.drain(host);
    });
  }

  private async drain(host: string): Promise<void> {
    this.running.add(host);
    try {
      for (;;) {
        const q = this.queues.get(host);
        if (!q || q.length === 0) break;
        const batch = q.splice(0, this.maxBatch);
        try {
          const results = await this.handler(
            host,
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
      this.queues.delete(host);
      this.running.delete(host);
    }
  }
}

import { status } from '@grpc/grpc-js';
import type { CallOpts } from './client';
import { RpcError } from './errors';

// One call in flight at a time; whatever is asked meanwhile waits and goes out as ONE
// batch call when the flight lands. Unloaded, a request leaves at once as a plain call
// (no added latency); under load, round trips per request fall as batches grow — the
// same shape as the allocator's per-host queue, one hop earlier. Each request keeps its
// own deadline: one that passes while queued fails without being sent.

/** Outcome of one request of a batch: its answer, or the error it would have failed with alone. */
export type Settled<Res> = { readonly ok: Res } | { readonly error: Error };

export interface CoalescingOptions<Req, Res> {
  /** The plain call, for a request that leaves alone. */
  readonly single: (req: Req, opts: CallOpts) => Promise<Res>;
  /** The batch call: one outcome per request, in order. */
  readonly batch: (reqs: Req[], opts: CallOpts) => Promise<Settled<Res>[]>;
  /** Largest batch sent (default 64). */
  readonly maxBatch?: number;
  /** Deadline of a request whose caller gave none (the client's default). */
  readonly defaultTimeoutMs: number;
}

interface Waiting<Req, Res> {
  readonly req: Req;
  readonly deadline: number;
  readonly resolve: (r: Res) => void;
  readonly reject: (e: unknown) => void;
}

const DEFAULT_MAX_BATCH = 64;

export class CoalescingCalls<Req, Res> {
  private readonly queue: Waiting<Req, Res>[] = [];
  private inFlight = false;
  /** Set when the server does not know the batch call (an older allocator): send one by one from then on. */
  private batchUnsupported = false;

  constructor(private readonly opts: CoalescingOptions<Req, Res>) {}

  call(req: Req, opts: CallOpts = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, deadline: Date.now() + (opts.timeoutMs ?? this.opts.defaultTimeoutMs), resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    try {
      for (;;) {
        const batch = this.takeLive();
        if (batch.length === 0) return;
        await this.send(batch);
      }
    } finally {
      this.inFlight = false;
    }
  }

  /** Up to maxBatch queued requests whose deadline has not passed; the expired ones fail unsent. */
  private takeLive(): Waiting<Req, Res>[] {
    const now = Date.now();
    const out: Waiting<Req, Res>[] = [];
    while (this.queue.length > 0 && out.length < (this.opts.maxBatch ?? DEFAULT_MAX_BATCH)) {
      const w = this.queue.shift()!;
      if (w.deadline <= now) w.reject(new RpcError('unavailable', 'deadline exceeded while waiting to be sent to the allocator', true, status.DEADLINE_EXCEEDED));
      else out.push(w);
    }
    return out;
  }

  private async send(batch: Waiting<Req, Res>[]): Promise<void> {
    // The call ends when its least patient request gives up, so that the allocator sees
    // the call cancelled and undoes what it assigned for it. Were the call to live on for
    // more patient requests, the allocator would complete the given-up request's work
    // and answer it into the void: an address held with nobody to use it until the DEL.
    // The more patient requests then fail early, with the same retryable error.
    const timeoutMs = Math.min(...batch.map((w) => w.deadline)) - Date.now();
    const timers = batch.map((w) =>
      setTimeout(() => w.reject(new RpcError('unavailable', 'deadline exceeded', true, status.DEADLINE_EXCEEDED)), w.deadline - Date.now()),
    );
    try {
      if (batch.length === 1 || this.batchUnsupported) {
        await Promise.all(batch.map((w) => this.opts.single(w.req, { timeoutMs: w.deadline - Date.now() }).then(w.resolve, w.reject)));
        return;
      }
      let outcomes: Settled<Res>[];
      try {
        outcomes = await this.opts.batch(
          batch.map((w) => w.req),
          { timeoutMs },
        );
      } catch (err) {
        if (err instanceof RpcError && err.grpcCode === status.UNIMPLEMENTED) {
          this.batchUnsupported = true;
          await Promise.all(batch.map((w) => this.opts.single(w.req, { timeoutMs: w.deadline - Date.now() }).then(w.resolve, w.reject)));
          return;
        }
        for (const w of batch) w.reject(err);
        return;
      }
      batch.forEach((w, i) => {
        const o = outcomes[i];
        if (o === undefined) w.reject(new RpcError('internal', `the allocator answered ${outcomes.length} of ${batch.length} batched requests`, false, status.INTERNAL));
        else if ('ok' in o) w.resolve(o.ok);
        else w.reject(o.error);
      });
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  }
}

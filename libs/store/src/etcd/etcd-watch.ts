import type { IWatchResponse, Namespace, Watcher } from 'etcd3';
import type { WatchEvent, WatchHandle } from '../datastore';
import { StoreError, StoreUnavailableError } from '../errors';
import { WatchDelivery } from '../watch-delivery';
import { toRevision } from './etcd-kv';

export interface EtcdWatchRequest {
  ns: Namespace;
  prefix: string;
  fromRevision: bigint;
  onEvent: (e: WatchEvent) => void;
  onError: (err: StoreError) => void;
  /** How long to wait for etcd to accept the watch, and for it to confirm a cancel. */
  timeoutMs: number;
  /**
   * etcd cancelled the watch. etcd3 reports that as an EtcdError without the gRPC status
   * or the compact revision, so the datastore probes etcd to say why (compaction or not).
   */
  explainCancel: (resumeRevision: bigint, cause: unknown) => Promise<StoreError>;
}

/**
 * Starts an etcd3 watcher and resolves once etcd has accepted it. Stream failures are not
 * reported: etcd3 reconnects with backoff and resumes, and this wrapper makes the resume
 * lossless (see trackResumeRevision). Only a cancellation by etcd ends the watch, through
 * onError.
 */
export async function startEtcdWatch(request: EtcdWatchRequest): Promise<EtcdWatch> {
  const watcher = request.ns.watch().prefix(request.prefix).startRevision(request.fromRevision.toString()).watcher();
  const watch = new EtcdWatch(watcher, request);
  await watch.connected();
  return watch;
}

export class EtcdWatch implements WatchHandle {
  private readonly delivery: WatchDelivery;
  // Every event with a revision up to here has been delivered (or was before fromRevision).
  private delivered: bigint;
  private phase: 'connecting' | 'open' | 'cancelled-by-etcd' | 'closed' = 'connecting';
  private settleConnect?: (err?: unknown) => void;

  constructor(
    private readonly watcher: Watcher,
    private readonly request: EtcdWatchRequest,
  ) {
    this.delivery = new WatchDelivery(request.onEvent, request.onError);
    this.delivered = request.fromRevision - 1n;
    watcher.on('data', (response) => this.onData(response));
    watcher.on('disconnected', () => this.trackResumeRevision());
    // Always listen for 'error': an EventEmitter 'error' without a listener throws inside
    // etcd3's stream handler.
    watcher.on('error', (err) => this.onCancelledByEtcd(err));
    watcher.once('connected', () => this.settleConnect?.());
  }

  connected(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.settleConnect?.(timeoutError(this.request.timeoutMs)), this.request.timeoutMs);
      this.settleConnect = (err?: unknown) => {
        clearTimeout(timer);
        this.settleConnect = undefined;
        if (err === undefined) {
          this.phase = 'open';
          resolve();
          return;
        }
        // Detach the never-confirmed watcher so etcd3 stops trying to establish it.
        this.phase = 'closed';
        this.delivery.end();
        this.watcher.cancel().catch(() => undefined);
        reject(err);
      };
    });
  }

  async close(): Promise<void> {
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    this.delivery.end();
    // A watcher etcd already cancelled has no id left to cancel (etcd would never answer).
    if (wasOpen) await settleWithin(this.watcher.cancel(), this.request.timeoutMs);
  }

  private onData(response: IWatchResponse): void {
    if (response.events.length === 0) {
      // A progress notification: etcd sends it only to a watcher that is caught up.
      this.advance(toRevision(response.header.revision));
      return;
    }
    const before = this.delivered;
    for (const ev of response.events) {
      const revision = toRevision(ev.kv.mod_revision);
      // Skip what a resumed stream may send again. etcd never splits one revision's events
      // across responses, so comparing revisions is enough.
      if (revision <= before) continue;
      // etcd3's own 'data' listener, registered first (in Watcher's constructor), has
      // already removed the namespace from ev.kv.key.
      const key = ev.kv.key.toString('utf8');
      this.delivery.deliver(
        ev.type === 'Put' ? { type: 'put', key, value: ev.kv.value.toString('utf8'), revision } : { type: 'delete', key, revision },
      );
      this.advance(revision);
    }
  }

  /**
   * etcd3 resumes a dropped stream from the response header's revision + 1. While etcd is
   * replaying history, that header holds the store's *current* revision, not that of the
   * last event sent, so a drop mid-replay would silently skip events. Resume from the last
   * revision actually delivered instead (the request object is what etcd3 re-sends).
   */
  private trackResumeRevision(): void {
    this.watcher.request.start_revision = (this.delivered + 1n).toString();
  }

  private onCancelledByEtcd(err: unknown): void {
    if (this.phase === 'connecting') {
      this.settleConnect?.(err);
      return;
    }
    if (this.phase !== 'open') return;
    this.phase = 'cancelled-by-etcd';
    const resumeRevision = this.delivered + 1n;
    void this.request.explainCancel(resumeRevision, err).then((storeError) => this.delivery.fail(storeError));
  }

  private advance(revision: bigint): void {
    if (revision > this.delivered) this.delivered = revision;
  }
}

function timeoutError(timeoutMs: number): StoreUnavailableError {
  return new StoreUnavailableError(`etcd did not accept the watch within ${timeoutMs} ms`);
}

/** Waits for `work` but never longer than `timeoutMs`; a cancel etcd never confirms must not hang close(). */
async function settleWithin(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

import type { LeasingDatastore, WatchHandle } from '../datastore';
import { StoreConflictError, StoreError, StoreInvalidRequestError, StoreLeaseNotFoundError } from '../errors';
import { LeaseKeeper, monotonicMs } from './lease-keeper';

// Leader election on the port alone: the leader is whoever created the election key, with
// a create-if-absent commit that attaches the key to the candidate's lease. The key lives
// as long as the lease; when it goes (expiry, revoke, delete) the waiting candidates race
// to create it again and exactly one commit wins. Every new leader's key is created at a
// higher revision than the previous one's, which makes `revision` a fencing token.

export interface CampaignOptions {
  /** The election key, e.g. `/calico/atoll/gc-leader`. */
  readonly key: string;
  /** Stored as the key's value; must be unique per campaigner (e.g. host/pid/random). */
  readonly candidateId: string;
  /** Lease TTL: how long a dead leader blocks the others at most. Whole seconds >= 1. */
  readonly ttlSeconds: number;
  /** Stops campaigning: campaign() then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Transient failures while campaigning or leading (etcd unreachable, …), for logs. */
  readonly onError?: (err: unknown) => void;
}

export interface Leadership {
  readonly key: string;
  readonly candidateId: string;
  /** The revision that created this leader's key: higher for every later leader. */
  readonly revision: bigint;
  readonly leaseId: bigint;
  /**
   * True until leadership ends: the lease could not be renewed in time or etcd says it is
   * gone, the key was deleted or taken over, or resign(). Never true again once false.
   */
  readonly isLeader: boolean;
  /** Runs `cb` once when leadership ends (at once if it already has), with the reason. */
  onLost(cb: (reason: string) => void): void;
  /** Ends leadership and revokes the lease, deleting the key so another candidate takes over at once. */
  resign(): Promise<void>;
}

export interface LeaderInfo {
  readonly candidateId: string;
  readonly revision: bigint;
}

const RETRY_DELAY_MS = 500;

/** The current holder of the election key, if any. */
export async function currentLeader(store: LeasingDatastore, key: string): Promise<LeaderInfo | undefined> {
  const kv = await store.get(key);
  return kv && { candidateId: kv.value, revision: kv.revision };
}

/**
 * Campaigns until elected and resolves to the leadership. While another candidate holds
 * the key this waits (a watch on the key, and a re-check every TTL in case a watch missed
 * something); transient store errors are reported to `onError` and retried.
 */
export async function campaign(store: LeasingDatastore, opts: CampaignOptions): Promise<Leadership> {
  if (!opts.key) throw new StoreInvalidRequestError('the election key must be a non-empty string');
  if (!opts.candidateId) throw new StoreInvalidRequestError('the candidate ID must be a non-empty string');
  const onError = opts.onError ?? (() => undefined);
  for (;;) {
    opts.signal?.throwIfAborted();
    let keeper: LeaseKeeper;
    try {
      const sentAt = monotonicMs();
      const grant = await store.grantLease(opts.ttlSeconds);
      keeper = new LeaseKeeper(store, grant, sentAt, onError);
    } catch (err) {
      if (!isTransient(err)) throw err;
      onError(err);
      await sleep(RETRY_DELAY_MS, opts.signal);
      continue;
    }
    let revision: bigint | undefined;
    try {
      revision = await runForKey(store, opts, keeper, onError);
    } catch (err) {
      keeper.stop();
      await store.revokeLease(keeper.id).catch(() => undefined);
      throw err;
    }
    if (revision !== undefined) return ElectedLeadership.start(store, opts, keeper, revision, onError);
    // The lease was lost while waiting: start over with a new one.
    keeper.stop();
    await store.revokeLease(keeper.id).catch(() => undefined);
  }
}

/** Tries to create the key until it succeeds (its revision) or the lease is lost (undefined). */
async function runForKey(store: LeasingDatastore, opts: CampaignOptions, keeper: LeaseKeeper, onError: (err: unknown) => void): Promise<bigint | undefined> {
  // Set when a commit's outcome is unknown: it may have applied, and a later conflict may
  // then show our own key (etcd3 re-sends a transaction whose answer was lost).
  let mayHaveWritten = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    if (!keeper.alive) return undefined;
    try {
      const { revision } = await store.commit({
        preconditions: [{ key: opts.key, absent: true }],
        mutations: [{ op: 'put', key: opts.key, value: opts.candidateId, lease: keeper.id }],
      });
      return revision;
    } catch (err) {
      if (err instanceof StoreConflictError) {
        const holder = err.current.get(opts.key);
        if (holder && holder.value === opts.candidateId && mayHaveWritten) return holder.revision;
        mayHaveWritten = false;
        if (holder) await waitForKeyChange(store, opts, keeper, holder.revision, onError);
        continue;
      }
      if (err instanceof StoreLeaseNotFoundError) return undefined;
      if (!isTransient(err)) throw err;
      mayHaveWritten = true;
      onError(err);
      await sleep(RETRY_DELAY_MS, opts.signal);
    }
  }
}

/**
 * Resolves when the key may have changed since `seenRevision` (deleted or rewritten), when
 * the lease is lost, after one TTL (a periodic re-check), or on a watch failure; rejects
 * when aborted.
 */
async function waitForKeyChange(
  store: LeasingDatastore,
  opts: CampaignOptions,
  keeper: LeaseKeeper,
  seenRevision: bigint,
  onError: (err: unknown) => void,
): Promise<void> {
  let watch: WatchHandle | undefined;
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const wake = () => resolve();
      timer = setTimeout(wake, opts.ttlSeconds * 1000);
      unsubscribe = keeper.onLost(wake);
      onAbort = () => reject(opts.signal!.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) onAbort();
      // List first (a current revision, so the watch cannot meet compacted history), then
      // watch from just after it.
      store
        .list(opts.key)
        .then(async ({ items, revision }) => {
          const now = items.find((kv) => kv.key === opts.key);
          if (!now || now.revision !== seenRevision) return wake();
          const w = await store.watch(
            opts.key,
            revision + 1n,
            (e) => e.key === opts.key && wake(),
            () => wake(),
          );
          // The wait may have ended while the watch was being set up.
          if (done) await w.close();
          else watch = w;
        })
        .catch((err: unknown) => {
          onError(err);
          setTimeout(wake, RETRY_DELAY_MS);
        });
    });
  } finally {
    done = true;
    clearTimeout(timer);
    unsubscribe?.();
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    await watch?.close().catch(() => undefined);
  }
}

/** A won election: keeps the lease alive and watches the key until leadership ends. */
class ElectedLeadership implements Leadership {
  private lostReason: string | undefined;
  private readonly callbacks: ((reason: string) => void)[] = [];
  private watch: WatchHandle | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly store: LeasingDatastore,
    private readonly opts: CampaignOptions,
    private readonly keeper: LeaseKeeper,
    readonly revision: bigint,
    private readonly onError: (err: unknown) => void,
  ) {}

  static start(store: LeasingDatastore, opts: CampaignOptions, keeper: LeaseKeeper, revision: bigint, onError: (err: unknown) => void): ElectedLeadership {
    const l = new ElectedLeadership(store, opts, keeper, revision, onError);
    keeper.onLost((reason) => l.lose(reason));
    void l.watchKey();
    return l;
  }

  get key(): string {
    return this.opts.key;
  }

  get candidateId(): string {
    return this.opts.candidateId;
  }

  get leaseId(): bigint {
    return this.keeper.id;
  }

  get isLeader(): boolean {
    return this.lostReason === undefined && this.keeper.alive;
  }

  onLost(cb: (reason: string) => void): void {
    if (this.lostReason !== undefined) cb(this.lostReason);
    else this.callbacks.push(cb);
  }

  async resign(): Promise<void> {
    this.lose('resigned');
    await this.store.revokeLease(this.keeper.id);
  }

  /** Watches the key: a delete, or a put of another value, ends leadership. */
  private async watchKey(): Promise<void> {
    if (this.lostReason !== undefined) return;
    try {
      const { items, revision } = await this.store.list(this.opts.key);
      if (this.lostReason !== undefined) return;
      const now = items.find((kv) => kv.key === this.opts.key);
      if (!now) return this.lose('the election key was deleted');
      if (now.revision !== this.revision) return this.lose(`the election key was rewritten (now held by ${now.value})`);
      const watch = await this.store.watch(
        this.opts.key,
        revision + 1n,
        (e) => {
          if (e.key !== this.opts.key) return;
          if (e.type === 'delete') this.lose('the election key was deleted');
          else this.lose(`the election key was rewritten (now held by ${e.value ?? ''})`);
        },
        (err) => {
          this.onError(err);
          this.rewatchSoon();
        },
      );
      if (this.lostReason !== undefined) await watch.close();
      else this.watch = watch;
    } catch (err) {
      this.onError(err);
      this.rewatchSoon();
    }
  }

  private rewatchSoon(): void {
    this.watch = undefined;
    if (this.lostReason !== undefined) return;
    this.rewatchTimer = setTimeout(() => void this.watchKey(), RETRY_DELAY_MS);
    this.rewatchTimer.unref();
  }

  private lose(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.keeper.stop();
    clearTimeout(this.rewatchTimer);
    void this.watch?.close().catch(() => undefined);
    this.watch = undefined;
    for (const cb of this.callbacks.splice(0)) {
      try {
        cb(reason);
      } catch (err) {
        this.onError(err);
      }
    }
    // Revoking deletes the key if it is still ours, so the next leader need not wait out
    // the TTL. Best effort: after a loss to an unreachable etcd it cannot get through.
    if (reason !== 'resigned') void this.store.revokeLease(this.keeper.id).catch(() => undefined);
  }
}

function isTransient(err: unknown): boolean {
  return err instanceof StoreError && err.retryable && !(err instanceof StoreConflictError);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

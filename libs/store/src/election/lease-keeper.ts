import type { LeaseGrant, Leases } from '../datastore';

/** Monotonic milliseconds: leases are about durations, never about wall-clock time. */
export const monotonicMs = (): number => performance.now();

/**
 * Keeps one lease alive and knows how long it is CERTAINLY alive. etcd starts a lease's
 * TTL when it receives a grant or keep-alive, which is after we sent it, and never expires
 * a lease early; so `sentAt + ttl` of the last successful request is a lower bound of the
 * lease's life on every etcd member. The keeper declares the lease lost a safety margin
 * before that bound unless a renewal has succeeded — not 2×TTL later as etcd3's own Lease
 * helper does — and at once when etcd answers that the lease is gone.
 */
export class LeaseKeeper {
  private safeUntil: number;
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private lostReason: string | undefined;
  private stopped = false;
  private readonly lostCallbacks: ((reason: string) => void)[] = [];

  constructor(
    private readonly store: Leases,
    readonly grant: LeaseGrant,
    grantSentAt: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.safeUntil = this.safeBound(grantSentAt, grant.ttlSeconds);
    this.armExpiry();
    this.scheduleRenewal(this.renewIntervalMs());
  }

  get id(): bigint {
    return this.grant.id;
  }

  /** Alive for sure right now: not lost, not stopped, and within the safe bound. */
  get alive(): boolean {
    return this.lostReason === undefined && !this.stopped && monotonicMs() < this.safeUntil;
  }

  /** Why the lease was declared lost, or undefined while it is kept. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Runs `cb` once when the lease is declared lost (not after stop()). Returns an unsubscribe. */
  onLost(cb: (reason: string) => void): () => void {
    if (this.lostReason !== undefined) {
      cb(this.lostReason);
      return () => undefined;
    }
    this.lostCallbacks.push(cb);
    return () => {
      const i = this.lostCallbacks.indexOf(cb);
      if (i >= 0) this.lostCallbacks.splice(i, 1);
    };
  }

  /** Stops renewing (the lease then expires on its own unless revoked). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
  }

  private safeBound(sentAt: number, ttlSeconds: number): number {
    const ttlMs = ttlSeconds * 1000;
    // A margin for timer lateness and clock-rate differences between hosts.
    return sentAt + ttlMs - Math.min(1000, ttlMs / 10);
  }

  private renewIntervalMs(): number {
    // As etcd's Go client: a third of the TTL.
    return (this.grant.ttlSeconds * 1000) / 3;
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      if (monotonicMs() >= this.safeUntil) this.declareLost('the lease could not be renewed before its TTL ran out');
      else this.armExpiry();
    }, Math.max(0, this.safeUntil - monotonicMs()));
    this.expiryTimer.unref();
  }

  private scheduleRenewal(delayMs: number): void {
    if (this.stopped || this.lostReason !== undefined) return;
    this.renewTimer = setTimeout(() => void this.renew(), delayMs);
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    const sentAt = monotonicMs();
    try {
      const ttl = await this.store.keepAliveLease(this.grant.id);
      if (this.stopped || this.lostReason !== undefined) return;
      if (ttl === undefined) {
        this.declareLost('etcd reports the lease expired or revoked');
        return;
      }
      this.safeUntil = Math.max(this.safeUntil, this.safeBound(sentAt, ttl));
      this.armExpiry();
      this.scheduleRenewal(this.renewIntervalMs());
    } catch (err) {
      if (this.stopped || this.lostReason !== undefined) return;
      this.onError(err);
      // Try again soon; the expiry timer decides when it is too late.
      this.scheduleRenewal(Math.min(this.renewIntervalMs(), 250));
    }
  }

  private declareLost(reason: string): void {
    if (this.lostReason !== undefined || this.stopped) return;
    this.lostReason = reason;
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    for (const cb of this.lostCallbacks.splice(0)) cb(reason);
  }
}

import { randomBytes } from 'node:crypto';
import { historyRecordKey } from '@atoll/model';
import type { Leases, Mutation } from '@atoll/store';
import { encodeHistoryRecord, type HistoryEvent } from './history-event';

export const DEFAULT_HISTORY_RETENTION_SECONDS = 7 * 24 * 3600;

/** Events written in one bucket share one lease; a bucket is this fraction of the retention, between 1 s and 1 h. */
const BUCKETS_PER_RETENTION = 24;
const MAX_BUCKET_MS = 3600_000;

export interface HistoryLogOptions {
  readonly leases: Leases;
  /** Events are kept at least this long, and at most one bucket longer. */
  readonly retentionSeconds: number;
  /** The wall clock stamped on records (default: the system clock). */
  readonly now?: () => Date;
}

/**
 * Turns the events of one transaction into the one put that records them. The record is
 * attached to an etcd lease shared by every record of its time bucket; the lease is never
 * kept alive, so etcd deletes the whole bucket by itself once its TTL (retention + one
 * bucket) has passed — no sweeper has to be running for old events to go away.
 */
export class HistoryLog {
  readonly retentionSeconds: number;
  readonly now: () => Date;
  private readonly bucketMs: number;
  private current: { bucket: number; lease: Promise<bigint> } | undefined;

  constructor(private readonly opts: HistoryLogOptions) {
    if (!Number.isFinite(opts.retentionSeconds) || opts.retentionSeconds < 1) {
      throw new Error(`history retention must be at least 1 second, got ${opts.retentionSeconds}`);
    }
    this.retentionSeconds = opts.retentionSeconds;
    this.now = opts.now ?? (() => new Date());
    this.bucketMs = Math.min(MAX_BUCKET_MS, Math.max(1000, Math.floor((opts.retentionSeconds * 1000) / BUCKETS_PER_RETENTION)));
  }

  /** The put recording `events`, committed at about `now`. */
  async recordMutation(events: readonly HistoryEvent[], now: Date): Promise<Mutation> {
    return { op: 'put', key: historyRecordKey(recordId(now)), value: encodeHistoryRecord(now, events), lease: await this.leaseFor(now) };
  }

  /** The lease of `now`'s bucket was gone (revoked by hand, or the clock jumped): the next record gets a new one. */
  forgetLease(): void {
    this.current = undefined;
  }

  private leaseFor(now: Date): Promise<bigint> {
    const bucket = Math.floor(now.getTime() / this.bucketMs);
    if (this.current?.bucket === bucket) return this.current.lease;
    const ttlSeconds = Math.ceil(this.opts.retentionSeconds + this.bucketMs / 1000);
    const lease = this.opts.leases.grantLease(ttlSeconds).then((g) => g.id);
    const entry = { bucket, lease };
    this.current = entry;
    // a failed grant is not cached: the next record asks again
    lease.catch(() => {
      if (this.current === entry) this.current = undefined;
    });
    return lease;
  }
}

/** Millisecond time first, so keys sort by time; random after, so replicas never collide. */
function recordId(now: Date): string {
  return `${String(now.getTime()).padStart(15, '0')}-${randomBytes(6).toString('hex')}`;
}

import type { Kv, LeaseGrant, LeasingDatastore, Mutation, Transaction, WatchEvent, WatchHandle } from '../datastore';
import {
  StoreClosedError,
  StoreCompactedError,
  StoreConflictError,
  StoreError,
  StoreInvalidRequestError,
  StoreLeaseNotFoundError,
} from '../errors';
import { compareKeys } from '../key-order';
import { validateLeaseId, validateLeaseTtl, validateMutationLeases } from '../lease-validation';
import { validateKey, validateKeys, validateTransaction, validateWatchRevision } from '../request-validation';
import { MemoryWatch } from './memory-watch';

interface StoredValue {
  value: string;
  modRevision: bigint;
  lease?: bigint;
}

interface MemoryLease {
  readonly ttlSeconds: number;
  /** performance.now() at which the lease expires unless kept alive. */
  expiresAt: number;
  readonly keys: Set<string>;
  timer?: NodeJS.Timeout;
}

/**
 * An in-memory Datastore with etcd's semantics, for fast tests and for reasoning about the
 * engine without a cluster: one global revision incremented by every transaction that
 * changes something, a mod revision per key, key-sorted lists, atomic commits, and a
 * history so that a watch can replay from a past revision (until compact() drops it).
 *
 * Every method does its work synchronously before its first await, so each call is atomic
 * with respect to every other call: that is what makes commit() a compare-and-swap.
 *
 * Leases run on the real monotonic clock: a timer expires them, and every call first
 * expires the leases that are due, so no read ever shows a key of an expired lease.
 */
export class MemoryDatastore implements LeasingDatastore {
  // etcd's first revision is 1 (an empty store); the first write makes it 2.
  private revision = 1n;
  private compactedRevision = 0n;
  private readonly data = new Map<string, StoredValue>();
  private history: WatchEvent[] = [];
  private readonly watches = new Set<MemoryWatch>();
  private readonly leases = new Map<bigint, MemoryLease>();
  // etcd's lease IDs are large int64s; any positive ones will do here.
  private nextLeaseId = 0x694d_0000_0001n;
  private closed = false;

  async get(key: string): Promise<Kv | undefined> {
    this.assertOpen();
    this.expireDueLeases();
    validateKey(key);
    return this.read(key);
  }

  async getMany(keys: string[]): Promise<Map<string, Kv | undefined>> {
    this.assertOpen();
    this.expireDueLeases();
    validateKeys(keys);
    return new Map(keys.map((key) => [key, this.read(key)]));
  }

  async list(prefix: string): Promise<{ items: Kv[]; revision: bigint }> {
    this.assertOpen();
    this.expireDueLeases();
    const items: Kv[] = [];
    for (const [key, stored] of this.data) {
      if (key.startsWith(prefix)) items.push({ key, value: stored.value, revision: stored.modRevision });
    }
    items.sort((a, b) => compareKeys(a.key, b.key));
    return { items, revision: this.revision };
  }

  async listKeys(prefix: string): Promise<string[]> {
    this.assertOpen();
    this.expireDueLeases();
    const keys = [...this.data.keys()].filter((key) => key.startsWith(prefix));
    return keys.sort(compareKeys);
  }

  async commit(txn: Transaction): Promise<{ revision: bigint }> {
    this.assertOpen();
    validateTransaction(txn);
    validateMutationLeases(txn);
    this.expireDueLeases();
    const holds = txn.preconditions.every((p) => {
      const stored = this.data.get(p.key);
      return 'absent' in p ? stored === undefined : stored?.modRevision === p.modRevision;
    });
    if (!holds) {
      throw new StoreConflictError(new Map(txn.preconditions.map((p) => [p.key, this.read(p.key)])));
    }

    // etcd checks the chosen branch's leases after the compares: a missing one fails it all.
    for (const m of txn.mutations) {
      if (m.op === 'put' && m.lease !== undefined && !this.leases.has(m.lease)) throw new StoreLeaseNotFoundError(m.lease);
    }
    return { revision: this.apply(txn.mutations) };
  }

  /**
   * Applies mutations at the next revision and returns it. Like etcd, mutations that change
   * nothing (only deletes of missing keys) create no revision: the current one is returned.
   */
  private apply(mutations: readonly Mutation[]): bigint {
    const next = this.revision + 1n;
    const events: WatchEvent[] = [];
    for (const m of mutations) {
      const previous = this.data.get(m.key);
      if (previous?.lease !== undefined) this.leases.get(previous.lease)?.keys.delete(m.key);
      if (m.op === 'put') {
        this.data.set(m.key, { value: m.value, modRevision: next, ...(m.lease !== undefined && { lease: m.lease }) });
        if (m.lease !== undefined) this.leases.get(m.lease)!.keys.add(m.key);
        events.push({ type: 'put', key: m.key, value: m.value, revision: next });
      } else if (this.data.delete(m.key)) {
        events.push({ type: 'delete', key: m.key, revision: next });
      }
    }
    if (events.length === 0) return this.revision;

    this.revision = next;
    this.history.push(...events);
    for (const watch of this.watches) watch.enqueue(events);
    return next;
  }

  async grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    this.assertOpen();
    validateLeaseTtl(ttlSeconds);
    this.expireDueLeases();
    const id = this.nextLeaseId++;
    this.leases.set(id, { ttlSeconds, expiresAt: performance.now() + ttlSeconds * 1000, keys: new Set() });
    this.scheduleExpiry(id);
    return { id, ttlSeconds };
  }

  async keepAliveLease(id: bigint): Promise<number | undefined> {
    this.assertOpen();
    validateLeaseId(id);
    this.expireDueLeases();
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    lease.expiresAt = performance.now() + lease.ttlSeconds * 1000;
    this.scheduleExpiry(id);
    return lease.ttlSeconds;
  }

  async revokeLease(id: bigint): Promise<void> {
    this.assertOpen();
    validateLeaseId(id);
    this.expireDueLeases();
    this.endLease(id);
  }

  /** Deletes the lease and, in one revision, every key attached to it. */
  private endLease(id: bigint): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    clearTimeout(lease.timer);
    this.leases.delete(id);
    this.apply([...lease.keys].map((key) => ({ op: 'delete' as const, key })));
  }

  private expireDueLeases(): void {
    const now = performance.now();
    for (const [id, lease] of [...this.leases]) if (lease.expiresAt <= now) this.endLease(id);
  }

  private scheduleExpiry(id: bigint): void {
    const lease = this.leases.get(id)!;
    clearTimeout(lease.timer);
    lease.timer = setTimeout(() => {
      if (!this.closed) this.expireDueLeases();
    }, Math.max(0, lease.expiresAt - performance.now()) + 1);
    lease.timer.unref();
  }

  async watch(
    prefix: string,
    fromRevision: bigint,
    onEvent: (e: WatchEvent) => void,
    onError: (err: StoreError) => void,
  ): Promise<WatchHandle> {
    this.assertOpen();
    validateWatchRevision(fromRevision);
    this.expireDueLeases();
    if (fromRevision < this.compactedRevision) throw new StoreCompactedError(fromRevision);
    const watch = new MemoryWatch(prefix, onEvent, onError, (w) => this.watches.delete(w));
    // Replay and subscribe in the same synchronous step, so no commit can fall in between.
    watch.enqueue(this.history.filter((e) => e.revision >= fromRevision));
    this.watches.add(watch);
    return watch;
  }

  /**
   * Forgets the history before `revision` (as etcd's compaction does), so that tests can
   * exercise StoreCompactedError. Not part of the port: compaction is an operator's job.
   */
  compact(revision: bigint): void {
    this.assertOpen();
    if (revision > this.revision) {
      throw new StoreInvalidRequestError(`cannot compact to ${revision}: the current revision is ${this.revision}`);
    }
    if (revision <= this.compactedRevision) return;
    this.compactedRevision = revision;
    this.history = this.history.filter((e) => e.revision >= revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lease of this.leases.values()) clearTimeout(lease.timer);
    await Promise.all([...this.watches].map((w) => w.close()));
  }

  private read(key: string): Kv | undefined {
    const stored = this.data.get(key);
    return stored && { key, value: stored.value, revision: stored.modRevision };
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

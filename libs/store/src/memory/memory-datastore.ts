import type { Datastore, Kv, Transaction, WatchEvent, WatchHandle } from '../datastore';
import { StoreClosedError, StoreCompactedError, StoreConflictError, StoreError, StoreInvalidRequestError } from '../errors';
import { compareKeys } from '../key-order';
import { validateKey, validateKeys, validateTransaction, validateWatchRevision } from '../request-validation';
import { MemoryWatch } from './memory-watch';

interface StoredValue {
  value: string;
  modRevision: bigint;
}

/**
 * An in-memory Datastore with etcd's semantics, for fast tests and for reasoning about the
 * engine without a cluster: one global revision incremented by every transaction that
 * changes something, a mod revision per key, key-sorted lists, atomic commits, and a
 * history so that a watch can replay from a past revision (until compact() drops it).
 *
 * Every method does its work synchronously before its first await, so each call is atomic
 * with respect to every other call: that is what makes commit() a compare-and-swap.
 */
export class MemoryDatastore implements Datastore {
  // etcd's first revision is 1 (an empty store); the first write makes it 2.
  private revision = 1n;
  private compactedRevision = 0n;
  private readonly data = new Map<string, StoredValue>();
  private history: WatchEvent[] = [];
  private readonly watches = new Set<MemoryWatch>();
  private closed = false;

  async get(key: string): Promise<Kv | undefined> {
    this.assertOpen();
    validateKey(key);
    return this.read(key);
  }

  async getMany(keys: string[]): Promise<Map<string, Kv | undefined>> {
    this.assertOpen();
    validateKeys(keys);
    return new Map(keys.map((key) => [key, this.read(key)]));
  }

  async list(prefix: string): Promise<{ items: Kv[]; revision: bigint }> {
    this.assertOpen();
    const items: Kv[] = [];
    for (const [key, stored] of this.data) {
      if (key.startsWith(prefix)) items.push({ key, value: stored.value, revision: stored.modRevision });
    }
    items.sort((a, b) => compareKeys(a.key, b.key));
    return { items, revision: this.revision };
  }

  async commit(txn: Transaction): Promise<{ revision: bigint }> {
    this.assertOpen();
    validateTransaction(txn);
    const holds = txn.preconditions.every((p) => {
      const stored = this.data.get(p.key);
      return 'absent' in p ? stored === undefined : stored?.modRevision === p.modRevision;
    });
    if (!holds) {
      throw new StoreConflictError(new Map(txn.preconditions.map((p) => [p.key, this.read(p.key)])));
    }

    // Like etcd, a transaction that changes nothing (only deletes of missing keys) does not
    // create a revision; otherwise all its changes share the next revision.
    const next = this.revision + 1n;
    const events: WatchEvent[] = [];
    for (const m of txn.mutations) {
      if (m.op === 'put') {
        this.data.set(m.key, { value: m.value, modRevision: next });
        events.push({ type: 'put', key: m.key, value: m.value, revision: next });
      } else if (this.data.delete(m.key)) {
        events.push({ type: 'delete', key: m.key, revision: next });
      }
    }
    if (events.length === 0) return { revision: this.revision };

    this.revision = next;
    this.history.push(...events);
    for (const watch of this.watches) watch.enqueue(events);
    return { revision: next };
  }

  async watch(
    prefix: string,
    fromRevision: bigint,
    onEvent: (e: WatchEvent) => void,
    onError: (err: StoreError) => void,
  ): Promise<WatchHandle> {
    this.assertOpen();
    validateWatchRevision(fromRevision);
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

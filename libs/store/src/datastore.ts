import type { StoreError } from './errors';

/**
 * The datastore port: the narrow, revisioned key-value interface the IPAM engine needs.
 * It is owned by its consumer (the engine) and knows nothing about IPAM: keys and values
 * are strings. Both adapters (etcd, in-memory) implement it and pass one contract suite.
 */

/** A stored record together with the mod revision it was last written at. */
export interface Kv<T = string> {
  key: string;
  value: T;
  /** etcd mod revision of this key: the revision of the transaction that last wrote it. */
  revision: bigint;
}

/**
 * A condition that must hold for a transaction to apply. Every key a writer read should
 * appear here, so that a concurrent change makes the whole transaction fail instead of
 * being overwritten.
 */
export type Precondition =
  /** The key must exist with exactly this mod revision (a positive number). */
  | { key: string; modRevision: bigint }
  /** The key must not exist (etcd: version == 0). */
  | { key: string; absent: true };

export type Mutation = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

export interface Transaction {
  preconditions: Precondition[];
  /** Each key at most once per transaction (etcd rejects duplicates). */
  mutations: Mutation[];
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** The new value; absent for deletes. */
  value?: string;
  /** The revision of the transaction that caused the event (shared by its events). */
  revision: bigint;
}

export interface WatchHandle {
  /** Stops delivery; no event or error is delivered after this resolves. Idempotent. */
  close(): Promise<void>;
}

export interface Datastore {
  /** One key, or undefined when it does not exist. */
  get(key: string): Promise<Kv | undefined>;
  /** Several keys read in one consistent snapshot (one etcd transaction of ranges). */
  getMany(keys: string[]): Promise<Map<string, Kv | undefined>>;
  /** Every key starting with `prefix`, sorted by key (byte order), in one consistent snapshot. */
  list(prefix: string): Promise<{ items: Kv[]; revision: bigint }>;
  /**
   * Applies all mutations atomically if and only if every precondition holds. Throws
   * StoreConflictError (with the current value of every precondition key) otherwise.
   * Resolves to the store revision after the commit (the mod revision of every key it put).
   */
  commit(txn: Transaction): Promise<{ revision: bigint }>;
  /**
   * Delivers every change under `prefix` with revision >= `fromRevision`, in revision order:
   * first the history since `fromRevision`, then live changes. Rejects with
   * StoreCompactedError when that history is gone; `onError` reports a watch that ended
   * on its own (after which no more events arrive).
   */
  watch(
    prefix: string,
    fromRevision: bigint,
    onEvent: (e: WatchEvent) => void,
    onError: (err: StoreError) => void,
  ): Promise<WatchHandle>;
  /** Closes open watches and releases connections. Idempotent. */
  close(): Promise<void>;
}

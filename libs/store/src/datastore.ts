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

export type Mutation =
  /**
   * `lease` attaches the key to a lease (see Leases): the key is deleted when the lease
   * expires or is revoked. A put without `lease` detaches the key from any lease (etcd).
   */
  | { op: 'put'; key: string; value: string; lease?: bigint }
  | { op: 'delete'; key: string };

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
   * The keys `list(prefix)` would return, without values (an etcd keys-only range): for
   * learning which keys exist when reading their values would cost far more than that.
   */
  listKeys(prefix: string): Promise<string[]>;
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

/** A lease as granted: its ID and the TTL the store actually granted. */
export interface LeaseGrant {
  /** etcd's lease ID (an int64). */
  readonly id: bigint;
  /** Seconds; at least what was asked for (etcd raises a TTL below its minimum). */
  readonly ttlSeconds: number;
}

/**
 * etcd leases, for what needs "exists only while its owner is alive" (leader election).
 * Not part of Datastore: the IPAM engine never uses them. A lease lives `ttlSeconds`
 * after it was granted or last kept alive; then it expires and every key attached to it
 * is deleted in one new revision (watchers see the deletes). etcd never expires a lease
 * early (after a leader change it extends them), so an owner that measures from the
 * moment it SENT its last successful keep-alive knows a lower bound of the lease's life.
 */
export interface Leases {
  /** Grants a lease; `ttlSeconds` is a whole number >= 1. */
  grantLease(ttlSeconds: number): Promise<LeaseGrant>;
  /**
   * Renews the lease once. Resolves to its TTL in seconds from now, or undefined when the
   * lease no longer exists (expired or revoked). Throws StoreUnavailableError when etcd
   * cannot be asked.
   */
  keepAliveLease(id: bigint): Promise<number | undefined>;
  /** Revokes the lease, deleting its keys in one revision. A lease already gone is not an error. */
  revokeLease(id: bigint): Promise<void>;
}

/** A Datastore that also has leases (both adapters are). A put naming a lease that does not exist fails the whole commit with StoreLeaseNotFoundError. */
export interface LeasingDatastore extends Datastore, Leases {}

import type { Transaction } from './datastore';
import { StoreInvalidRequestError } from './errors';

/**
 * etcd's default `--max-txn-ops`: the most compares, or operations per branch, that one
 * transaction may carry. Both adapters enforce it so that code tested against memory does
 * not fail on etcd.
 */
export const MAX_OPERATIONS_PER_TRANSACTION = 128;

/** Rejects transactions etcd would reject (or that would silently mean something else). */
export function validateTransaction(txn: Transaction): void {
  if (txn.preconditions.length > MAX_OPERATIONS_PER_TRANSACTION) {
    throw new StoreInvalidRequestError(
      `a transaction may carry at most ${MAX_OPERATIONS_PER_TRANSACTION} preconditions, got ${txn.preconditions.length}`,
    );
  }
  if (txn.mutations.length > MAX_OPERATIONS_PER_TRANSACTION) {
    throw new StoreInvalidRequestError(
      `a transaction may carry at most ${MAX_OPERATIONS_PER_TRANSACTION} mutations, got ${txn.mutations.length}`,
    );
  }
  for (const p of txn.preconditions) {
    validateKey(p.key);
    if ('modRevision' in p && (typeof p.modRevision !== 'bigint' || p.modRevision <= 0n)) {
      // A mod revision of 0 would compare equal for a missing key; that is what `absent` is for.
      throw new StoreInvalidRequestError(
        `precondition on ${p.key}: modRevision must be a positive bigint (use { absent: true } for missing keys)`,
      );
    }
  }
  const seen = new Set<string>();
  for (const m of txn.mutations) {
    validateKey(m.key);
    if (m.op === 'put' && typeof m.value !== 'string') {
      throw new StoreInvalidRequestError(`put of ${m.key}: value must be a string`);
    }
    if (seen.has(m.key)) {
      throw new StoreInvalidRequestError(`key ${m.key} is changed twice in one transaction`);
    }
    seen.add(m.key);
  }
}

/** getMany reads in one etcd transaction, so it has the same operation limit. */
export function validateKeys(keys: string[]): void {
  const distinct = new Set(keys);
  if (distinct.size > MAX_OPERATIONS_PER_TRANSACTION) {
    throw new StoreInvalidRequestError(
      `getMany reads at most ${MAX_OPERATIONS_PER_TRANSACTION} distinct keys at once, got ${distinct.size}`,
    );
  }
  for (const key of distinct) validateKey(key);
}

export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new StoreInvalidRequestError('a key must be a non-empty string');
  }
}

export function validateWatchRevision(fromRevision: bigint): void {
  if (typeof fromRevision !== 'bigint' || fromRevision < 1n) {
    throw new StoreInvalidRequestError('watch fromRevision must be a bigint >= 1 (e.g. a list revision + 1)');
  }
}

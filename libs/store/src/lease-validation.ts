import type { Transaction } from './datastore';
import { StoreInvalidRequestError } from './errors';

// Lease arguments both adapters refuse alike (etcd's own limits).

/** etcd's largest lease TTL (`MaxLeaseTTL`, 9e9 seconds). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

export function validateLeaseTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_LEASE_TTL_SECONDS) {
    throw new StoreInvalidRequestError(`a lease TTL must be a whole number of seconds from 1 to ${MAX_LEASE_TTL_SECONDS}, got ${ttlSeconds}`);
  }
}

export function validateLeaseId(id: bigint): void {
  if (typeof id !== 'bigint' || id <= 0n || id >= 1n << 63n) {
    throw new StoreInvalidRequestError(`a lease ID must be a positive int64 bigint, got ${String(id)}`);
  }
}

/** Every put that names a lease names a valid lease ID. */
export function validateMutationLeases(txn: Transaction): void {
  for (const m of txn.mutations) {
    if (m.op === 'put' && m.lease !== undefined) validateLeaseId(m.lease);
  }
}

import type { Kv } from './datastore';

/**
 * Stable codes callers may switch on. Messages are for humans and may change; codes may not.
 */
export type StoreErrorCode = 'conflict' | 'unavailable' | 'compacted' | 'invalid-request' | 'closed' | 'internal' | 'lease-not-found';

/** Base of every error the store throws. `retryable`: the same call may succeed later. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retryable: boolean;

  constructor(code: StoreErrorCode, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable;
  }
}

/**
 * A precondition did not hold; nothing was written. `current` holds the value of every key
 * named in the preconditions, read atomically with the failed compare, so the caller can
 * re-plan without another read. Note: after an etcd-level retry, `current` may already
 * contain the caller's own write (see README, "committed but reported as a conflict").
 */
export class StoreConflictError extends StoreError {
  readonly current: Map<string, Kv | undefined>;

  constructor(current: Map<string, Kv | undefined>) {
    super('conflict', `transaction precondition failed on ${describeKeys([...current.keys()])}`, {
      retryable: true,
    });
    this.current = current;
  }
}

/** The datastore could not be reached or did not answer in time. Whether a commit applied is unknown. */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, { retryable: true, cause });
  }
}

/** A watch asked for history that compaction has removed: re-list, then watch from the list's revision + 1. */
export class StoreCompactedError extends StoreError {
  readonly requestedRevision: bigint;

  constructor(requestedRevision: bigint, cause?: unknown) {
    super('compacted', `revision ${requestedRevision} has been compacted; re-list and watch from a newer revision`, {
      retryable: false,
      cause,
    });
    this.requestedRevision = requestedRevision;
  }
}

/** The call itself is malformed (a programming error); retrying it cannot help. */
export class StoreInvalidRequestError extends StoreError {
  constructor(message: string) {
    super('invalid-request', message, { retryable: false });
  }
}

/** The store was closed before or during the call. */
export class StoreClosedError extends StoreError {
  constructor() {
    super('closed', 'the datastore is closed', { retryable: false });
  }
}

/**
 * A commit put a key with a lease that no longer exists (expired or revoked); nothing was
 * written. Not retryable with the same lease: grant a new one.
 */
export class StoreLeaseNotFoundError extends StoreError {
  readonly leaseId: bigint;

  constructor(leaseId: bigint, cause?: unknown) {
    super('lease-not-found', `lease ${leaseId} does not exist (expired or revoked)`, { retryable: false, cause });
    this.leaseId = leaseId;
  }
}

function describeKeys(keys: string[]): string {
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown || 'no keys';
}

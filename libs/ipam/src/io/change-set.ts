import {
  affinityKey,
  AffinityKey,
  AllocationBlock,
  BlockAffinity,
  blockKey,
  encodeAffinity,
  encodeBlock,
  encodeHandle,
  encodeIpamConfig,
  handleKey,
  ipamConfigKey,
  IpamConfig,
  IpamHandle,
} from '@atoll/model';
import { Datastore, Kv, Precondition, StoreConflictError, StoreLeaseNotFoundError, StoreUnavailableError, Mutation } from '@atoll/store';
import { withNextSequence } from '../block';
import type { HistoryCause } from '../history/history-cause';
import { historyMutation, type BlockTransition } from '../history/transaction-history';
import { io, translateStoreError } from './records';

// The single place where the engine writes. A change names a key, the revision it was
// read at (or that it must not exist), and the value to store (null deletes). All the
// changes of one operation go into ONE store transaction, so a block and the handles that
// count its addresses can never disagree.

export interface Change {
  readonly key: string;
  /** The mod revision read, or 'absent' when the key must not exist yet. */
  readonly expect: bigint | 'absent';
  /** Encoded value to write; null deletes; undefined only checks the precondition. */
  readonly next: string | null | undefined;
  /** For a block put: the block `next` encodes, so a cache need not decode what was just encoded. */
  readonly written?: AllocationBlock;
  /** For a block write: the block as read (undefined: new) and as written (null: deleted), for the history. */
  readonly blockTransition?: BlockTransition;
}

export type Readable = { revision: bigint } | undefined;

function expectOf(read: Readable): bigint | 'absent' {
  return read === undefined ? 'absent' : read.revision;
}

/**
 * A block write. Updates bump the sequence number by one (every block write does, so a
 * release holding an older number can tell the block changed); a new block keeps the
 * time-based number it was created with.
 */
export function blockChange(read: Kv<AllocationBlock> | undefined, next: AllocationBlock | null): Change {
  const key = read?.key ?? blockKey((next as AllocationBlock).cidr);
  if (next === null) return { key, expect: expectOf(read), next: null, blockTransition: { before: read?.value, after: null } };
  const written = read === undefined ? next : withNextSequence(next);
  return { key, expect: expectOf(read), next: encodeBlock(written), written, blockTransition: { before: read?.value, after: written } };
}

export function handleChange(handleId: string, read: Readable, next: IpamHandle | null): Change {
  const empty = next !== null && Object.values(next.block).every((n) => n === 0);
  // A handle that counts nothing is deleted, as Calico does.
  const value = next === null || empty ? null : encodeHandle({ ...next, block: nonZero(next.block) });
  return { key: handleKey(handleId), expect: expectOf(read), next: value };
}

function nonZero(block: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(block).filter(([, n]) => n > 0));
}

export function affinityChange(id: AffinityKey, read: Readable, next: BlockAffinity | null): Change {
  return { key: affinityKey(id), expect: expectOf(read), next: next === null ? null : encodeAffinity(next) };
}

export function configChange(read: Readable, next: IpamConfig): Change {
  return { key: ipamConfigKey(), expect: expectOf(read), next: encodeIpamConfig(next) };
}


function toTransaction(changes: readonly Change[]): { preconditions: Precondition[]; mutations: Mutation[] } {
  const preconditions: Precondition[] = changes.map((c) =>
    c.expect === 'absent' ? { key: c.key, absent: true as const } : { key: c.key, modRevision: c.expect },
  );
  const mutations: Mutation[] = [];
  for (const c of changes) {
    if (c.next === null) {
      // deleting a key that must not exist is a no-op, not a write
      if (c.expect !== 'absent') mutations.push({ op: 'delete', key: c.key });
    } else if (c.next !== undefined) mutations.push({ op: 'put', key: c.key, value: c.next });
  }
  return { preconditions, mutations };
}

/** True when the store already holds exactly what `changes` would write. */
function alreadyApplied(changes: readonly Change[], current: ReadonlyMap<string, Kv | undefined>): boolean {
  return changes.every((c) => {
    if (c.next === undefined) return true;
    const now = current.get(c.key);
    return c.next === null ? now === undefined : now?.value === c.next;
  });
}

function writes(changes: readonly Change[]): boolean {
  return changes.some((c) => c.next !== undefined);
}

/** Pause before replaying a transaction whose outcome was unknown: long enough for an etcd election to settle a little. */
const REPLAY_DELAY_MS = 300;

/**
 * Commits the changes in one transaction and resolves to its revision.
 *
 * When the store reports a conflict, the keys it returns are compared with ours: if they
 * already hold exactly our values, our own commit went through (etcd's client may resend a
 * transaction that had committed and then report its compare as failed).
 *
 * When the store cannot say whether the commit applied (a timeout while etcd loses its
 * leader), the outcome is settled by replaying the identical transaction once. Replaying
 * is safe because the preconditions are the same: if the first attempt landed (now, or
 * later from etcd's queue), the replay's compares fail and the values recognise it as
 * ours; if the replay lands first, the first attempt can never land afterwards, because
 * the revisions it compares against are gone. Without the replay, a caller told
 * "unavailable" would delete the pod and its (empty) handle while the first attempt was
 * still on its way, and the address would leak. This is not a retry of the operation —
 * the outcome is the same transaction's either way — so it does not go through the
 * conflict-only retry helper.
 */
export async function commitChanges(ds: Datastore, changes: readonly Change[], cause?: HistoryCause): Promise<bigint> {
  if (!writes(changes)) return 0n;
  const txn = toTransaction(changes);
  // The history record of what this transaction assigns and releases rides in it: it
  // exists if and only if the transaction commits.
  const recording = await io(() => historyMutation(ds, changes, cause));
  if (recording) txn.mutations.push(recording);
  try {
    return await commitSettled(ds, txn, changes);
  } catch (err) {
    if (!(err instanceof StoreLeaseNotFoundError) || !recording) throw translateStoreError(err);
    // The history bucket's lease is gone, so etcd applied nothing: once more with a fresh lease.
    txn.mutations[txn.mutations.length - 1] = (await io(() => historyMutation(ds, changes, cause, { renewLease: true })))!;
    return commitSettled(ds, txn, changes).catch((again: unknown) => {
      throw translateStoreError(again);
    });
  }
}

/** One commit, and the one replay that settles an unknown outcome. */
async function commitSettled(ds: Datastore, txn: { preconditions: Precondition[]; mutations: Mutation[] }, changes: readonly Change[]): Promise<bigint> {
  try {
    return await commitOnce(ds, txn, changes);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    await new Promise((resolve) => setTimeout(resolve, REPLAY_DELAY_MS));
    return commitOnce(ds, txn, changes);
  }
}

/** One commit; a failed compare against our own values counts as applied. */
async function commitOnce(ds: Datastore, txn: { preconditions: Precondition[]; mutations: Mutation[] }, changes: readonly Change[]): Promise<bigint> {
  try {
    return (await ds.commit(txn)).revision;
  } catch (err) {
    if (err instanceof StoreConflictError && alreadyApplied(changes, err.current)) return maxRevision(err.current);
    throw err;
  }
}

function maxRevision(current: ReadonlyMap<string, Kv | undefined>): bigint {
  let max = 0n;
  for (const kv of current.values()) if (kv && kv.revision > max) max = kv.revision;
  return max;
}

import { EtcdLeaseInvalidError, type IOperation, type ITxnResponse, type Namespace } from 'etcd3';
import type { Kv, Precondition, Transaction } from '../datastore';
import { StoreConflictError, StoreLeaseNotFoundError } from '../errors';
import type { EtcdCallOptions } from './etcd-call';
import { kvFromRangeResponse, toRevision } from './etcd-kv';

/**
 * THE place where etcd transactions are built (compare-and-swap in one place). Everything
 * that writes, and every multi-key read, goes through sendTransaction below.
 */

/**
 * Commits `txn` in one etcd transaction: the preconditions become compares, the mutations
 * the success branch, and the failure branch reads every precondition key, so a conflict
 * carries the current values without a second round trip.
 *
 * Caution (etcd3 behaviour): on a transient error the client's retry policy re-sends the
 * transaction; if the first attempt had committed, the retry fails its compares and this
 * throws StoreConflictError although the write is in etcd (its `current` shows it).
 */
export async function commitEtcdTransaction(
  ns: Namespace,
  txn: Transaction,
  call: EtcdCallOptions,
): Promise<{ revision: bigint }> {
  const readBack = [...new Set(txn.preconditions.map((p) => p.key))];
  const mutations: IOperation[] = txn.mutations.map((m) => {
    if (m.op === 'delete') return ns.delete().key(m.key);
    const put = ns.put(m.key).value(m.value);
    return m.lease === undefined ? put : put.lease(m.lease.toString());
  });
  let response: ITxnResponse;
  try {
    response = await sendTransaction(
      ns,
      txn.preconditions,
      mutations,
      readBack.map((key) => ns.get(key)),
      call,
    );
  } catch (err) {
    // etcd refuses the whole transaction when a put names a lease it does not know.
    if (err instanceof EtcdLeaseInvalidError) throw new StoreLeaseNotFoundError(leaseOf(txn), err);
    throw err;
  }
  if (!response.succeeded) {
    throw new StoreConflictError(snapshotFromResponses(readBack, response));
  }
  return { revision: toRevision(response.header.revision) };
}

function leaseOf(txn: Transaction): bigint {
  for (const m of txn.mutations) if (m.op === 'put' && m.lease !== undefined) return m.lease;
  return 0n;
}

/** Reads `keys` in one transaction with no compares: one consistent snapshot. */
export async function readEtcdSnapshot(
  ns: Namespace,
  keys: string[],
  call: EtcdCallOptions,
): Promise<Map<string, Kv | undefined>> {
  const distinct = [...new Set(keys)];
  if (distinct.length === 0) return new Map();
  const response = await sendTransaction(
    ns,
    [],
    distinct.map((key) => ns.get(key)),
    [],
    call,
  );
  return snapshotFromResponses(distinct, response);
}

// Range results come back in request order, with keys still carrying the namespace
// prefix: match them by position, not by key.
function snapshotFromResponses(keys: string[], response: ITxnResponse): Map<string, Kv | undefined> {
  return new Map(keys.map((key, i) => [key, kvFromRangeResponse(key, response.responses[i])]));
}

async function sendTransaction(
  ns: Namespace,
  preconditions: Precondition[],
  success: IOperation[],
  failure: IOperation[],
  call: EtcdCallOptions,
): Promise<ITxnResponse> {
  const [first, ...rest] = preconditions;
  if (first === undefined) {
    // etcd3's builder starts from a compare (`ns.if(...)`); a transaction without one is
    // sent directly. The operations' op() applies the namespace, as the builder would.
    return ns.kv.txn(
      {
        compare: [],
        success: await Promise.all(success.map((op) => op.op())),
        failure: await Promise.all(failure.map((op) => op.op())),
      },
      call,
    );
  }
  let builder = ns.if(...compareFor(first));
  for (const p of rest) builder = builder.and(...compareFor(p));
  return builder
    .then(...success)
    .else(...failure)
    .options(call)
    .commit();
}

type Compare = [key: string, column: 'Mod' | 'Version', cmp: '==', value: string | number];

function compareFor(p: Precondition): Compare {
  // "absent" is version == 0: etcd reports version 0 (and mod revision 0) for a missing key.
  // Revisions go over the wire as decimal strings so no bigint is rounded through Number.
  return 'absent' in p ? [p.key, 'Version', '==', 0] : [p.key, 'Mod', '==', p.modRevision.toString()];
}

import { GRPCOutOfRangeError, Range, type Namespace } from 'etcd3';
import type { Kv } from '../datastore';
import { StoreCompactedError } from '../errors';
import type { EtcdCallOptions } from './etcd-call';
import { toKv, toRevision } from './etcd-kv';

/** Plain (linearizable) range reads; nothing here writes or builds a transaction. */

export async function readEtcdKey(ns: Namespace, key: string, call: EtcdCallOptions): Promise<Kv | undefined> {
  const response = await ns.get(key).options(call).exec();
  const found = response.kvs[0];
  return found ? toKv(key, found) : undefined;
}

export interface ListPage {
  readonly items: Kv[];
  /** The revision the page was read at: the first page's header revision, pinned for the rest. */
  readonly revision: bigint;
  /** Where the next page starts (after this key); undefined when this was the last page. */
  readonly nextAfter: Buffer | undefined;
}

/**
 * One page of a prefix listing: at most `limit` keys after `after` (from the start when
 * undefined), at `revision` (the current one when undefined). Pages read at one revision
 * form a single consistent snapshot, however long the listing takes.
 */
export async function listEtcdPage(
  ns: Namespace,
  prefix: string,
  page: { after?: Buffer; revision?: bigint; limit: number },
  call: EtcdCallOptions,
): Promise<ListPage> {
  const range = Range.prefix(prefix);
  // The smallest key after `after` is `after` + NUL.
  const start = page.after ? Buffer.concat([page.after, Buffer.from([0])]) : range.start;
  let builder = ns.getAll().inRange({ start, end: range.end }).sort('Key', 'Ascend').limit(page.limit);
  if (page.revision !== undefined) builder = builder.revision(page.revision.toString());
  let response;
  try {
    response = await builder.options(call).exec();
  } catch (err) {
    // A later page's revision compacted away since the first page (OUT_OF_RANGE; a future
    // revision is impossible here, it came from etcd's own header).
    if (page.revision !== undefined && err instanceof GRPCOutOfRangeError) throw new StoreCompactedError(page.revision, err);
    throw err;
  }
  const last = response.kvs.at(-1);
  return {
    // MultiRangeBuilder.exec() has already removed the namespace from these keys.
    items: response.kvs.map((kv) => toKv(kv.key.toString('utf8'), kv)),
    revision: page.revision ?? toRevision(response.header.revision),
    nextAfter: response.more && last ? last.key : undefined,
  };
}

/** One keys-only range request: etcd sends no values, so the answer is as small as the key set. */
export function listEtcdPrefixKeys(ns: Namespace, prefix: string, call: EtcdCallOptions): Promise<string[]> {
  // keys() has already removed the namespace from these keys.
  return ns.getAll().prefix(prefix).sort('Key', 'Ascend').options(call).keys();
}

/**
 * Whether history at `revision` is gone. etcd answers a read at a compacted revision and
 * one at a future revision with the same gRPC status (OUT_OF_RANGE), so first learn the
 * current revision: a future revision is not compacted (a watch from it simply waits).
 */
export async function isRevisionCompacted(ns: Namespace, revision: bigint, call: EtcdCallOptions): Promise<boolean> {
  const current = toRevision((await ns.getAll().prefix('').limit(1).options(call).exec()).header.revision);
  if (revision > current) return false;
  try {
    await ns.getAll().prefix('').revision(revision.toString()).limit(1).options(call).exec();
    return false;
  } catch (err) {
    if (err instanceof GRPCOutOfRangeError) return true;
    throw err;
  }
}

import { GRPCOutOfRangeError, type Namespace } from 'etcd3';
import type { Kv } from '../datastore';
import type { EtcdCallOptions } from './etcd-call';
import { toKv, toRevision } from './etcd-kv';

/** Plain (linearizable) range reads; nothing here writes or builds a transaction. */

export async function readEtcdKey(ns: Namespace, key: string, call: EtcdCallOptions): Promise<Kv | undefined> {
  const response = await ns.get(key).options(call).exec();
  const found = response.kvs[0];
  return found ? toKv(key, found) : undefined;
}

/** One range request: etcd answers it from a single revision, which it reports in the header. */
export async function listEtcdPrefix(
  ns: Namespace,
  prefix: string,
  call: EtcdCallOptions,
): Promise<{ items: Kv[]; revision: bigint }> {
  const response = await ns.getAll().prefix(prefix).sort('Key', 'Ascend').options(call).exec();
  return {
    // MultiRangeBuilder.exec() has already removed the namespace from these keys.
    items: response.kvs.map((kv) => toKv(kv.key.toString('utf8'), kv)),
    revision: toRevision(response.header.revision),
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

import type { IKeyValue, IResponseOp } from 'etcd3';
import type { Kv } from '../datastore';

/**
 * etcd3 returns int64 fields as decimal strings (its proto loader uses `longs: String`);
 * BigInt keeps them exact where Number would round above 2^53.
 */
export function toRevision(int64: string | number): bigint {
  return BigInt(int64);
}

/** `key` is passed in because ranges inside a transaction return keys with the namespace prefix. */
export function toKv(key: string, kv: IKeyValue): Kv {
  return { key, value: kv.value.toString('utf8'), revision: toRevision(kv.mod_revision) };
}

/** The single key a transaction's range operation read, or undefined when it does not exist. */
export function kvFromRangeResponse(key: string, response: IResponseOp | undefined): Kv | undefined {
  const found = response?.response_range?.kvs[0];
  return found ? toKv(key, found) : undefined;
}

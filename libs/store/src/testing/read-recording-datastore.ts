import type { Datastore, Kv, Transaction, WatchEvent, WatchHandle } from '../datastore';
import type { StoreError } from '../errors';

/** One read as the caller made it, and which values its answer carried. */
export interface RecordedRead {
  readonly op: 'get' | 'getMany' | 'list' | 'listKeys';
  /** The key (get), the keys (getMany) or the prefix (list, listKeys) asked for. */
  readonly asked: readonly string[];
  /** The keys whose values came back; always empty for listKeys. */
  readonly valuesOf: readonly string[];
}

/**
 * Wraps any Datastore and records every read, so that a test can assert what a code path
 * reads — e.g. that it learns which keys exist without fetching their values. Commits and
 * watches pass straight through, unrecorded.
 */
export class ReadRecordingDatastore implements Datastore {
  readonly reads: RecordedRead[] = [];

  constructor(readonly inner: Datastore) {}

  /** Every key whose value some read returned, in the order read (repeats kept). */
  valuesRead(): string[] {
    return this.reads.flatMap((r) => r.valuesOf);
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.reads.length = 0;
  }

  async get(key: string): Promise<Kv | undefined> {
    const kv = await this.inner.get(key);
    this.reads.push({ op: 'get', asked: [key], valuesOf: kv ? [kv.key] : [] });
    return kv;
  }

  async getMany(keys: string[]): Promise<Map<string, Kv | undefined>> {
    const found = await this.inner.getMany(keys);
    const valuesOf = [...found.values()].flatMap((kv) => (kv ? [kv.key] : []));
    this.reads.push({ op: 'getMany', asked: [...keys], valuesOf });
    return found;
  }

  async list(prefix: string): Promise<{ items: Kv[]; revision: bigint }> {
    const listed = await this.inner.list(prefix);
    this.reads.push({ op: 'list', asked: [prefix], valuesOf: listed.items.map((kv) => kv.key) });
    return listed;
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys = await this.inner.listKeys(prefix);
    this.reads.push({ op: 'listKeys', asked: [prefix], valuesOf: [] });
    return keys;
  }

  commit(txn: Transaction): Promise<{ revision: bigint }> {
    return this.inner.commit(txn);
  }

  watch(
    prefix: string,
    fromRevision: bigint,
    onEvent: (e: WatchEvent) => void,
    onError: (err: StoreError) => void,
  ): Promise<WatchHandle> {
    return this.inner.watch(prefix, fromRevision, onEvent, onError);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

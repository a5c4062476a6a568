import type { Datastore, Transaction, WatchEvent, WatchHandle } from '@atoll/store';
import type { StoreError } from '@atoll/store';
import type { HistoryLog } from './history-log';

/**
 * The engine's datastore when allocation history is on: the same store, carrying the
 * history log that `commitChanges` adds a record to every allocating transaction with.
 * Passing the log this way keeps every operation's signature as it was.
 */
export class HistoryRecordingDatastore implements Datastore {
  constructor(
    readonly inner: Datastore,
    readonly history: HistoryLog,
  ) {}

  get(key: string) {
    return this.inner.get(key);
  }
  getMany(keys: string[]) {
    return this.inner.getMany(keys);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  listKeys(prefix: string) {
    return this.inner.listKeys(prefix);
  }
  commit(txn: Transaction) {
    return this.inner.commit(txn);
  }
  watch(prefix: string, fromRevision: bigint, onEvent: (e: WatchEvent) => void, onError: (err: StoreError) => void): Promise<WatchHandle> {
    return this.inner.watch(prefix, fromRevision, onEvent, onError);
  }
  close() {
    return this.inner.close();
  }
}

/** The history log a datastore carries, if history is on. */
export function historyLogOf(ds: Datastore): HistoryLog | undefined {
  return ds instanceof HistoryRecordingDatastore ? ds.history : undefined;
}

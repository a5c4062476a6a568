import { historyPrefix } from '@atoll/model';
import type { Datastore } from '@atoll/store';
import { decodeHistoryRecord, type RecordedEvent } from './history-event';

/** Every retained event, in commit order (etcd revision; within a transaction, as written). */
export async function readHistory(ds: Datastore): Promise<RecordedEvent[]> {
  const { items } = await ds.list(historyPrefix());
  const events = items.flatMap((kv) => decodeHistoryRecord(kv.value, kv.revision));
  // Array.prototype.sort is stable: one transaction's events keep their written order
  return events.sort((a, b) => (a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0));
}

/** etcd allows 128 operations per transaction; deletes go in chunks well inside that. */
const DELETES_PER_TRANSACTION = 100;

/**
 * Keeps at most `maxRecords` history records by deleting the oldest (keys sort by time).
 * Leases bound the history in time; this bounds it in size when a burst of allocations
 * would otherwise fill etcd before the leases expire. Resolves to how many were deleted.
 */
export async function pruneHistory(ds: Datastore, maxRecords: number): Promise<number> {
  if (!Number.isInteger(maxRecords) || maxRecords < 0) throw new Error(`history size bound must be a whole number, got ${maxRecords}`);
  const keys = await ds.listKeys(historyPrefix());
  const excess = keys.slice(0, Math.max(0, keys.length - maxRecords));
  for (let i = 0; i < excess.length; i += DELETES_PER_TRANSACTION) {
    const chunk = excess.slice(i, i + DELETES_PER_TRANSACTION);
    await ds.commit({ preconditions: [], mutations: chunk.map((key) => ({ op: 'delete' as const, key })) });
  }
  return excess.length;
}

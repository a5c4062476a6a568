import type { RecordWrite, StoredRecord } from '@atoll/api';
import type { MigrationApi } from '../context';
import { kindOfKey, type MigrationRecord, type RecordKind } from './records';

// The Atoll side of a migration: the allocator's Migration service, which reads every
// record in one snapshot and writes batches as single CAS transactions.

export interface StoredMigrationRecord extends MigrationRecord {
  readonly revision: string;
}

/** etcd takes at most 128 operations per transaction. */
export const WRITE_BATCH = 128;

export async function readAtollRecords(api: MigrationApi): Promise<Map<string, StoredMigrationRecord>> {
  const res = await api.readRecords({});
  const out = new Map<string, StoredMigrationRecord>();
  for (const r of res.records as StoredRecord[]) {
    const kind = kindOfKey(r.key);
    if (kind) out.set(r.key, { kind, key: r.key, value: r.value, revision: r.revision });
  }
  return out;
}

export interface PlannedWrite {
  readonly kind: RecordKind;
  readonly key: string;
  readonly value: string;
  /** "0": must not exist yet; otherwise the revision read. */
  readonly expectRevision: string;
}

/** Writes in batches, in the order given; `onBatch` hears the running total. */
export async function writeAtollRecords(api: MigrationApi, writes: readonly PlannedWrite[], onBatch: (written: number) => void): Promise<void> {
  for (let i = 0; i < writes.length; i += WRITE_BATCH) {
    const batch: RecordWrite[] = writes.slice(i, i + WRITE_BATCH).map((w) => ({ key: w.key, value: w.value, delete: false, expectRevision: w.expectRevision }));
    await api.writeRecords({ writes: batch });
    onBatch(Math.min(i + WRITE_BATCH, writes.length));
  }
}

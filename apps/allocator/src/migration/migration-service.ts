import { unaryHandlers, type AsyncHandlers, type MigrationServer, type RecordWrite } from '@atoll/api';
import { IpamError } from '@atoll/ipam';
import { MAX_OPERATIONS_PER_TRANSACTION, StoreError, type Datastore, type Mutation, type Precondition } from '@atoll/store';
import { checkMigratableWrite, migratableKind, MIGRATION_PREFIX } from './migratable-records';

// The Migration gRPC service: raw records in Calico's etcd layout for `atollctl migrate`.
// It sits beside the IPAM engine, not in it: an allocation never passes through here.
// Every write is one CAS transaction whose preconditions the caller states (absent, or
// the mod revision it read), so a migration can never overwrite what an allocation wrote
// after the migration read it; it re-reads and re-plans instead.

function revisionOf(text: string, key: string): bigint {
  if (!/^\d+$/.test(text)) throw new IpamError('invalid-argument', `expect_revision for ${key} must be a decimal revision ("0": must not exist), not ${JSON.stringify(text)}`);
  return BigInt(text);
}

function transactionOf(writes: readonly RecordWrite[]): { preconditions: Precondition[]; mutations: Mutation[] } {
  if (writes.length === 0) throw new IpamError('invalid-argument', 'no writes given');
  if (writes.length > MAX_OPERATIONS_PER_TRANSACTION) {
    throw new IpamError('invalid-argument', `at most ${MAX_OPERATIONS_PER_TRANSACTION} writes per call (one etcd transaction), got ${writes.length}`);
  }
  const seen = new Set<string>();
  const preconditions: Precondition[] = [];
  const mutations: Mutation[] = [];
  for (const w of writes) {
    if (seen.has(w.key)) throw new IpamError('invalid-argument', `key ${w.key} is written twice in one call`);
    seen.add(w.key);
    checkMigratableWrite(w.key, w.delete ? undefined : w.value);
    const rev = revisionOf(w.expectRevision, w.key);
    preconditions.push(rev === 0n ? { key: w.key, absent: true } : { key: w.key, modRevision: rev });
    mutations.push(w.delete ? { op: 'delete', key: w.key } : { op: 'put', key: w.key, value: w.value });
  }
  return { preconditions, mutations };
}

/** Store errors keep their own code (conflict, unavailable…); a malformed request is the caller's. */
function storeFailure(err: unknown): unknown {
  if (err instanceof StoreError && err.code === 'invalid-request') return new IpamError('invalid-argument', err.message, { cause: err });
  return err;
}

export function migrationHandlers(datastore: Datastore): MigrationServer {
  const handlers: AsyncHandlers<MigrationServer> = {
    readRecords: async () => {
      const { items, revision } = await datastore.list(MIGRATION_PREFIX);
      const records = items.filter((kv) => migratableKind(kv.key) !== undefined).map((kv) => ({ key: kv.key, value: kv.value, revision: kv.revision.toString() }));
      return { records, revision: revision.toString() };
    },
    writeRecords: async (req) => {
      const txn = transactionOf(req.writes ?? []);
      try {
        const { revision } = await datastore.commit(txn);
        return { revision: revision.toString() };
      } catch (err) {
        throw storeFailure(err);
      }
    },
  };
  return unaryHandlers<MigrationServer>(handlers);
}

import { AlarmAction, AlarmType, Etcd3, GRPCResourceExhastedError, type Namespace } from 'etcd3';
import type { Kv, LeaseGrant, LeasingDatastore, Transaction, WatchEvent, WatchHandle } from '../datastore';
import { StoreClosedError, StoreCompactedError, StoreError, StoreUnavailableError } from '../errors';
import { validateLeaseId, validateLeaseTtl, validateMutationLeases } from '../lease-validation';
import { validateKey, validateKeys, validateTransaction, validateWatchRevision } from '../request-validation';
import { callOptionsWithin, type EtcdCallOptions } from './etcd-call';
import { buildEtcdClientOptions, DEFAULT_LIST_TIMEOUT_MS, resolveAttemptTimeout, resolveRequestTimeout, type EtcdDatastoreOptions } from './etcd-client-options';
import { toStoreError } from './etcd-errors';
import { grantEtcdLease, keepAliveEtcdLease, revokeEtcdLease } from './etcd-leases';
import { isRevisionCompacted, listEtcdPrefix, listEtcdPrefixKeys, readEtcdKey } from './etcd-reads';
import { commitEtcdTransaction, readEtcdSnapshot } from './etcd-transaction';
import { startEtcdWatch, type EtcdWatch } from './etcd-watch';
import { withTimeBound } from './time-bound';

/**
 * The Datastore port on etcd v3. Every unary call is bounded by `requestTimeoutMs`
 * (retries included) and fails with StoreUnavailableError past it; watch() takes at most
 * twice that (a compaction probe, then etcd accepting the watch). Open watches have no
 * deadline and survive connection loss. See README for what etcd3's retries imply.
 */
/** What an operator reads first when etcd has raised its NOSPACE alarm (docs/troubleshooting.md). */
export const ETCD_OUT_OF_SPACE =
  'etcd is out of space: its database reached its quota (NOSPACE alarm) and it refuses every write until an operator compacts and defragments it and clears the alarm with `etcdctl alarm disarm` (docs/troubleshooting.md)';
const ALARM_QUERY_TIMEOUT_MS = 2000;

export class EtcdDatastore implements LeasingDatastore {
  private readonly client: Etcd3;
  private readonly ns: Namespace;
  private readonly requestTimeoutMs: number;
  private readonly listTimeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  constructor(options: EtcdDatastoreOptions) {
    this.requestTimeoutMs = resolveRequestTimeout(options.requestTimeoutMs);
    this.listTimeoutMs = resolveRequestTimeout(options.listTimeoutMs, 'listTimeoutMs', Math.max(DEFAULT_LIST_TIMEOUT_MS, this.requestTimeoutMs));
    this.attemptTimeoutMs = resolveAttemptTimeout(options.attemptTimeoutMs, this.requestTimeoutMs);
    this.client = new Etcd3(buildEtcdClientOptions(options));
    this.ns = options.namespace ? this.client.namespace(options.namespace) : this.client;
  }

  get(key: string): Promise<Kv | undefined> {
    return this.run('get', (call) => {
      validateKey(key);
      return readEtcdKey(this.ns, key, call);
    });
  }

  getMany(keys: string[]): Promise<Map<string, Kv | undefined>> {
    return this.run('getMany', async (call) => {
      validateKeys(keys);
      const snapshot = await readEtcdSnapshot(this.ns, keys, call);
      return new Map(keys.map((key) => [key, snapshot.get(key)]));
    });
  }

  /**
   * One range request, so the listing is one snapshot. It has its own, longer bound: at
   * 5000 blocks the answer is ~30 MiB, and a few such lists at once (ipam check) passed
   * 5 s. (Pages at a pinned revision would keep each answer small, but etcd 3.4 scans the
   * whole rest of the range for every page, which made a 150 000-handle listing 13 × slower.)
   */
  list(prefix: string): Promise<{ items: Kv[]; revision: bigint }> {
    // One attempt may take the whole bound: a large answer is slow, not stuck. A list on a
    // dead connection is ended by the channel's keepalive instead.
    return this.run('list', (call) => listEtcdPrefix(this.ns, prefix, call), this.listTimeoutMs, this.listTimeoutMs);
  }

  listKeys(prefix: string): Promise<string[]> {
    return this.run('listKeys', (call) => listEtcdPrefixKeys(this.ns, prefix, call));
  }

  commit(txn: Transaction): Promise<{ revision: bigint }> {
    return this.run('commit', (call) => {
      validateTransaction(txn);
      validateMutationLeases(txn);
      return commitEtcdTransaction(this.ns, txn, call);
    });
  }

  grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    return this.run('grantLease', (call) => {
      validateLeaseTtl(ttlSeconds);
      return grantEtcdLease(this.client, ttlSeconds, call);
    });
  }

  keepAliveLease(id: bigint): Promise<number | undefined> {
    return this.run('keepAliveLease', (call) => {
      validateLeaseId(id);
      return keepAliveEtcdLease(this.client, id, call);
    });
  }

  revokeLease(id: bigint): Promise<void> {
    return this.run('revokeLease', (call) => {
      validateLeaseId(id);
      return revokeEtcdLease(this.client, id, call);
    });
  }

  async watch(
    prefix: string,
    fromRevision: bigint,
    onEvent: (e: WatchEvent) => void,
    onError: (err: StoreError) => void,
  ): Promise<WatchHandle> {
    validateWatchRevision(fromRevision);
    // Checked up front because etcd3 reports a watch on compacted history only as an
    // untyped cancellation after the watch was accepted.
    if (await this.run('watch', (call) => isRevisionCompacted(this.ns, fromRevision, call))) {
      throw new StoreCompactedError(fromRevision);
    }
    let watch: EtcdWatch;
    try {
      watch = await startEtcdWatch({
        ns: this.ns,
        prefix,
        fromRevision,
        onEvent,
        onError,
        timeoutMs: this.requestTimeoutMs,
        explainCancel: (resumeRevision, cause) => this.explainWatchCancel(resumeRevision, cause),
      });
    } catch (err) {
      throw toStoreError(err, 'watch');
    }
    if (this.closed) {
      // close() ran while etcd was accepting the watch and could not see it.
      await watch.close();
      throw new StoreClosedError();
    }
    this.watches.add(watch);
    return {
      close: async () => {
        this.watches.delete(watch);
        await watch.close();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = [...this.watches];
    this.watches.clear();
    await Promise.all(open.map((w) => w.close()));
    this.client.close();
  }

  /** Runs one unary operation within the time bound and maps whatever it throws. */
  private async run<T>(operation: string, work: (call: EtcdCallOptions) => Promise<T>, timeoutMs = this.requestTimeoutMs, attemptTimeoutMs = this.attemptTimeoutMs): Promise<T> {
    this.assertOpen();
    try {
      return await withTimeBound(work(callOptionsWithin(timeoutMs, attemptTimeoutMs)), timeoutMs, operation);
    } catch (err) {
      if (this.closed) throw new StoreClosedError();
      if (err instanceof GRPCResourceExhastedError) throw await this.explainExhausted(err, operation);
      throw toStoreError(err, operation);
    }
  }

  /**
   * etcd answers "resource exhausted" both when it is out of space and when it sheds load;
   * its alarm list tells which. Out of space, the operator must act, so the error says so
   * first, in their words.
   */
  private async explainExhausted(cause: Error, operation: string): Promise<StoreError> {
    const plain = toStoreError(cause, operation);
    const alarms = await withTimeBound(this.client.maintenance.alarm({ action: AlarmAction.Get, memberID: '0', alarm: AlarmType.None }), ALARM_QUERY_TIMEOUT_MS, 'alarm').catch(() => undefined);
    // The typings say 'Nospace'; the wire (enums as strings) says 'NOSPACE'; a number is possible too.
    const isNoSpace = (alarm: unknown) => ['NOSPACE', String(AlarmType.Nospace)].includes(String(alarm).toUpperCase());
    if (!alarms?.alarms.some((a) => isNoSpace(a.alarm))) return plain;
    return new StoreUnavailableError(`${ETCD_OUT_OF_SPACE}; ${plain.message}`, cause);
  }

  private async explainWatchCancel(resumeRevision: bigint, cause: unknown): Promise<StoreError> {
    try {
      if (await this.run('watch', (call) => isRevisionCompacted(this.ns, resumeRevision, call))) {
        return new StoreCompactedError(resumeRevision, cause);
      }
      return new StoreError('internal', 'etcd cancelled the watch', { retryable: false, cause });
    } catch (err) {
      return toStoreError(err, 'watch');
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

import type { Datastore, Kv, Transaction, WatchHandle } from '@atoll/store';
import { StoreConflictError } from '@atoll/store';

/** Revisions of sandbox writes: far above any real etcd revision, so they never match a read of the store. */
const FIRST_SANDBOX_REVISION = 1n << 62n;

/**
 * A datastore that reads through to a real one and keeps its own writes in memory: the
 * engine runs exactly as it would (reads, claims, compare-and-swap commits) and nothing
 * reaches etcd. Explaining an assignment is running the real one in here.
 */
export class SandboxDatastore implements Datastore {
  /** Keys this sandbox wrote: the value (undefined: deleted) and its sandbox revision. */
  private readonly written = new Map<string, { value: string | undefined; revision: bigint }>();
  private nextRevision = FIRST_SANDBOX_REVISION;

  constructor(private readonly base: Datastore) {}

  /** Keys this sandbox created (absent in the store, present here). */
  async created(key: string): Promise<boolean> {
    const w = this.written.get(key);
    return w !== undefined && w.value !== undefined && (await this.base.get(key)) === undefined;
  }

  async get(key: string): Promise<Kv | undefined> {
    const w = this.written.get(key);
    if (w) return w.value === undefined ? undefined : { key, value: w.value, revision: w.revision };
    return this.base.get(key);
  }

  async getMany(keys: string[]): Promise<Map<string, Kv | undefined>> {
    const fromBase = await this.base.getMany(keys.filter((k) => !this.written.has(k)));
    return new Map(await Promise.all(keys.map(async (k) => [k, this.written.has(k) ? await this.get(k) : fromBase.get(k)] as const)));
  }

  async list(prefix: string): Promise<{ items: Kv[]; revision: bigint }> {
    const { items, revision } = await this.base.list(prefix);
    const merged = new Map(items.map((kv) => [kv.key, kv]));
    for (const [key, w] of this.written) {
      if (!key.startsWith(prefix)) continue;
      if (w.value === undefined) merged.delete(key);
      else merged.set(key, { key, value: w.value, revision: w.revision });
    }
    return { items: [...merged.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), revision };
  }

  async listKeys(prefix: string): Promise<string[]> {
    return (await this.list(prefix)).items.map((kv) => kv.key);
  }

  async commit(txn: Transaction): Promise<{ revision: bigint }> {
    const current = await this.getMany(txn.preconditions.map((p) => p.key));
    const holds = txn.preconditions.every((p) => {
      const kv = current.get(p.key);
      return 'absent' in p ? kv === undefined : kv?.revision === p.modRevision;
    });
    if (!holds) throw new StoreConflictError(current);
    const revision = this.nextRevision++;
    for (const m of txn.mutations) this.written.set(m.key, { value: m.op === 'put' ? m.value : undefined, revision });
    return { revision };
  }

  watch(): Promise<WatchHandle> {
    return Promise.reject(new Error('a sandbox datastore cannot be watched'));
  }

  async close(): Promise<void> {
    // the base store belongs to the caller
  }
}

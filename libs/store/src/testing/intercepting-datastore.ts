import type { Datastore, Kv, Transaction, WatchEvent, WatchHandle } from '../datastore';
import { StoreUnavailableError, type StoreError } from '../errors';

/** What a commit came to: `revision` when the inner store applied it, `error` when the caller gets one. */
export interface CommitOutcome {
  revision?: bigint;
  error?: unknown;
}

export type BeforeCommitHook = (txn: Transaction) => Promise<void>;
export type AfterCommitHook = (txn: Transaction, outcome: CommitOutcome) => Promise<void>;

/**
 * How an injected failure behaves:
 * - 'before-apply': nothing is written, the commit throws StoreUnavailableError (etcd unreachable);
 * - 'after-apply': the commit is applied, then throws StoreUnavailableError (etcd committed
 *   but the answer was lost — the case every writer must survive by re-reading).
 */
export type InjectedCommitFailure = 'before-apply' | 'after-apply';

/**
 * Wraps any Datastore so a test can act at exact points of a commit: run a competing
 * writer between an engine's read and its write, observe outcomes, or inject failures.
 * Reads and watches pass straight through.
 *
 * Hooks that write must write through `inner`; writing through this wrapper would run the
 * hooks again.
 */
export class InterceptingDatastore implements Datastore {
  /** Runs before every commit, after any one-shot hook. */
  beforeCommit: BeforeCommitHook | undefined;
  /** Runs after every commit (also failed ones), before the caller sees the outcome. */
  afterCommit: AfterCommitHook | undefined;
  /** How many times commit() was called, injected failures and conflicts included. */
  commitCalls = 0;

  private readonly oneShotHooks: BeforeCommitHook[] = [];
  private readonly injectedFailures: InjectedCommitFailure[] = [];

  constructor(
    readonly inner: Datastore,
    hooks: { beforeCommit?: BeforeCommitHook; afterCommit?: AfterCommitHook } = {},
  ) {
    this.beforeCommit = hooks.beforeCommit;
    this.afterCommit = hooks.afterCommit;
  }

  /** Runs `hook` before the next commit only (queued: one per later commit). */
  beforeNextCommit(hook: BeforeCommitHook): void {
    this.oneShotHooks.push(hook);
  }

  /** Makes the next `count` commits fail with StoreUnavailableError, applied or not (see InjectedCommitFailure). */
  failNextCommits(count: number, mode: InjectedCommitFailure = 'before-apply'): void {
    for (let i = 0; i < count; i++) this.injectedFailures.push(mode);
  }

  async commit(txn: Transaction): Promise<{ revision: bigint }> {
    this.commitCalls++;
    const oneShot = this.oneShotHooks.shift();
    if (oneShot) await oneShot(txn);
    if (this.beforeCommit) await this.beforeCommit(txn);

    const injected = this.injectedFailures.shift();
    if (injected === 'before-apply') {
      return this.finish(txn, { error: injectedError('before it was applied') });
    }
    let revision: bigint;
    try {
      ({ revision } = await this.inner.commit(txn));
    } catch (error) {
      return this.finish(txn, { error });
    }
    if (injected === 'after-apply') {
      return this.finish(txn, { revision, error: injectedError(`after it was applied at revision ${revision}`) });
    }
    return this.finish(txn, { revision });
  }

  get(key: string): Promise<Kv | undefined> {
    return this.inner.get(key);
  }

  getMany(keys: string[]): Promise<Map<string, Kv | undefined>> {
    return this.inner.getMany(keys);
  }

  list(prefix: string): Promise<{ items: Kv[]; revision: bigint }> {
    return this.inner.list(prefix);
  }

  listKeys(prefix: string): Promise<string[]> {
    return this.inner.listKeys(prefix);
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

  private async finish(txn: Transaction, outcome: CommitOutcome): Promise<{ revision: bigint }> {
    if (this.afterCommit) await this.afterCommit(txn, outcome);
    if (outcome.error !== undefined) throw outcome.error;
    // No error means the inner commit resolved, so it produced a revision.
    return { revision: outcome.revision as bigint };
  }
}

function injectedError(when: string): StoreUnavailableError {
  return new StoreUnavailableError(`injected failure: commit reported unavailable ${when}`);
}

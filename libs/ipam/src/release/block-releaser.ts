import { parseCidr } from '@atoll/ipmath';
import type { IpamHandle } from '@atoll/model';
import { Datastore } from '@atoll/store';
import type { BlockCache } from '../assign/block-cache';
import type { OrdinalRelease } from '../block';
import { KeyedQueue } from '../keyed-queue';
import { blockChange, Change, commitChanges, handleChange, IpamRecords, type HandleRecord } from '../io';
import { releaseBatchCause } from '../history/release-cause';
import { retryOnConflict, RetryPolicy } from '../retry';
import {
  BlockReleaseOutcome,
  BlockReleaseTask,
  HandleEffect,
  HandleReleaseOutcome,
  namedHandles,
  nextHandle,
  OrdinalsReleaseOutcome,
  planBlockRelease,
} from './block-release-plan';

export interface BlockReleaserDeps {
  readonly ds: Datastore;
  readonly now: () => Date;
  readonly retry?: RetryPolicy;
  /** Told what each batch read and wrote, so that the next allocation plans from it. */
  readonly blockCache: BlockCache;
}

/**
 * Releases in one block are served one batch at a time: whatever queued up for the block
 * while a batch ran is read with ONE read (the block and the handles the tasks name), worked
 * out in memory (see planBlockRelease) and written with ONE transaction comparing every key it
 * writes. A conflict redoes the whole batch from a fresh read; an error of one task (a stale
 * sequence number, a missing handle) is that task's answer alone; a store failure fails the
 * batch, since every task shares it.
 */
export class BlockReleaser {
  private readonly queue: KeyedQueue<BlockReleaseTask, BlockReleaseOutcome>;

  /** `maxBatch` bounds the handles a batch names, which bounds its transaction's size. */
  constructor(
    private readonly deps: BlockReleaserDeps,
    maxBatch: number,
  ) {
    this.queue = new KeyedQueue((cidrText, tasks) => this.runBatch(cidrText, tasks), maxBatch);
  }

  /** Releases a handle that lives in this block only; 'elsewhere' when it does not. */
  releaseHandle(cidrText: string, handleId: string, cooldownSeconds: number): Promise<HandleReleaseOutcome> {
    return this.queue.submit(cidrText, { kind: 'handle', handleId, cooldownSeconds }) as Promise<HandleReleaseOutcome>;
  }

  /** Releases ordinals of the block; resolves to the ones that were not allocated. */
  async releaseOrdinals(cidrText: string, items: readonly OrdinalRelease[], cooldownSeconds: number): Promise<readonly number[]> {
    // each address may name a different handle, and every handle is one more key to write
    const outcome = (await this.queue.submit(cidrText, { kind: 'ordinals', items, cooldownSeconds }, items.length)) as OrdinalsReleaseOutcome;
    return outcome.notAllocated;
  }

  private runBatch(cidrText: string, tasks: readonly BlockReleaseTask[]): Promise<(BlockReleaseOutcome | Error)[]> {
    const cidr = parseCidr(cidrText);
    const records = new IpamRecords(this.deps.ds);
    return retryOnConflict(async () => {
      const { blocks, handles } = await records.getBlocksAndHandles([cidr], namedHandles(tasks));
      const block = blocks.get(cidrText);
      if (block) this.deps.blockCache.remember([block]);
      const plan = planBlockRelease(cidrText, block?.value, valuesOf(handles), tasks, this.deps.now());

      // handles found only in the block (addresses released without naming their handle)
      const unread = [...plan.handleEffects.keys()].filter((id) => !handles.has(id));
      for (const [id, rec] of await records.getHandles(unread)) handles.set(id, rec);

      const changes: Change[] = [];
      if (plan.blockChanged && block) changes.push(blockChange(block, plan.nextBlock));
      changes.push(...handleChanges(cidrText, plan.handleEffects, handles));
      this.deps.blockCache.recordCommit(changes, await commitChanges(this.deps.ds, changes, releaseBatchCause(tasks)));
      return [...plan.outcomes];
    }, this.deps.retry);
  }
}

function valuesOf(handles: ReadonlyMap<string, HandleRecord>): Map<string, IpamHandle> {
  return new Map([...handles].map(([id, rec]) => [id, rec.value]));
}

function handleChanges(cidrText: string, effects: ReadonlyMap<string, HandleEffect>, handles: ReadonlyMap<string, HandleRecord>): Change[] {
  const changes: Change[] = [];
  for (const [id, effect] of effects) {
    const rec = handles.get(id);
    if (!rec) continue; // a block entry with no handle record: nothing to count down
    const next = nextHandle(cidrText, rec.value, effect);
    if (next !== undefined) changes.push(handleChange(id, rec, next));
  }
  return changes;
}

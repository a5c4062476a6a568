import { formatCidr, tryParseCidr } from '@atoll/ipmath';
import type { AllocationBlock, IpamHandle } from '@atoll/model';
import { isEmpty, releaseHandleOrdinals, releaseOrdinals, type OrdinalRelease } from '../block';
import { IpamError, Messages } from '../errors';

// What a batch of releases in ONE block does, worked out in memory from one read of the
// block and the handles: the tasks are applied one after another to the block value, as if
// they had run alone in that order, so a later task sees what an earlier one released.

/** Every live address of a handle that lives in this block only. */
export interface HandleReleaseTask {
  readonly kind: 'handle';
  readonly handleId: string;
  readonly cooldownSeconds: number;
}

/** Specific ordinals, each maybe checked against a handle and a sequence number (releaseIPs). */
export interface OrdinalsReleaseTask {
  readonly kind: 'ordinals';
  readonly items: readonly OrdinalRelease[];
  readonly cooldownSeconds: number;
}

export type BlockReleaseTask = HandleReleaseTask | OrdinalsReleaseTask;

export type HandleReleaseOutcome =
  | { readonly kind: 'handle'; readonly freed: readonly number[] }
  /** The handle does not name exactly this block (any more): release it across blocks instead. */
  | { readonly kind: 'elsewhere' };

export interface OrdinalsReleaseOutcome {
  readonly kind: 'ordinals';
  /** Ordinals asked for that were not allocated (free, cooling down, or no block at all). */
  readonly notAllocated: readonly number[];
}

export type BlockReleaseOutcome = HandleReleaseOutcome | OrdinalsReleaseOutcome;

/** What the batch does to one handle record. */
export interface HandleEffect {
  /** The handle record is deleted (a release by handle). */
  deleted: boolean;
  /** How many of its addresses in this block the batch released. */
  released: number;
}

export interface BlockReleasePlan {
  /** One entry per task, in order; an IpamError refuses that task alone. */
  readonly outcomes: readonly (BlockReleaseOutcome | IpamError)[];
  /** Whether the block must be written; `nextBlock` null deletes it. */
  readonly blockChanged: boolean;
  readonly nextBlock: AllocationBlock | null;
  /** Handles whose record changes; ones counted down may not have been read yet. */
  readonly handleEffects: ReadonlyMap<string, HandleEffect>;
}

/** Handles the tasks name up front, so the batch's first read can include them. */
export function namedHandles(tasks: readonly BlockReleaseTask[]): string[] {
  const ids = new Set<string>();
  for (const t of tasks) {
    if (t.kind === 'handle') ids.add(t.handleId);
    else for (const it of t.items) if (it.handleId !== undefined) ids.add(it.handleId);
  }
  return [...ids];
}

function livesOnlyIn(handle: IpamHandle, cidrText: string): boolean {
  const named = Object.keys(handle.block);
  return named.length === 1 && sameCidr(named[0]!, cidrText);
}

function sameCidr(text: string, cidrText: string): boolean {
  // an unparsable entry is left to the across-blocks path, which reports it
  const cidr = tryParseCidr(text);
  return cidr !== undefined && formatCidr(cidr) === cidrText;
}

/**
 * Applies the tasks to the block in order. `block` is undefined when the block does not
 * exist; `handles` holds the records read for `namedHandles(tasks)`.
 */
export function planBlockRelease(
  cidrText: string,
  block: AllocationBlock | undefined,
  handles: ReadonlyMap<string, IpamHandle>,
  tasks: readonly BlockReleaseTask[],
  now: Date,
): BlockReleasePlan {
  let current = block;
  let released = false;
  const effects = new Map<string, HandleEffect>();
  const effectOf = (id: string) => {
    let e = effects.get(id);
    if (!e) {
      e = { deleted: false, released: 0 };
      effects.set(id, e);
    }
    return e;
  };

  const outcomes = tasks.map((task): BlockReleaseOutcome | IpamError => {
    const timing = { now, cooldownSeconds: task.cooldownSeconds };
    if (task.kind === 'handle') {
      const handle = handles.get(task.handleId);
      // deleted earlier in this batch: a duplicate release, which finds nothing as it would alone
      if (!handle || effects.get(task.handleId)?.deleted) return new IpamError('not-found', Messages.handleNotFound(task.handleId));
      if (!livesOnlyIn(handle, cidrText)) return { kind: 'elsewhere' };
      let freed: readonly number[] = [];
      if (current) {
        const r = releaseHandleOrdinals(current, task.handleId, timing);
        current = r.block;
        freed = r.released;
        released ||= freed.length > 0;
      }
      const e = effectOf(task.handleId);
      e.deleted = true;
      e.released += freed.length;
      return { kind: 'handle', freed };
    }
    if (!current) return { kind: 'ordinals', notAllocated: task.items.map((it) => it.ordinal) };
    try {
      const r = releaseOrdinals(current, task.items, timing);
      current = r.block;
      released ||= r.released.length > 0;
      for (const [id, n] of r.handleCounts) effectOf(id).released += n;
      return { kind: 'ordinals', notAllocated: r.notAllocated };
    } catch (err) {
      // a stale sequence number or another handle refuses this task's block, for this task only
      if (err instanceof IpamError && err.code === 'sequence-mismatch') return err;
      throw err;
    }
  });

  const nextBlock = current === undefined || (isEmpty(current) && current.affinity === null) ? null : current;
  return { outcomes, blockChanged: released, nextBlock, handleEffects: effects };
}

/** A handle's record after the batch: null deletes it; undefined leaves it alone. */
export function nextHandle(cidrText: string, handle: IpamHandle, effect: HandleEffect): IpamHandle | null | undefined {
  if (effect.deleted) return null;
  if (effect.released === 0) return undefined;
  const counts = { ...handle.block };
  counts[cidrText] = Math.max(0, (counts[cidrText] ?? 0) - effect.released);
  return { ...handle, block: counts };
}

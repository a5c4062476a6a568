import type { AllocationBlock } from '@atoll/model';
import type { Datastore, Mutation } from '@atoll/store';
import { eventsOfBlockChange } from './block-diff';
import type { HistoryCause } from './history-cause';
import type { HistoryEvent } from './history-event';
import { historyLogOf } from './recording-datastore';

export interface BlockTransition {
  /** undefined: the block is created by this transaction. */
  readonly before: AllocationBlock | undefined;
  /** null: the block is deleted by this transaction. */
  readonly after: AllocationBlock | null;
}

const UNKNOWN_CAUSE: HistoryCause = { kindOf: () => 'unknown' };

/**
 * The one put recording what a transaction's block writes assign and release, or undefined
 * when history is off or nothing changed hands. Changes are anything with a block
 * transition; the rest (handles, affinities) add no event.
 */
export async function historyMutation(
  ds: Datastore,
  changes: readonly { readonly blockTransition?: BlockTransition }[],
  cause: HistoryCause | undefined,
  opts: { renewLease?: boolean } = {},
): Promise<Mutation | undefined> {
  const log = historyLogOf(ds);
  if (!log) return undefined;
  const events: HistoryEvent[] = [];
  for (const c of changes) {
    if (c.blockTransition) events.push(...eventsOfBlockChange(c.blockTransition.before, c.blockTransition.after, cause ?? UNKNOWN_CAUSE));
  }
  if (events.length === 0) return undefined;
  if (opts.renewLease) log.forgetLease();
  return log.recordMutation(events, log.now());
}

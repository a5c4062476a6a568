import type { AddressChange, HistoryCause } from './history-cause';
import type { HistoryKind } from './history-event';

/** A release by address may say why it is made (the garbage collector's are `leak`). */
export interface LabelledOrdinalRelease {
  readonly ordinal: number;
  readonly historyKind?: HistoryKind;
}

/**
 * The cause of one block's batch of releases: an address named by a release by address is
 * `release-ip` (or the kind that release gave), any other is freed by a release by handle.
 */
export function releaseBatchCause(tasks: readonly ({ kind: 'handle' } | { kind: 'ordinals'; items: readonly LabelledOrdinalRelease[] })[]): HistoryCause {
  const byOrdinal = new Map<number, HistoryKind>();
  for (const task of tasks) {
    if (task.kind !== 'ordinals') continue;
    for (const item of task.items) if (!byOrdinal.has(item.ordinal)) byOrdinal.set(item.ordinal, item.historyKind ?? 'release-ip');
  }
  return { kindOf: (c: AddressChange) => byOrdinal.get(c.ordinal) ?? 'release-handle' };
}

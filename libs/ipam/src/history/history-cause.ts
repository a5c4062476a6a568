import { TUNNEL_ADDRESS_TYPES } from '../gc/validity';
import type { HistoryAction, HistoryKind } from './history-event';

/** What the change of one address looks like to the operation that made it. */
export interface AddressChange {
  readonly action: HistoryAction;
  readonly ordinal: number;
  readonly handleId?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * Why a transaction changes allocations: the operation that commits it says, and
 * `commitChanges` turns it into one event per changed address. An operation that serves
 * several kinds at once (a batch of releases by address and by handle) answers per address.
 */
export interface HistoryCause {
  kindOf(change: AddressChange): HistoryKind;
  /** Also record the addresses that stayed with their holder (a pool deleted under them). */
  readonly recordKept?: boolean;
}

/** Every change of the transaction has this kind; an assignment of a node tunnel address is `tunnel`. */
export function historyCause(kind: HistoryKind): HistoryCause {
  return { kindOf: (c) => (c.action === 'assigned' && isTunnel(c.attributes) ? 'tunnel' : kind) };
}

/** A hand-off moves a held address to a new holder in one transaction: both halves are `handoff`. */
export const HANDOFF_CAUSE: HistoryCause = historyCause('handoff');

/** A pool deleted while its addresses are held: they stay with their holders, and that is recorded. */
export const POOL_DELETION_CAUSE: HistoryCause = { kindOf: () => 'pool-deletion', recordKept: true };

function isTunnel(attributes: Readonly<Record<string, string>>): boolean {
  const type = attributes['type'];
  return type !== undefined && TUNNEL_ADDRESS_TYPES.has(type);
}

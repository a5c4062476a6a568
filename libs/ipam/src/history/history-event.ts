
/**
 * What happened to an address, as the operation that changed it says:
 * - `auto`, `static`, `handoff`, `tunnel`: how it was assigned (a hand-off also releases
 *   the address from its previous holder in the same transaction);
 * - `release-ip`, `release-handle`, `leak`: how it was released (`leak`: the garbage
 *   collector found no pod for it);
 * - `pool-deletion`: its pool was deleted while it was held (the holder keeps it, as in
 *   Calico, until it is released);
 * - `unknown`: a write that did not say (kept rather than dropped, so the history never
 *   misses a change).
 */
export type HistoryKind =
  | 'auto'
  | 'static'
  | 'handoff'
  | 'tunnel'
  | 'release-ip'
  | 'release-handle'
  | 'leak'
  | 'pool-deletion'
  | 'unknown';

export const HISTORY_KINDS: readonly HistoryKind[] = [
  'auto',
  'static',
  'handoff',
  'tunnel',
  'release-ip',
  'release-handle',
  'leak',
  'pool-deletion',
  'unknown',
];

/** `kept`: the address stayed with its holder while something about it changed (its pool was deleted). */
export type HistoryAction = 'assigned' | 'released' | 'kept';

/** One address's change, as written in the transaction that made it. */
export interface HistoryEvent {
  readonly action: HistoryAction;
  readonly kind: HistoryKind;
  readonly ip: string;
  /** The block holding the address. */
  readonly block: string;
  readonly handleId?: string;
  /** The allocation's attributes (namespace, pod, node, type, timestamp…). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** An event as read back: with the wall time it was committed at and the transaction's etcd revision. */
export interface RecordedEvent extends HistoryEvent {
  /** RFC 3339, UTC, millisecond precision: the committing engine's clock. */
  readonly at: string;
  /** The etcd revision of the transaction: orders events exactly, whatever the clocks say. */
  readonly revision: bigint;
}

interface StoredRecord {
  v: 1;
  at: string;
  events: StoredEvent[];
}

/** Short field names: a record is written with every allocation, so its size is paid per pod. */
interface StoredEvent {
  a: HistoryAction;
  k: HistoryKind;
  ip: string;
  b: string;
  h?: string;
  at?: Record<string, string>;
}

export function encodeHistoryRecord(at: Date, events: readonly HistoryEvent[]): string {
  const record: StoredRecord = {
    v: 1,
    at: at.toISOString(),
    events: events.map((e) => ({
      a: e.action,
      k: e.kind,
      ip: e.ip,
      b: e.block,
      ...(e.handleId !== undefined && { h: e.handleId }),
      ...(Object.keys(e.attributes).length > 0 && { at: { ...e.attributes } }),
    })),
  };
  return JSON.stringify(record);
}

const ACTIONS: ReadonlySet<string> = new Set(['assigned', 'released', 'kept']);
const KINDS: ReadonlySet<string> = new Set(HISTORY_KINDS);

/** Reads a stored record; a value that is not one (written by something else) gives no events rather than an error. */
export function decodeHistoryRecord(json: string, revision: bigint): RecordedEvent[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [];
  }
  const o = raw as Partial<StoredRecord> | null;
  if (!o || o.v !== 1 || typeof o.at !== 'string' || !Array.isArray(o.events)) return [];
  const out: RecordedEvent[] = [];
  for (const e of o.events as Partial<StoredEvent>[]) {
    if (!e || typeof e.ip !== 'string' || typeof e.b !== 'string' || !ACTIONS.has(String(e.a)) || !KINDS.has(String(e.k))) continue;
    out.push({
      at: o.at,
      revision,
      action: e.a as HistoryAction,
      kind: e.k as HistoryKind,
      ip: e.ip,
      block: e.b,
      ...(typeof e.h === 'string' && { handleId: e.h }),
      attributes: stringsOnly(e.at),
    });
  }
  return out;
}

function stringsOnly(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null) return {};
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
}

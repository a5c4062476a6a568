import type { HistoryKind, RecordedEvent } from './history-event';

/** A moment in an address's life: when, how, and in which transaction. */
export interface HistoryMoment {
  readonly at: string;
  readonly kind: HistoryKind;
  readonly revision: bigint;
}

/** One holder's time with one address. */
export interface Holding {
  readonly ip: string;
  readonly block: string;
  readonly handleId?: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** undefined: assigned before the retained history begins. */
  readonly from?: HistoryMoment;
  /** undefined: still held (as far as the history knows). */
  readonly until?: HistoryMoment;
  /** Things that happened while it was held (its pool was deleted). */
  readonly notes: readonly HistoryMoment[];
}

type Open = { -readonly [K in keyof Holding]: Holding[K] } & { notes: HistoryMoment[] };

function momentOf(e: RecordedEvent): HistoryMoment {
  return { at: e.at, kind: e.kind, revision: e.revision };
}

/** Pairs each assignment with the release that ended it; `events` in commit order. */
export function holdingsOf(events: readonly RecordedEvent[]): Holding[] {
  const open = new Map<string, Open>();
  const out: Holding[] = [];
  for (const e of events) {
    const current = open.get(e.ip);
    if (e.action === 'assigned') {
      // an assignment over an unreleased holder means its release was not retained: it ended here
      if (current) out.push({ ...current, until: momentOf(e) });
      open.set(e.ip, {
        ip: e.ip,
        block: e.block,
        ...(e.handleId !== undefined && { handleId: e.handleId }),
        attributes: e.attributes,
        from: momentOf(e),
        notes: [],
      });
    } else if (e.action === 'released') {
      const held: Open = current ?? { ip: e.ip, block: e.block, ...(e.handleId !== undefined && { handleId: e.handleId }), attributes: e.attributes, notes: [] };
      out.push({ ...held, until: momentOf(e) });
      open.delete(e.ip);
    } else {
      const held = current ?? { ip: e.ip, block: e.block, ...(e.handleId !== undefined && { handleId: e.handleId }), attributes: e.attributes, notes: [] };
      held.notes.push(momentOf(e));
      open.set(e.ip, held);
    }
  }
  out.push(...open.values());
  return out.sort(byStart);
}

function byStart(a: Holding, b: Holding): number {
  if (a.from === undefined || b.from === undefined) return a.from === b.from ? 0 : a.from === undefined ? -1 : 1;
  return a.from.revision < b.from.revision ? -1 : a.from.revision > b.from.revision ? 1 : 0;
}

export interface HoldingQuery {
  readonly ip?: string;
  readonly pod?: { readonly namespace: string; readonly name: string };
  readonly node?: string;
  /** Holders at this instant… */
  readonly at?: Date;
  /** …or every holder at any time since then. */
  readonly since?: Date;
}

function startMs(h: Holding): number {
  return h.from === undefined ? -Infinity : Date.parse(h.from.at);
}

function endMs(h: Holding): number {
  return h.until === undefined ? Infinity : Date.parse(h.until.at);
}

/** The holdings matching the query, oldest first. */
export function queryHoldings(holdings: readonly Holding[], q: HoldingQuery): Holding[] {
  return holdings.filter((h) => {
    if (q.ip !== undefined && h.ip !== q.ip) return false;
    if (q.pod !== undefined && (h.attributes['namespace'] !== q.pod.namespace || h.attributes['pod'] !== q.pod.name)) return false;
    if (q.node !== undefined && h.attributes['node'] !== q.node) return false;
    if (q.at !== undefined) {
      const t = q.at.getTime();
      return startMs(h) <= t && t < endMs(h);
    }
    if (q.since !== undefined) return endMs(h) >= q.since.getTime();
    return true;
  });
}

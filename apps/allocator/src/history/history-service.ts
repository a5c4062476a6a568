import { unaryHandlers, type AsyncHandlers, type HistoryMoment as WireMoment, type HistoryServer, type Holding as WireHolding, type HoldingsQuery } from '@atoll/api';
import { formatIp, tryParseIp } from '@atoll/ipmath';
import { holdingsOf, IpamError, queryHoldings, readHistory, type HistoryMoment, type Holding, type HoldingQuery } from '@atoll/ipam';
import type { Datastore } from '@atoll/store';
import { withoutRequestTag } from '../abandoned-assignments';

// The History gRPC service: reads the retained events from etcd (so every replica, and a
// restarted one, answers the same) and pairs assignments with their releases.

export interface HistoryServiceOptions {
  readonly datastore: Datastore;
  /** 0: this allocator records no history (what is in etcd is still answered). */
  readonly retentionSeconds: number;
  readonly now?: () => Date;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function parseTime(field: string, text: string): Date {
  const ms = RFC3339.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new IpamError('invalid-argument', `${field}: expected an RFC 3339 time such as 2026-12-05T14:02:00Z, got ${JSON.stringify(text)}`);
  return new Date(ms);
}

/** The query as the history library takes it; a clear error for anything malformed. */
export function holdingQueryOf(req: HoldingsQuery): HoldingQuery {
  const q: { -readonly [K in keyof HoldingQuery]: HoldingQuery[K] } = {};
  if (req.ip !== '') {
    const ip = tryParseIp(req.ip);
    if (!ip) throw new IpamError('invalid-argument', `ip: ${JSON.stringify(req.ip)} is not an IP address`);
    q.ip = formatIp(ip);
  }
  if (req.podNamespace !== '' || req.podName !== '') {
    if (req.podNamespace === '' || req.podName === '') throw new IpamError('invalid-argument', 'pod: both the namespace and the name are needed');
    q.pod = { namespace: req.podNamespace, name: req.podName };
  }
  if (req.node !== '') q.node = req.node;
  if (q.ip === undefined && q.pod === undefined && q.node === undefined) throw new IpamError('invalid-argument', 'say which address, pod or node to look up');
  if (req.at !== '' && req.since !== '') throw new IpamError('invalid-argument', 'at and since exclude each other');
  if (req.at !== '') q.at = parseTime('at', req.at);
  if (req.since !== '') q.since = parseTime('since', req.since);
  return q;
}

function wireMoment(m: HistoryMoment): WireMoment {
  return { at: m.at, kind: m.kind, revision: m.revision.toString() };
}

function wireHolding(h: Holding): WireHolding {
  return {
    ip: h.ip,
    block: h.block,
    handleId: h.handleId ?? '',
    // the request tag is the allocator's bookkeeping, not part of who held the address
    attributes: withoutRequestTag(h.attributes),
    assigned: h.from ? wireMoment(h.from) : undefined,
    released: h.until ? wireMoment(h.until) : undefined,
    notes: h.notes.map(wireMoment),
  };
}

export function historyHandlers(opts: HistoryServiceOptions): HistoryServer {
  const now = opts.now ?? (() => new Date());
  const handlers: AsyncHandlers<HistoryServer> = {
    queryHoldings: async (req) => {
      const query = holdingQueryOf(req);
      const answeredAt = now();
      // etcd keeps a bucket up to one bucket past the retention; answer exactly the retention
      const cutoff = opts.retentionSeconds > 0 ? answeredAt.getTime() - opts.retentionSeconds * 1000 : -Infinity;
      const events = (await readHistory(opts.datastore)).filter((e) => Date.parse(e.at) >= cutoff);
      const holdings = queryHoldings(holdingsOf(events), query);
      const begins = events.reduce<string>((min, e) => (min === '' || Date.parse(e.at) < Date.parse(min) ? e.at : min), '');
      return { holdings: holdings.map(wireHolding), historyBegins: begins, now: answeredAt.toISOString(), retentionSeconds: opts.retentionSeconds };
    },
  };
  return unaryHandlers<HistoryServer>(handlers);
}

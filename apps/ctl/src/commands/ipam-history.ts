import type { HistoryMoment, Holding, HoldingsAnswer, HoldingsQuery } from '@atoll/api';
import { formatIp, tryParseIp } from '@atoll/ipmath';
import { expectPositionals, outputFormat, ParsedArgs, stringFlag } from '../args';
import type { CommandContext, CtlIo, HistoryApi } from '../context';
import { CliError, UsageError } from '../errors';
import { parseGoDuration } from '@atoll/model';
import { formatJson } from '../format/json';
import { renderTabTable } from '../format/tab-table';
import { refusalMessage } from '../rpc-errors';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

// ipam history: who held an address (or what a pod or node held), at an instant or over a
// window, from the history the allocator records in etcd with every allocation change.

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const SEE = "see 'atollctl ipam history --help'";

function rfc3339(flag: string, text: string): string {
  if (!RFC3339.test(text) || Number.isNaN(Date.parse(text))) throw new UsageError(`flag --${flag} needs an RFC 3339 time such as 2026-12-05T14:02:00Z, got ${JSON.stringify(text)}; ${SEE}`);
  return new Date(Date.parse(text)).toISOString();
}

export interface HistoryRequest {
  readonly query: HoldingsQuery;
  /** Which subject is asked about, for the sentences. */
  readonly subject: string;
}

/** The query from the flags; `now` turns --since=24h into an instant. */
export function historyRequestOf(args: ParsedArgs, now: Date): HistoryRequest {
  const ipText = stringFlag(args, 'ip');
  const pod = stringFlag(args, 'pod');
  const node = stringFlag(args, 'node');
  const at = stringFlag(args, 'at');
  const since = stringFlag(args, 'since');
  if (ipText === undefined && pod === undefined && node === undefined) throw new UsageError(`say which address, pod or node to look up: --ip, --pod or --node; ${SEE}`);
  if (at !== undefined && since !== undefined) throw new UsageError(`flags --at and --since cannot be used together; ${SEE}`);
  let ip = '';
  if (ipText !== undefined) {
    const parsed = tryParseIp(ipText);
    if (!parsed) throw new UsageError(`flag --ip needs an IP address, got ${JSON.stringify(ipText)}; ${SEE}`);
    ip = formatIp(parsed);
  }
  let podNamespace = '';
  let podName = '';
  if (pod !== undefined) {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(pod);
    if (!m) throw new UsageError(`flag --pod needs namespace/name, got ${JSON.stringify(pod)}; ${SEE}`);
    [podNamespace, podName] = [m[1]!, m[2]!];
  }
  if (node !== undefined && node.trim() === '') throw new UsageError(`flag --node needs a node name; ${SEE}`);
  let sinceAt = '';
  if (since !== undefined) {
    const ms = parseGoDuration(since);
    sinceAt = ms !== undefined ? new Date(now.getTime() - ms).toISOString() : RFC3339.test(since) ? rfc3339('since', since) : '';
    if (sinceAt === '') throw new UsageError(`flag --since needs a duration such as 24h or 90m (or an RFC 3339 time), got ${JSON.stringify(since)}; ${SEE}`);
  }
  const subjects = [ip && ip, pod && `pod ${pod}`, node && `node ${node}`].filter(Boolean).join(', ');
  return {
    query: { ip, podNamespace, podName, node: node ?? '', at: at === undefined ? '' : rfc3339('at', at), since: sinceAt },
    subject: subjects,
  };
}

function holderOf(h: Holding): string {
  const ns = h.attributes['namespace'];
  const pod = h.attributes['pod'];
  const who = ns && pod ? `pod ${ns}/${pod}` : `handle ${h.handleId || '(none)'}`;
  const node = h.attributes['node'];
  return node ? `${who} on node ${node}` : who;
}

function moment(m: HistoryMoment | undefined, missing: string): string {
  return m ? `${m.at} (${m.kind})` : missing;
}

/** "the history kept begins at …", when the answer may be missing what came before. */
function coverage(answer: HoldingsAnswer, from: string | undefined): string {
  if (answer.retentionSeconds === 0 && answer.historyBegins === '') return '; the allocator records no history (--history-retention=0)';
  if (answer.historyBegins === '') return '; no history is kept yet';
  if (from === undefined || Date.parse(from) < Date.parse(answer.historyBegins)) return `; the history kept begins at ${answer.historyBegins}`;
  return '';
}

function nobody(req: HistoryRequest, when: string): string {
  const q = req.query;
  if (q.ip !== '' && q.podName === '' && q.node === '') return `nobody held ${q.ip} ${when}`;
  return `${req.subject} held no address ${when}`;
}

export function renderHoldingsText(req: HistoryRequest, answer: HoldingsAnswer): string {
  const q = req.query;
  if (q.at !== '') {
    if (answer.holdings.length === 0) return `${nobody(req, `at ${q.at}`)}${coverage(answer, q.at)}\n`;
    return answer.holdings
      .map((h) => `${h.ip} at ${q.at} was held by ${holderOf(h)} (handle ${h.handleId || '(none)'}): assigned ${moment(h.assigned, 'before the history kept')}, ${h.released ? `released ${moment(h.released, '')}` : 'still held'}${notesText(h)}\n`)
      .join('');
  }
  const when = q.since !== '' ? `since ${q.since}` : 'in the history kept';
  if (answer.holdings.length === 0) return `${nobody(req, when)}${coverage(answer, q.since || undefined)}\n`;
  const rows = answer.holdings.map((h) => [
    h.ip,
    h.attributes['namespace'] && h.attributes['pod'] ? `${h.attributes['namespace']}/${h.attributes['pod']}` : '-',
    h.attributes['node'] || '-',
    h.handleId || '-',
    // one word per cell, so that the table splits on blanks (awk, cut)
    h.assigned?.at ?? '-',
    h.assigned?.kind ?? 'before-history',
    h.released?.at ?? '-',
    h.released?.kind ?? 'still-held',
    h.notes.map((n) => `${n.kind}@${n.at}`).join(',') || '-',
  ]);
  return renderTabTable(['IP', 'POD', 'NODE', 'HANDLE', 'ASSIGNED', 'HOW', 'RELEASED', 'HOW', 'NOTES'], rows);
}

function notesText(h: Holding): string {
  return h.notes.map((n) => `; ${n.kind === 'pool-deletion' ? 'its pool was deleted' : n.kind} at ${n.at}`).join('');
}

function momentJson(m: HistoryMoment | undefined) {
  return m ? { at: m.at, kind: m.kind, revision: m.revision } : null;
}

export function holdingsJson(req: HistoryRequest, answer: HoldingsAnswer): unknown {
  const q = req.query;
  return {
    query: {
      ...(q.ip && { ip: q.ip }),
      ...(q.podName && { pod: `${q.podNamespace}/${q.podName}` }),
      ...(q.node && { node: q.node }),
      ...(q.at && { at: q.at }),
      ...(q.since && { since: q.since }),
    },
    now: answer.now,
    historyBegins: answer.historyBegins || null,
    retentionSeconds: answer.retentionSeconds,
    holdings: answer.holdings.map((h) => ({
      ip: h.ip,
      block: h.block,
      handle: h.handleId || null,
      namespace: h.attributes['namespace'] ?? null,
      pod: h.attributes['pod'] ?? null,
      node: h.attributes['node'] ?? null,
      attributes: h.attributes,
      assigned: momentJson(h.assigned),
      released: momentJson(h.released),
      notes: h.notes.map(momentJson),
    })),
  };
}

export async function showHistory(api: Pick<HistoryApi, 'queryHoldings'>, io: CtlIo, req: HistoryRequest, format: 'table' | 'json'): Promise<void> {
  let answer: HoldingsAnswer;
  try {
    answer = await api.queryHoldings(req.query);
  } catch (err) {
    throw new CliError(refusalMessage(err));
  }
  io.out(format === 'json' ? formatJson(holdingsJson(req, answer)) : renderHoldingsText(req, answer));
}

export const ipamHistoryCommand: Command = {
  name: 'ipam history',
  summary: 'Who held an address, or what a pod or node held, and when.',
  options: {
    ip: { type: 'string' },
    pod: { type: 'string' },
    node: { type: 'string' },
    at: { type: 'string' },
    since: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  usage: `Usage:
  atollctl ipam history (--ip=<IP> | --pod=<NAMESPACE/NAME> | --node=<NODE>)
                        [--at=<TIME> | --since=<DURATION>] [--output=<OUTPUT>]
                        [--allocator=<ADDR>]

Options:
     --ip=<IP>               The address to look up.
     --pod=<NAMESPACE/NAME>  What this pod held.
     --node=<NODE>           What pods on this node (and the node itself) held.
     --at=<TIME>             Who held it at this instant (RFC 3339, e.g.
                             2026-12-05T14:02:00Z).
     --since=<DURATION>      Every holder since this long ago (24h, 90m) or
                             since an RFC 3339 time [default: the whole
                             history kept].
  -o --output=<OUTPUT>       table or json [default: table].
${GLOBAL_OPTIONS_HELP}

Description:
  The allocator records every assignment and release in etcd, in the same
  transaction as the change itself, and keeps it for --history-retention
  (default 7 days). This command pairs them up: each holder with when and how
  it got the address (auto, static, handoff, tunnel) and when and how it let it
  go (release-ip, release-handle, leak, handoff), oldest first, times in UTC.
  An address nobody held at that time says so.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('ipam history', args, 0, 0, 'arguments');
    const format = outputFormat('ipam history', args, ['table', 'json'] as const, 'table');
    await showHistory(ctx.history, ctx.io, historyRequestOf(args, new Date()), format);
  },
};

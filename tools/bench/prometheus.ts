// Reading /metrics: etcd's own counters (how many transactions a benchmark really cost,
// counted by the server) and the histograms of Atoll's processes (where the time went).
import http from 'node:http';

export type Samples = Map<string, number>;

/** GETs `url` and parses the Prometheus text format into `name{labels}` → value. */
export function scrape(url: string): Promise<Samples> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(parsePrometheusText(body)));
      })
      .on('error', reject)
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url} timed out`));
      });
  });
}

export function parsePrometheusText(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of every sample of `name` whose labels contain all of `labels` (e.g. {method: 'autoAssign'}). */
export function sumOf(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    if ((brace === -1 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

/** Mean of a histogram between two scrapes, in milliseconds (NaN when nothing was observed). */
export function histogramMeanMs(before: Samples, after: Samples, name: string, labels: Record<string, string> = {}): number {
  const count = sumOf(after, `${name}_count`, labels) - sumOf(before, `${name}_count`, labels);
  const sum = sumOf(after, `${name}_sum`, labels) - sumOf(before, `${name}_sum`, labels);
  return count > 0 ? (sum / count) * 1000 : NaN;
}

export interface EtcdCounters {
  /** Raft proposals committed: every write request (Put, DeleteRange, a Txn with writes — failed compares included). */
  proposals: number;
  /** The store revision: +1 per write transaction that changed something (successful CAS). */
  revision: number;
  /** gRPC requests by method, as the server counted them (read-only transactions included). */
  txnRequests: number;
  rangeRequests: number;
  putRequests: number;
  deleteRangeRequests: number;
  dbSizeBytes: number;
  dbSizeInUseBytes: number;
  keys: number;
  /** Bytes etcd received from its clients over gRPC (requests: what was written, and asked). */
  clientBytesIn: number;
}

export async function etcdCounters(clientUrl: string): Promise<EtcdCounters> {
  const s = await scrape(`${clientUrl}/metrics`);
  const rpc = (method: string) => sumOf(s, 'grpc_server_started_total', { grpc_method: method, grpc_service: 'etcdserverpb.KV' });
  return {
    proposals: sumOf(s, 'etcd_server_proposals_committed_total'),
    revision: sumOf(s, 'etcd_debugging_mvcc_current_revision'),
    txnRequests: rpc('Txn'),
    rangeRequests: rpc('Range'),
    putRequests: rpc('Put'),
    deleteRangeRequests: rpc('DeleteRange'),
    dbSizeBytes: sumOf(s, 'etcd_mvcc_db_total_size_in_bytes'),
    dbSizeInUseBytes: sumOf(s, 'etcd_mvcc_db_total_size_in_use_in_bytes'),
    keys: sumOf(s, 'etcd_debugging_mvcc_keys_total'),
    clientBytesIn: sumOf(s, 'etcd_network_client_grpc_received_bytes_total'),
  };
}

export interface EtcdWork {
  /** Write transactions etcd committed through raft (successful or with a failed compare). */
  writeTxns: number;
  /** Write transactions that changed the store (the revision moved). */
  successfulWrites: number;
  /** Write transactions whose compare failed: conflicts. */
  failedCompares: number;
  /** All Txn requests, read-only ones included. */
  txnRequests: number;
  rangeRequests: number;
  /** Bytes etcd received from clients (every request, reads included). */
  clientBytesIn: number;
}

/** What etcd did between two scrapes, per `per` operations (1: totals). */
export function etcdWork(before: EtcdCounters, after: EtcdCounters, per = 1): EtcdWork {
  const writeTxns = after.proposals - before.proposals;
  const successfulWrites = after.revision - before.revision;
  const r = (n: number) => Math.round((n / per) * 1000) / 1000;
  return {
    writeTxns: r(writeTxns),
    successfulWrites: r(successfulWrites),
    failedCompares: r(writeTxns - successfulWrites),
    txnRequests: r(after.txnRequests - before.txnRequests),
    rangeRequests: r(after.rangeRequests - before.rangeRequests),
    clientBytesIn: r(after.clientBytesIn - before.clientBytesIn),
  };
}

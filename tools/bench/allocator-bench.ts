// Allocator throughput over gRPC: H nodes × C concurrent pods call AutoAssign, then
// ReleaseByHandle, exactly as node agents do (one channel per node, calls coalesced into
// batch calls while one is in flight), on the allocator process against a private etcd;
// and once more with one gRPC call per request, to show what the coalescing buys. Baseline in the same run on the same etcd: the raw single-key compare-and-swap
// rate at the same concurrency (as engine-bench.ts measures it). etcd transactions are
// counted by etcd itself (/metrics: raft proposals committed, revision, Txn requests).
// Run: npm run bench:allocator
//
// Options (env): BENCH_HOSTS (100), BENCH_CONCURRENCY (10 per host), BENCH_ROUNDS (5
// pods per worker per trial), BENCH_TRIALS (3; medians reported), BENCH_SEQUENTIAL (200
// assign+release cycles at concurrency 1: the unloaded latency), BENCH_RELEASE (0: no
// ReleaseByHandle phase, to profile AutoAssign alone with BENCH_CPU_PROF_DIR), BENCH_HISTORY
// (1: also measure, interleaved in every trial, an allocator started with
// --history-retention=0, to price the allocation history), BENCH_PER_CALL (1: also measure
// one gRPC call per request).
import { randomUUID } from 'node:crypto';
import { coalesceIpamCalls, connectAllocator, type AllocatorClients, type CoalescedIpamCalls } from '@atoll/api';
import { historyPrefix } from '@atoll/model';
import { EtcdDatastore } from '@atoll/store';
import { emptyAndClose } from './counting-datastore';
import { machineFacts, processCpuSeconds, unsetExtraCaCerts } from './machine';
import { etcdCounters, etcdWork, histogramMeanMs, scrape, type EtcdWork } from './prometheus';
import { envNumber, progress, ratio, summarize, target, writeResult } from './results';
import { applyNodes, applyPool, podAutoAssign, startAllocator, startEtcd, type Allocator } from './stack';
import { median, round } from './stats';
import { runBenchmark } from './teardown';
import { noFailures, retryTransient } from './transient';

const HOSTS = envNumber('BENCH_HOSTS', 100);
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 10);
const ROUNDS = envNumber('BENCH_ROUNDS', 5);
const TRIALS = envNumber('BENCH_TRIALS', 3);
const SEQUENTIAL = envNumber('BENCH_SEQUENTIAL', 200);
/** 0: skip the ReleaseByHandle phase (to profile AutoAssign alone; use with BENCH_TRIALS=1). */
const RELEASE = envNumber('BENCH_RELEASE', 1) !== 0;
/** 2 (as deploy/ runs it): also measure two allocator replicas, each serving half the nodes. 1: skip. */
const REPLICAS = envNumber('BENCH_REPLICAS', 2);
/** 1: also run every coalesced trial on an allocator that records no history (the price of history). */
const HISTORY = envNumber('BENCH_HISTORY', 1) !== 0;
const PER_CALL = envNumber('BENCH_PER_CALL', 1) !== 0;
const WORKERS = HOSTS * CONCURRENCY;
const TOTAL = WORKERS * ROUNDS;

const host = (h: number) => `node-${h}`;

/** `WORKERS` loops, worker w serving host w % HOSTS, each doing `ROUNDS` calls in turn. */
async function phase(call: (worker: number, round: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        await call(w, r);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - start };
}

async function casTrial(endpoints: string[], clientUrl: string) {
  const store = new EtcdDatastore({ endpoints, namespace: `/atoll-bench/${randomUUID()}/` });
  const revisions = new Array<bigint>(WORKERS);
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      revisions[w] = (await store.commit({ preconditions: [{ key: `k${w}`, absent: true }], mutations: [{ op: 'put', key: `k${w}`, value: '0' }] })).revision;
    }),
  );
  const before = await etcdCounters(clientUrl);
  const { latencies, wallMs } = await phase(async (w, r) => {
    const key = `k${w}`;
    revisions[w] = (await store.commit({ preconditions: [{ key, modRevision: revisions[w]! }], mutations: [{ op: 'put', key, value: String(r) }] })).revision;
  });
  const work = etcdWork(before, await etcdCounters(clientUrl), TOTAL);
  await emptyAndClose(store);
  return { casPerSec: (TOTAL / wallMs) * 1000, p50: median(latencies), p99: summarize(latencies).p99Ms, etcdPerCas: work };
}

/** The two calls a node agent makes, for one host. */
type NodeCalls = Pick<CoalescedIpamCalls, 'autoAssign' | 'releaseByHandle'>;

/**
 * How the calls reach the allocator:
 * - 'coalesced': as atoll-node-agent sends them — one channel per node, and a node's
 *   requests that queue up while its previous call is in flight travel as one batch call;
 * - 'per-call': one gRPC call per request over one shared channel (the agent before batching).
 */
type Variant = 'coalesced' | 'per-call';

async function nodeCalls(replicas: readonly Allocator[], variant: Variant) {
  /** gRPC calls sent, batch calls counting once. */
  const wire = { assign: 0, release: 0 };
  const counted = (ipam: AllocatorClients['ipam']): AllocatorClients['ipam'] => ({
    ...ipam,
    autoAssign: (r, o) => (wire.assign++, ipam.autoAssign(r, o)),
    autoAssignBatch: (r, o) => (wire.assign++, ipam.autoAssignBatch(r, o)),
    releaseByHandle: (r, o) => (wire.release++, ipam.releaseByHandle(r, o)),
    releaseByHandleBatch: (r, o) => (wire.release++, ipam.releaseByHandleBatch(r, o)),
  });
  if (variant === 'per-call') {
    const shared = replicas.map((r) => counted(r.client.ipam));
    return { wire, callsFor: (h: number): NodeCalls => shared[h % shared.length]!, close: () => undefined };
  }
  // Node h talks to replica h mod R, as agents behind a Service each keep one connection.
  const channels = Array.from({ length: HOSTS }, (_, h) => connectAllocator(replicas[h % replicas.length]!.process.address, { defaultTimeoutMs: 60_000 }));
  // Connected before the clock starts, as a running agent's channel is.
  await Promise.all(channels.map((c) => c.ipam.getIpamConfig({})));
  const calls = channels.map((c) => coalesceIpamCalls(counted(c.ipam), 60_000));
  return { wire, callsFor: (h: number): NodeCalls => calls[h]!, close: () => channels.forEach((c) => c.close()) };
}

/** Bytes (keys and values) of the history records stored now. */
async function historyBytes(endpoints: string[]): Promise<number> {
  const store = new EtcdDatastore({ endpoints });
  try {
    const { items } = await store.list(historyPrefix());
    return items.reduce((sum, kv) => sum + Buffer.byteLength(kv.key) + Buffer.byteLength(kv.value), 0);
  } finally {
    await store.close();
  }
}

async function allocatorTrial(replicas: readonly Allocator[], etcdPid: number, clientUrl: string, trial: number, variant: Variant, label = '') {
  const allocator = replicas[0]!;
  const client: AllocatorClients = allocator.client;
  const { wire, callsFor, close } = await nodeCalls(replicas, variant);
  const allocatorCpu = () => replicas.reduce((sum, r) => sum + processCpuSeconds(r.process.pid), 0);
  const handle = (w: number, r: number) => `k8s-pod-network.${variant}${label}-${replicas.length}-t${trial}-w${w}-r${r}`;
  const h0 = HISTORY ? await historyBytes([clientUrl]) : 0;
  const cpu0 = { allocator: allocatorCpu(), etcd: processCpuSeconds(etcdPid), bench: process.cpuUsage() };
  const m0 = await scrape(`${allocator.process.metricsUrl}/metrics`);
  const c0 = await etcdCounters(clientUrl);
  const assignFailures = noFailures();
  const assign = await phase(async (w, r) => {
    const res = await retryTransient(assignFailures, () => callsFor(w % HOSTS).autoAssign(podAutoAssign(host(w % HOSTS), handle(w, r), `pod-${variant}${label}-${replicas.length}-t${trial}-${w}-${r}`)));
    if (res.ipv4?.ips.length !== 1) throw new Error(`AutoAssign ${handle(w, r)} got ${JSON.stringify(res.ipv4)}`);
  });
  const c1 = await etcdCounters(clientUrl);
  const h1 = HISTORY ? await historyBytes([clientUrl]) : 0;
  const cpu1 = { allocator: allocatorCpu(), etcd: processCpuSeconds(etcdPid), bench: process.cpuUsage(cpu0.bench) };
  const releaseFailures = noFailures();
  const release = !RELEASE ? { latencies: [NaN], wallMs: NaN } : await phase(async (w, r) => {
    let attempts = 0;
    const released = await retryTransient(releaseFailures, async () => {
      attempts++;
      // a retried release whose first attempt went through finds nothing left: that is success
      return callsFor(w % HOSTS).releaseByHandle({ handleId: handle(w, r) }).then(
        (res) => res.released.length,
        (err: unknown) => {
          if (attempts > 1 && (err as { code?: string }).code === 'not-found') return 1;
          throw err;
        },
      );
    });
    if (released < 1) throw new Error(`ReleaseByHandle ${handle(w, r)} released nothing`);
  });
  const c2 = await etcdCounters(clientUrl);
  close();
  const m1 = await scrape(`${allocator.process.metricsUrl}/metrics`);
  const check = await client.ipam.check({});
  if (check.problems !== 0) throw new Error(`ipam check found ${check.problems} problems after trial ${trial}`);
  const assignSec = assign.wallMs / 1000;
  return {
    allocationsPerSec: TOTAL / assignSec,
    assignP50: median(assign.latencies),
    assignP99: summarize(assign.latencies).p99Ms,
    releasesPerSec: (TOTAL / release.wallMs) * 1000,
    releaseP50: median(release.latencies),
    releaseP99: summarize(release.latencies).p99Ms,
    etcdPerAllocation: etcdWork(c0, c1, TOTAL),
    etcdPerRelease: etcdWork(c1, c2, TOTAL),
    /** Bytes of history records stored per allocation during the assign phase. */
    historyBytesPerAllocation: (h1 - h0) / TOTAL,
    serverMeanAutoAssignMs: histogramMeanMs(m0, m1, 'atoll_allocator_rpc_duration_seconds', { method: 'autoAssign' }),
    serverMeanReleaseByHandleMs: histogramMeanMs(m0, m1, 'atoll_allocator_rpc_duration_seconds', { method: 'releaseByHandle' }),
    /** gRPC calls on the wire per request (1 without batching). */
    wireCallsPerAllocation: round(wire.assign / TOTAL, 3),
    wireCallsPerRelease: round(wire.release / TOTAL, 3),
    assignFailures,
    releaseFailures,
    /** Cores busy during the assign phase, per process (1.0 = one core all the time). */
    coresBusyDuringAssign: {
      allocator: round((cpu1.allocator - cpu0.allocator) / assignSec, 2),
      etcd: round((cpu1.etcd - cpu0.etcd) / assignSec, 2),
      benchClient: round((cpu1.bench.user + cpu1.bench.system) / 1e6 / assignSec, 2),
    },
  };
}

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  const facts = await machineFacts();
  progress('starting etcd and the allocator');
  const etcd = await startEtcd(teardown);
  const etcdPid = etcd.members[0]!.pid!;
  const clientUrl = etcd.endpoints[0]!;
  const allocator = await startAllocator(teardown, etcd);
  await applyPool(allocator.client, 'bench', '10.0.0.0/14');
  const hosts = Array.from({ length: HOSTS }, (_, h) => host(h));
  await applyNodes(allocator.client, hosts);
  progress(`warm-up: each of ${HOSTS} nodes claims its block`);
  await Promise.all(
    hosts.map(async (h) => {
      await allocator.client.ipam.autoAssign(podAutoAssign(h, `warm.${h}`, `warm-${h}`));
      await allocator.client.ipam.releaseByHandle({ handleId: `warm.${h}` });
    }),
  );
  const idle0 = await etcdCounters(clientUrl);
  await new Promise((r) => setTimeout(r, 1000));
  const idleWork = etcdWork(idle0, await etcdCounters(clientUrl));

  type TrialResult = Awaited<ReturnType<typeof allocatorTrial>>;
  const casRuns = [];
  const grpcRuns: TrialResult[] = [];
  const perCallRuns: TrialResult[] = [];
  const replicaRuns: TrialResult[] = [];
  const noHistoryRuns: TrialResult[] = [];
  const second = REPLICAS > 1 ? await startAllocator(teardown, etcd) : undefined;
  const withoutHistory = HISTORY ? await startAllocator(teardown, etcd, undefined, ['--history-retention', '0']) : undefined;
  for (let t = 0; t < TRIALS; t++) {
    progress(`trial ${t + 1}/${TRIALS}: single-key CAS baseline, then ${TOTAL} AutoAssign + ${TOTAL} ReleaseByHandle at ${WORKERS} in flight, coalesced as agents send them and one call per request`);
    casRuns.push(await casTrial(etcd.endpoints, clientUrl));
    // with and without history back to back in every trial, so both see the same machine
    // (labels of equal length, so that handles and pod names cost the same bytes in both)
    grpcRuns.push(await allocatorTrial([allocator], etcdPid, clientUrl, t, 'coalesced', '-h1'));
    if (withoutHistory) noHistoryRuns.push(await allocatorTrial([withoutHistory], etcdPid, clientUrl, t, 'coalesced', '-h0'));
    if (PER_CALL) perCallRuns.push(await allocatorTrial([allocator], etcdPid, clientUrl, t, 'per-call'));
    if (second) replicaRuns.push(await allocatorTrial([allocator, second], etcdPid, clientUrl, t, 'coalesced'));
  }

  progress(`unloaded latency: ${SEQUENTIAL} AutoAssign + ReleaseByHandle one at a time`);
  const seqAssign: number[] = [];
  const seqRelease: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const h = `k8s-pod-network.seq-${i}`;
    let t0 = performance.now();
    await allocator.client.ipam.autoAssign(podAutoAssign(host(i % HOSTS), h, `seq-${i}`));
    seqAssign.push(performance.now() - t0);
    t0 = performance.now();
    await allocator.client.ipam.releaseByHandle({ handleId: h });
    seqRelease.push(performance.now() - t0);
  }

  const pick = <T>(runs: T[], f: (r: T) => number) => median(runs.map(f));
  const pickWork = (runs: EtcdWork[]): EtcdWork => ({
    writeTxns: pick(runs, (w) => w.writeTxns),
    successfulWrites: pick(runs, (w) => w.successfulWrites),
    failedCompares: pick(runs, (w) => w.failedCompares),
    txnRequests: pick(runs, (w) => w.txnRequests),
    rangeRequests: pick(runs, (w) => w.rangeRequests),
    clientBytesIn: pick(runs, (w) => w.clientBytesIn),
  });
  const summary = (runs: TrialResult[]) => ({
    allocationsPerSec: round(pick(runs, (r) => r.allocationsPerSec)),
    autoAssignP50Ms: round(pick(runs, (r) => r.assignP50), 2),
    autoAssignP99Ms: round(pick(runs, (r) => r.assignP99), 2),
    releasesPerSec: round(pick(runs, (r) => r.releasesPerSec)),
    releaseByHandleP50Ms: round(pick(runs, (r) => r.releaseP50), 2),
    releaseByHandleP99Ms: round(pick(runs, (r) => r.releaseP99), 2),
    etcdPerAllocation: pickWork(runs.map((r) => r.etcdPerAllocation)),
    etcdPerRelease: pickWork(runs.map((r) => r.etcdPerRelease)),
    allocatorServerMeanAutoAssignMs: round(pick(runs, (r) => r.serverMeanAutoAssignMs), 2),
    allocatorServerMeanReleaseByHandleMs: round(pick(runs, (r) => r.serverMeanReleaseByHandleMs), 2),
    transientFailuresRetried: {
      autoAssign: runs.reduce((a, r) => a + r.assignFailures.count, 0),
      releaseByHandle: runs.reduce((a, r) => a + r.releaseFailures.count, 0),
      byCode: runs.flatMap((r) => [r.assignFailures, r.releaseFailures]).reduce<Record<string, number>>((acc, f) => {
        for (const [k, v] of Object.entries(f.byCode)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {}),
      firstMessage: runs.flatMap((r) => [r.assignFailures.firstMessage, r.releaseFailures.firstMessage]).find(Boolean),
    },
    coresBusyDuringAssign: {
      allocator: pick(runs, (r) => r.coresBusyDuringAssign.allocator),
      etcd: pick(runs, (r) => r.coresBusyDuringAssign.etcd),
      benchClient: pick(runs, (r) => r.coresBusyDuringAssign.benchClient),
    },
    wireCallsPerAllocation: pick(runs, (r) => r.wireCallsPerAllocation),
    wireCallsPerRelease: pick(runs, (r) => r.wireCallsPerRelease),
    historyBytesPerAllocation: round(pick(runs, (r) => r.historyBytesPerAllocation), 1),
  });
  const overGrpc = summary(grpcRuns);
  const overGrpcPerCall = perCallRuns.length > 0 ? summary(perCallRuns) : undefined;
  const overGrpcWithoutHistory = noHistoryRuns.length > 0 ? summary(noHistoryRuns) : undefined;
  // each trial's ratio, then the median: both halves of a ratio come from the same moment
  const historyThroughputRatio = noHistoryRuns.length > 0 ? round(median(grpcRuns.map((r, i) => r.allocationsPerSec / noHistoryRuns[i]!.allocationsPerSec)), 3) : undefined;
  const overGrpcTwoReplicas = replicaRuns.length > 0 ? summary(replicaRuns) : undefined;
  const baseline = {
    casPerSec: round(pick(casRuns, (r) => r.casPerSec)),
    p50Ms: round(pick(casRuns, (r) => r.p50), 2),
    p99Ms: round(pick(casRuns, (r) => r.p99), 2),
    etcdPerCas: pickWork(casRuns.map((r) => r.etcdPerCas)),
  };
  const ratioToCas = ratio(overGrpc.allocationsPerSec, baseline.casPerSec);
  writeResult('allocator', facts, {
    config: {
      hosts: HOSTS,
      concurrencyPerHost: CONCURRENCY,
      inFlight: WORKERS,
      allocationsPerTrial: TOTAL,
      trials: TRIALS,
      requests: 'AutoAssign {num4: 1, allOrNothing: true, attributes node/namespace/pod/timestamp} then ReleaseByHandle, as atoll-node-agent sends them. overGrpc: coalesced as the agent does (one channel per node; requests that queue while the node\'s previous call is in flight go as one AutoAssignBatch/ReleaseByHandleBatch call). overGrpcOneCallPerRequest: one gRPC call per request over one shared channel. A call refused as transient (unavailable) is counted and retried after 200 ms (up to 5 attempts), its latency includes the retries',
      phases: `all AutoAssigns (each worker ${ROUNDS} in turn), then all ReleaseByHandles; pool 10.0.0.0/14 blockSize 26, every node holds its block before the trial`,
      etcd: 'private single member, data dir on /dev/shm; counts from etcd /metrics (writeTxns = raft proposals committed, successfulWrites = revision delta, failedCompares = the difference, txnRequests/rangeRequests = gRPC requests incl. read-only)',
      etcdIdleOver1s: idleWork,
    },
    overGrpc,
    ...(overGrpcPerCall && { overGrpcOneCallPerRequest: overGrpcPerCall, ratioOneCallPerRequestToCas: ratio(overGrpcPerCall.allocationsPerSec, baseline.casPerSec) }),
    ...(overGrpcWithoutHistory && {
      overGrpcWithoutHistory,
      history: {
        throughputWithOverWithout: historyThroughputRatio,
        etcdClientBytesInPerAllocation: { withHistory: overGrpc.etcdPerAllocation.clientBytesIn, withoutHistory: overGrpcWithoutHistory.etcdPerAllocation.clientBytesIn },
        historyBytesStoredPerAllocation: overGrpc.historyBytesPerAllocation,
        autoAssignP99Ms: { withHistory: overGrpc.autoAssignP99Ms, withoutHistory: overGrpcWithoutHistory.autoAssignP99Ms },
      },
    }),
    ...(overGrpcTwoReplicas && { overGrpcTwoReplicas, ratioTwoReplicasToCas: ratio(overGrpcTwoReplicas.allocationsPerSec, baseline.casPerSec) }),
    baselineSingleKeyCas: baseline,
    ratioAllocationsToCas: ratioToCas,
    unloaded: { autoAssign: summarize(seqAssign), releaseByHandle: summarize(seqRelease) },
    targets: [
      target('allocations/s ÷ single-key CAS/s (same concurrency)', ratioToCas, '>=', 1.5, '×'),
      target(`AutoAssign p99 at ${WORKERS} in flight`, overGrpc.autoAssignP99Ms, '<', 100, 'ms'),
      ...(historyThroughputRatio !== undefined ? [target('allocations/s with history ÷ without (median of per-trial ratios)', historyThroughputRatio, '>=', 0.85, '×')] : []),
    ],
    raw: { grpcRuns, noHistoryRuns, perCallRuns, replicaRuns, casRuns },
  });
});

// Scale: N nodes and A allocated addresses in one pool (default 5000 nodes, 150,000
// addresses in 10.0.0.0/12, blockSize 26), filled through the allocator's gRPC API with
// bounded concurrency. Measured on the empty cluster first (the baseline, same run, same
// processes) and again when full: AutoAssign latency, allocator RSS, etcd db size,
// `atollctl ipam check` and `ipam show` times, and allocator restart-to-ready (SIGKILL,
// start, until gRPC health answers SERVING). Run: npm run bench:scale
//
// Options (env): BENCH_SCALE_NODES (5000), BENCH_SCALE_ADDRESSES (150000),
// BENCH_SCALE_POOL (10.0.0.0/12), BENCH_SCALE_BLOCK_SIZE (26), BENCH_SCALE_CONCURRENCY
// (200 fill requests in flight), BENCH_SCALE_CLAIM_CONCURRENCY (8 in flight while each
// node's first address claims its block), BENCH_SCALE_PROBE_HOSTS (20), BENCH_SCALE_PROBE_ROUNDS (5;
// each round: 10 AutoAssigns per probe host, one in flight per host, then released),
// BENCH_SCALE_ETCD_COMPACTION_RETENTION (5m, as deploy/ runs etcd; e.g. 1h keeps etcd from
// compacting during the run, to tell its compaction apart from the allocator's own pauses).
// `npm run bench` runs it reduced (500 nodes, 15,000 addresses).
import { credentials } from '@grpc/grpc-js';
import { CheckResponse, GetUtilizationResponse, IpamClient, ListAllocationsResponse, ListResourcesResponse, ResourcesClient } from '@atoll/api';
import { binPath, startProcess } from '../src/processes';
import { cpuTimes, directoryBytes, machineBusyCoreSeconds, machineFacts, processCpuSeconds, residentMemoryMiB, unsetExtraCaCerts } from './machine';
import { etcdCounters, scrape, sumOf } from './prometheus';
import { envNumber, progress, ratio, summarize, target, writeResult, type LatencySummary } from './results';
import { applyNodes, applyPool, killAndRestartAllocator, podAutoAssign, startAllocator, startEtcd, type Allocator } from './stack';
import { round } from './stats';
import { runBenchmark } from './teardown';
import { noFailures, retryTransient, type Failures } from './transient';

const NODES = envNumber('BENCH_SCALE_NODES', 5000);
const ADDRESSES = envNumber('BENCH_SCALE_ADDRESSES', 150_000);
const POOL = process.env['BENCH_SCALE_POOL'] || '10.0.0.0/12';
const BLOCK_SIZE = envNumber('BENCH_SCALE_BLOCK_SIZE', 26);
const FILL_CONCURRENCY = envNumber('BENCH_SCALE_CONCURRENCY', 200);
const CLAIM_CONCURRENCY = envNumber('BENCH_SCALE_CLAIM_CONCURRENCY', 8);
const PROBE_HOSTS = Math.min(NODES, envNumber('BENCH_SCALE_PROBE_HOSTS', 20));
const PROBE_ROUNDS = envNumber('BENCH_SCALE_PROBE_ROUNDS', 5);
const PROBE_PER_HOST = 10;
const CLAIM_PROBES = envNumber('BENCH_SCALE_CLAIM_PROBES', 10);
const COMPACTION_RETENTION = process.env.BENCH_SCALE_ETCD_COMPACTION_RETENTION || '5m';

const node = (i: number) => `node-${String(i).padStart(5, '0')}`;

/** AutoAssign latency at this fill: rounds of PROBE_PER_HOST requests per probe host, one in flight per host; released after each round. */
async function probe(allocator: Allocator, label: string): Promise<LatencySummary & { samples: number[]; retried: Failures }> {
  const samples: number[] = [];
  const retried = noFailures();
  for (let r = 0; r < PROBE_ROUNDS; r++) {
    const handles: string[] = [];
    await Promise.all(
      Array.from({ length: PROBE_HOSTS }, async (_, h) => {
        for (let k = 0; k < PROBE_PER_HOST; k++) {
          const handle = `k8s-pod-network.probe-${label}-${r}-${h}-${k}`;
          const t0 = performance.now();
          const res = await retryTransient(retried, () => allocator.client.ipam.autoAssign(podAutoAssign(node(h), handle, `probe-${h}-${k}`)));
          samples.push(performance.now() - t0);
          if (res.ipv4?.ips.length !== 1) throw new Error(`probe AutoAssign ${handle}: ${JSON.stringify(res.ipv4)}`);
          handles.push(handle);
        }
      }),
    );
    for (let i = 0; i < handles.length; i += 20) await Promise.all(handles.slice(i, i + 20).map((h) => allocator.client.ipam.releaseByHandle({ handleId: h })));
  }
  return { ...summarize(samples), samples, retried };
}

/** The allocator's V8 heap from its own /metrics (prom-client default metrics), in MiB. */
async function heapMiB(allocator: Allocator): Promise<{ heapUsedMiB: number; heapTotalMiB: number; externalMiB: number }> {
  const m = await scrape(`${allocator.process.metricsUrl}/metrics`);
  const mib = (name: string) => round(sumOf(m, name) / 2 ** 20, 1);
  return { heapUsedMiB: mib('nodejs_heap_size_used_bytes'), heapTotalMiB: mib('nodejs_heap_size_total_bytes'), externalMiB: mib('nodejs_external_memory_bytes') };
}

/**
 * The five calls `atollctl ipam check` makes (apps/ctl/src/commands/ipam-check.ts), at once,
 * over channels without grpc-js's default 4 MiB receive limit: what the check would cost
 * if atollctl raised that limit. Resolves the largest answer's size in MiB.
 */
async function atollctlCheckCalls(address: string): Promise<number> {
  const options = { 'grpc.max_receive_message_length': -1 };
  const ipam = new IpamClient(address, credentials.createInsecure(), options);
  const resources = new ResourcesClient(address, credentials.createInsecure(), options);
  const call = <Res>(start: (cb: (err: Error | null, res: Res) => void) => unknown) => new Promise<Res>((resolve, reject) => start((err, res) => (err ? reject(err) : resolve(res))));
  try {
    const answers = await Promise.all([
      call<CheckResponse>((cb) => ipam.check({}, cb)),
      call<GetUtilizationResponse>((cb) => ipam.getUtilization({ poolNames: [] }, cb)),
      call<ListAllocationsResponse>((cb) => ipam.listAllocations({ node: '', handlePrefix: '' }, cb)),
      call<ListResourcesResponse>((cb) => resources.list({ kind: 'IPPool' }, cb)),
      call<ListResourcesResponse>((cb) => resources.list({ kind: 'Node' }, cb)),
    ]);
    const sizes = [CheckResponse.encode(answers[0]).finish().length, GetUtilizationResponse.encode(answers[1]).finish().length, ListAllocationsResponse.encode(answers[2]).finish().length];
    return round(Math.max(...sizes) / 2 ** 20, 1);
  } finally {
    ipam.close();
    resources.close();
  }
}

/** Samples a process's VmRSS every 250 ms until stopped; resolves the largest value in MiB. */
function sampleRss(pid: number): () => number {
  let max = residentMemoryMiB(pid).rssMiB;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, residentMemoryMiB(pid).rssMiB);
    } catch {
      // the process is gone
    }
  }, 250);
  return () => {
    clearInterval(timer);
    return max;
  };
}

/** Runs atollctl against the allocator; wall time from spawn to exit. */
async function atollctl(allocator: Allocator, args: string[]) {
  const t0 = performance.now();
  const p = startProcess(binPath('atollctl'), ['--allocator', allocator.process.address, ...args]);
  const code = await p.exited;
  const ms = performance.now() - t0;
  const out = p.output();
  return { ms: round(ms, 1), exitCode: code, outputLines: out.split('\n').length, outputTail: out.trim().split('\n').slice(-3).join('\n').slice(0, 600) };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: round(performance.now() - t0, 1), value };
}

/** The first AutoAssign of nodes that have no block yet (each claims one), one at a time. */
async function claimProbe(allocator: Allocator, label: string): Promise<LatencySummary> {
  const names = Array.from({ length: CLAIM_PROBES }, (_, k) => `claim-${label}-${k}`);
  await applyNodes(allocator.client, names);
  const samples: number[] = [];
  for (const n of names) {
    const t0 = performance.now();
    await allocator.client.ipam.autoAssign(podAutoAssign(n, `k8s-pod-network.${n}`, n));
    samples.push(performance.now() - t0);
    await allocator.client.ipam.releaseByHandle({ handleId: `k8s-pod-network.${n}` });
  }
  return summarize(samples);
}

async function snapshot(allocator: Allocator, etcdUrl: string, etcdDataDir: string, label: string) {
  progress(`${label}: AutoAssign probe (${PROBE_ROUNDS} × ${PROBE_HOSTS} hosts × ${PROBE_PER_HOST})`);
  const latency = await probe(allocator, label);
  progress(`${label}: first AutoAssign on ${CLAIM_PROBES} new nodes (block claims)`);
  const newNodeFirstAssign = await claimProbe(allocator, label);
  const memory = { ...residentMemoryMiB(allocator.process.pid), ...(await heapMiB(allocator)) };
  const etcd = await etcdCounters(etcdUrl);
  progress(`${label}: Check RPC, atollctl ipam check, atollctl ipam show`);
  const checkRpc = await timed(() => allocator.client.ipam.check({}, { timeoutMs: 600_000 }));
  const check = await atollctl(allocator, ['ipam', 'check']);
  const checkCallsUncapped = await timed(() => atollctlCheckCalls(allocator.process.address));
  const show = await atollctl(allocator, ['ipam', 'show']);
  const showBlocks = await atollctl(allocator, ['ipam', 'show', '--show-blocks']);
  progress(`${label}: SIGKILL the allocator and start it again`);
  const restart = await killAndRestartAllocator(allocator);
  const memoryAfterRestart = residentMemoryMiB(allocator.process.pid);
  const firstAssign = await timed(() => allocator.client.ipam.autoAssign(podAutoAssign(node(0), `k8s-pod-network.after-restart-${label}`, 'after-restart')));
  await allocator.client.ipam.releaseByHandle({ handleId: `k8s-pod-network.after-restart-${label}` });
  const { samples, ...autoAssign } = latency;
  return {
    autoAssign,
    newNodeFirstAssign,
    allocatorMemory: memory,
    etcd: { dbSizeMiB: round(etcd.dbSizeBytes / 2 ** 20, 1), dbSizeInUseMiB: round(etcd.dbSizeInUseBytes / 2 ** 20, 1), dataDirMiB: round(directoryBytes(etcdDataDir) / 2 ** 20, 1), keys: etcd.keys, revision: etcd.revision },
    checkRpc: { ms: checkRpc.ms, blocks: checkRpc.value.blocks, allocations: checkRpc.value.allocations, handles: checkRpc.value.handles, problems: checkRpc.value.problems },
    atollctlIpamCheck: check,
    atollctlCheckCallsWithoutReceiveLimit: { ms: checkCallsUncapped.ms, largestAnswerMiB: checkCallsUncapped.value },
    atollctlIpamShow: show,
    atollctlIpamShowBlocks: showBlocks,
    restart: { servingMs: round(restart.servingMs, 1), readyMs: round(restart.readyMs, 1), killToReadyMs: round(restart.killToReadyMs, 1), rssAfterReadyMiB: memoryAfterRestart.rssMiB, firstAutoAssignMs: firstAssign.ms },
    samples,
  };
}

/** Compacted to now and defragmented: what the live data takes (auto-compaction keeps 5 minutes of history, and the file never shrinks by itself). */
async function compactAndDefragment(etcdUrl: string, revision: number): Promise<void> {
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${etcdUrl}${p}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
  };
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  await post('/v3/maintenance/defragment', {});
}

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  const facts = await machineFacts();
  const blockCapacity = 2 ** (32 - BLOCK_SIZE);
  if (Math.ceil(ADDRESSES / NODES) + PROBE_PER_HOST > blockCapacity) progress(`note: ${Math.ceil(ADDRESSES / NODES)} addresses per node do not fit one /${BLOCK_SIZE} block with the probe's ${PROBE_PER_HOST}; probe hosts claim more blocks`);
  progress(`starting etcd (periodic auto-compaction keeping ${COMPACTION_RETENTION} of history, quota 8 GiB) and the allocator`);
  const etcd = await startEtcd(teardown, ['--quota-backend-bytes', String(8 * 2 ** 30), '--auto-compaction-retention', COMPACTION_RETENTION]);
  const etcdUrl = etcd.endpoints[0]!;
  const etcdPid = etcd.members[0]!.pid!;
  const allocator = await startAllocator(teardown, etcd);
  progress(`etcd ${etcdUrl} (pid ${etcdPid}), allocator ${allocator.process.address} (pid ${allocator.process.pid})`);
  await applyPool(allocator.client, 'scale-pool', POOL, BLOCK_SIZE);
  progress(`registering ${NODES} Node resources`);
  const nodes = await timed(() => applyNodes(allocator.client, Array.from({ length: NODES }, (_, i) => node(i))));
  progress(`registered ${NODES} nodes in ${round(nodes.ms / 1000, 1)} s (${nodes.value.count} transient refusals retried)`);
  // the probe hosts hold their blocks in both states, so the probe measures allocation, not block claims
  await Promise.all(
    Array.from({ length: PROBE_HOSTS }, async (_, h) => {
      await allocator.client.ipam.autoAssign(podAutoAssign(node(h), `k8s-pod-network.warm-${h}`, `warm-${h}`));
      await allocator.client.ipam.releaseByHandle({ handleId: `k8s-pod-network.warm-${h}` });
    }),
  );
  const empty = await snapshot(allocator, etcdUrl, etcd.members[0]!.dataDir, 'empty');

  // Two passes: the first address of every node claims its block (bounded by
  // CLAIM_CONCURRENCY: each claim lists every block, and 200 at once time out against the
  // allocator's 5 s etcd deadline beyond a few thousand blocks), then the rest at
  // FILL_CONCURRENCY.
  let failures = 0;
  const fillPass = async (from: number, to: number, concurrency: number, label: string) => {
    progress(`fill, ${label}: AutoAssigns ${from}..${to - 1} over ${NODES} nodes, ${concurrency} in flight`);
    const latencies: number[] = [];
    const retried = noFailures();
    let next = from;
    const cpu0 = { allocator: processCpuSeconds(allocator.process.pid), etcd: processCpuSeconds(etcdPid), self: process.cpuUsage(), machine: cpuTimes() };
    const stopRss = sampleRss(allocator.process.pid);
    const t0 = performance.now();
    const step = Math.max(1, Math.floor((to - from) / 10));
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < to; i = next++) {
          const s = performance.now();
          const res = await retryTransient(retried, () => allocator.client.ipam.autoAssign(podAutoAssign(node(i % NODES), `k8s-pod-network.fill-${i}`, `fill-${i}`)), 50, 1000);
          latencies.push(performance.now() - s);
          if (res.ipv4?.ips.length !== 1) failures++;
          if ((i + 1 - from) % step === 0) progress(`  ${i + 1 - from}/${to - from} (${round(((i + 1 - from) / (performance.now() - t0)) * 1000)}/s, ${retried.count} transient refusals retried)`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const self = process.cpuUsage(cpu0.self);
    const maxRssMiB = stopRss();
    return {
      allocatorMaxRssMiB: maxRssMiB,
      allocations: to - from,
      concurrency,
      seconds: round(seconds, 1),
      allocationsPerSec: round((to - from) / seconds),
      latency: summarize(latencies),
      transientFailuresRetried: retried,
      cpu: {
        allocatorCores: round((processCpuSeconds(allocator.process.pid) - cpu0.allocator) / seconds, 2),
        etcdCores: round((processCpuSeconds(etcdPid) - cpu0.etcd) / seconds, 2),
        benchmarkCores: round((self.user + self.system) / 1e6 / seconds, 2),
        machineBusyCores: round(machineBusyCoreSeconds(cpu0.machine, cpuTimes()) / seconds, 2),
      },
    };
  };
  const claimPass = await fillPass(0, Math.min(NODES, ADDRESSES), CLAIM_CONCURRENCY, 'claim pass (first address of each node)');
  const steadyPass = await fillPass(Math.min(NODES, ADDRESSES), ADDRESSES, FILL_CONCURRENCY, 'the rest');
  const fillS = claimPass.seconds + steadyPass.seconds;
  if (failures > 0) throw new Error(`${failures} fill AutoAssigns got no address`);
  const peakDuringFill = residentMemoryMiB(allocator.process.pid);

  const full = await snapshot(allocator, etcdUrl, etcd.members[0]!.dataDir, 'full');
  progress('compacting and defragmenting etcd (live data size)');
  await compactAndDefragment(etcdUrl, full.etcd.revision);
  const compacted = await etcdCounters(etcdUrl);

  const { samples: emptySamples, ...emptySummary } = empty;
  const { samples: fullSamples, ...fullSummary } = full;
  const ratios = {
    autoAssignP99FullVsEmpty: ratio(full.autoAssign.p99Ms, empty.autoAssign.p99Ms),
    autoAssignMedianFullVsEmpty: ratio(full.autoAssign.medianMs, empty.autoAssign.medianMs),
    newNodeFirstAssignMedianFullVsEmpty: ratio(full.newNodeFirstAssign.medianMs, empty.newNodeFirstAssign.medianMs),
    rssFullVsEmpty: ratio(full.allocatorMemory.rssMiB, empty.allocatorMemory.rssMiB),
    ipamCheckFullVsEmpty: ratio(full.atollctlIpamCheck.ms, empty.atollctlIpamCheck.ms),
    ipamShowFullVsEmpty: ratio(full.atollctlIpamShow.ms, empty.atollctlIpamShow.ms),
    restartFullVsEmpty: ratio(full.restart.readyMs, empty.restart.readyMs),
  };
  const checkOk = full.atollctlIpamCheck.exitCode === 0;
  writeResult('scale', facts, {
    config: {
      nodes: NODES,
      addresses: ADDRESSES,
      pool: POOL,
      blockSize: BLOCK_SIZE,
      fillConcurrency: FILL_CONCURRENCY,
      claimConcurrency: CLAIM_CONCURRENCY,
      fill: 'AutoAssign {num4: 1} per pod handle over gRPC, address i on node i mod N (one block per node when A/N ≤ 64): first a claim pass (addresses 0..N-1, each claims its node\'s block) at the claim concurrency, then the rest at the fill concurrency; a call refused as transient is counted and retried after 1 s (up to 50 attempts)',
      probe: `${PROBE_ROUNDS} rounds × ${PROBE_HOSTS} hosts × ${PROBE_PER_HOST} AutoAssigns, one in flight per host (${PROBE_HOSTS} in flight), released after each round; the probe hosts hold a block in both states`,
      newNodeFirstAssign: `${CLAIM_PROBES} nodes registered after the state was reached, one AutoAssign each, one at a time: each claims a block`,
      restart: 'SIGKILL, then spawn with the same flags; servingMs = until gRPC health answers SERVING (port accepting, then a health check over a fresh channel), readyMs = until /readyz answers 200 as well (the allocator now reports SERVING before its resource cache has loaded; /readyz is when it can serve); polled every 10 ms',
      etcd: `private single member on /dev/shm, periodic auto-compaction keeping ${COMPACTION_RETENTION} of history (deploy/ runs 5m), quota 8 GiB; dbSize is the file (its high-water mark), dbSizeInUse the part holding data`,
      atollctl: 'dist/bin/atollctl as a process, NODE_EXTRA_CA_CERTS unset; wall time spawn to exit',
    },
    registerNodes: { ms: nodes.ms, concurrency: 8, transientFailuresRetried: nodes.value },
    fill: { seconds: round(fillS, 1), allocationsPerSec: round(ADDRESSES / fillS), claimPass, steadyPass, allocatorRssAfterFill: peakDuringFill },
    empty: emptySummary,
    full: fullSummary,
    etcdAfterCompactAndDefrag: { dbSizeMiB: round(compacted.dbSizeBytes / 2 ** 20, 1), dbSizeInUseMiB: round(compacted.dbSizeInUseBytes / 2 ** 20, 1) },
    ratios,
    targets: [
      target('allocator RSS when full (VmRSS)', full.allocatorMemory.rssMiB, '<', 512, 'MiB'),
      target('allocator peak RSS (VmHWM) by the end', full.allocatorMemory.peakRssMiB, '<', 512, 'MiB'),
      target(`atollctl ipam check when full${checkOk ? '' : ` (FAILED, exit ${full.atollctlIpamCheck.exitCode})`}`, checkOk ? full.atollctlIpamCheck.ms / 1000 : NaN, '<', 30, 's'),
      target('allocator restart to ready (SERVING and /readyz) when full', full.restart.readyMs / 1000, '<', 5, 's'),
      target('AutoAssign p99 full ÷ empty', ratios.autoAssignP99FullVsEmpty, '<=', 2, '×'),
    ],
    raw: { emptyProbe: emptySamples, fullProbe: fullSamples },
  });
});

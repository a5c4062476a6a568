// Engine throughput against a real etcd: H hosts with C concurrent auto-assign requests
// each, then the same handles released by handle with the same concurrency (each host's C
// workers release their own pods at once, as when a node's pods are deleted together),
// against the raw rate of single-key compare-and-swap transactions at the same concurrency
// on the same etcd, in the same run. Run: npm run bench:engine
//
// Options (env): BENCH_HOSTS (100), BENCH_CONCURRENCY (10 per host), BENCH_ROUNDS (3
// requests per worker), BENCH_TRIALS (3; medians are reported), ATOLL_TEST_ETCD_ENDPOINTS
// (use a running etcd instead of starting one).
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { IpamEngine, WatchedResourceView } from '@atoll/ipam';
import { resourceKey } from '@atoll/model';
import { Datastore, EtcdDatastore } from '@atoll/store';
import { startEtcdCluster } from '../etcd/launcher';
import { countingDatastore, type DatastoreCounts } from './counting-datastore';
import { finishMachineFacts, machineFacts, unsetExtraCaCerts } from './machine';
import { BENCH_DIR } from './results';
import { median, percentile, round, runConcurrent } from './stats';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);

/** Runs every worker's jobs one after another, all workers at once; per-job latencies (ms) and wall time. */
async function runPerWorker<T>(jobsOfWorker: readonly (readonly T[])[], job: (item: T) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    jobsOfWorker.map(async (items) => {
      for (const item of items) {
        const t0 = performance.now();
        await job(item);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - start };
}

function perOperation(counts: DatastoreCounts, total: number) {
  return { commits: counts.commits / total, conflicts: counts.conflicts / total, reads: counts.reads / total };
}

async function put(ds: Datastore, key: string, value: unknown) {
  await ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] });
}

async function engineTrial(endpoints: string[]) {
  const store = new EtcdDatastore({ endpoints, namespace: `/atoll-bench/${randomUUID()}/` });
  const counting = countingDatastore(store);
  await put(store, resourceKey('ippools', 'bench'), { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'bench' }, spec: { cidr: '10.0.0.0/14' } });
  for (let h = 0; h < HOSTS; h++) {
    await put(store, resourceKey('nodes', `node-${h}`), { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: `node-${h}` }, spec: {} });
  }
  // As in the allocator: pools, nodes and config come from a watch-fed cache.
  const resources = await WatchedResourceView.start(store);
  const engine = new IpamEngine({ datastore: counting.datastore, resources });
  // warm-up: every host claims its block, so the trial measures steady-state allocation
  await Promise.all(Array.from({ length: HOSTS }, (_, h) => engine.autoAssign({ num4: 1, num6: 0, handleId: `warm-${h}`, hostname: `node-${h}`, intendedUse: 'Workload', attributes: {} })));
  counting.reset();
  const total = HOSTS * CONCURRENCY * ROUNDS;
  const workers = HOSTS * CONCURRENCY;
  const handlesOfWorker: string[][] = Array.from({ length: workers }, () => []);
  const assign = await runConcurrent(total, workers, async (i, w) => {
    const host = `node-${w % HOSTS}`;
    const r = await engine.autoAssign({ num4: 1, num6: 0, handleId: `bench.${i}`, hostname: host, intendedUse: 'Workload', attributes: { node: host } });
    if (r.ipv4.ips.length !== 1) throw new Error(`allocation ${i} got ${r.ipv4.ips.length} addresses: ${r.ipv4.msgs.join('; ')}`);
    handlesOfWorker[w]!.push(`bench.${i}`);
  });
  const assignWork = perOperation(counting.counts, total);
  counting.reset();
  // Each worker releases the pods it created, so a host's C workers release in its block at once.
  const release = await runPerWorker(handlesOfWorker, async (handleId) => {
    const freed = await engine.releaseByHandle(handleId);
    if (freed.length !== 1) throw new Error(`releasing ${handleId} freed ${freed.length} addresses`);
  });
  const releaseWork = perOperation(counting.counts, total);
  const check = await engine.check();
  if (check.problems !== 0) throw new Error(`check found ${check.problems} problems after the trial`);
  const left = await engine.listAllocations();
  if (left.length !== HOSTS) throw new Error(`${left.length} addresses still allocated after the release phase, expected the ${HOSTS} warm-up ones`);
  await resources.close();
  await cleanup(store);
  return {
    allocationsPerSec: (total / assign.wallMs) * 1000,
    p50: percentile(assign.latencies, 50),
    p99: percentile(assign.latencies, 99),
    txnPerAllocation: assignWork.commits,
    conflictsPerAllocation: assignWork.conflicts,
    readsPerAllocation: assignWork.reads,
    releasesPerSec: (total / release.wallMs) * 1000,
    releaseP50: percentile(release.latencies, 50),
    releaseP99: percentile(release.latencies, 99),
    txnPerRelease: releaseWork.commits,
    conflictsPerRelease: releaseWork.conflicts,
    readsPerRelease: releaseWork.reads,
  };
}

async function casTrial(endpoints: string[]) {
  const store = new EtcdDatastore({ endpoints, namespace: `/atoll-bench/${randomUUID()}/` });
  const workers = HOSTS * CONCURRENCY;
  const revisions = new Array<bigint>(workers);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      revisions[w] = (await store.commit({ preconditions: [{ key: `k${w}`, absent: true }], mutations: [{ op: 'put', key: `k${w}`, value: '0' }] })).revision;
    }),
  );
  const total = HOSTS * CONCURRENCY * ROUNDS;
  const { latencies, wallMs } = await runConcurrent(total, workers, async (i, w) => {
    const key = `k${w}`;
    revisions[w] = (await store.commit({ preconditions: [{ key, modRevision: revisions[w]! }], mutations: [{ op: 'put', key, value: String(i) }] })).revision;
  });
  await cleanup(store);
  return { casPerSec: (total / wallMs) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function cleanup(store: EtcdDatastore) {
  const { items } = await store.list('');
  for (let i = 0; i < items.length; i += 100) {
    await store.commit({ preconditions: [], mutations: items.slice(i, i + 100).map((kv) => ({ op: 'delete' as const, key: kv.key })) });
  }
  await store.close();
}

async function main() {
  unsetExtraCaCerts();
  const facts = await machineFacts();
  const external = process.env.ATOLL_TEST_ETCD_ENDPOINTS;
  const cluster = external ? undefined : await startEtcdCluster();
  const endpoints = external ? external.split(',') : cluster!.endpoints;
  try {
    const engineRuns = [];
    const casRuns = [];
    for (let t = 0; t < TRIALS; t++) {
      casRuns.push(await casTrial(endpoints));
      engineRuns.push(await engineTrial(endpoints));
    }
    const pick = <T>(runs: T[], f: (r: T) => number) => median(runs.map(f));
    const result = {
      benchmark: 'engine',
      machine: finishMachineFacts(facts),
      hosts: HOSTS,
      concurrencyPerHost: CONCURRENCY,
      allocationsPerTrial: HOSTS * CONCURRENCY * ROUNDS,
      trials: TRIALS,
      etcd: external ? 'external' : 'private single member, data dir on /dev/shm',
      engine: {
        allocationsPerSec: round(pick(engineRuns, (r) => r.allocationsPerSec)),
        p50Ms: round(pick(engineRuns, (r) => r.p50), 2),
        p99Ms: round(pick(engineRuns, (r) => r.p99), 2),
        txnPerAllocation: round(pick(engineRuns, (r) => r.txnPerAllocation), 3),
        conflictsPerAllocation: round(pick(engineRuns, (r) => r.conflictsPerAllocation), 3),
        readsPerAllocation: round(pick(engineRuns, (r) => r.readsPerAllocation), 3),
      },
      engineReleaseByHandle: {
        releasesPerSec: round(pick(engineRuns, (r) => r.releasesPerSec)),
        p50Ms: round(pick(engineRuns, (r) => r.releaseP50), 2),
        p99Ms: round(pick(engineRuns, (r) => r.releaseP99), 2),
        txnPerRelease: round(pick(engineRuns, (r) => r.txnPerRelease), 3),
        conflictsPerRelease: round(pick(engineRuns, (r) => r.conflictsPerRelease), 3),
        readsPerRelease: round(pick(engineRuns, (r) => r.readsPerRelease), 3),
      },
      baselineSingleKeyCas: {
        casPerSec: round(pick(casRuns, (r) => r.casPerSec)),
        p50Ms: round(pick(casRuns, (r) => r.p50), 2),
        p99Ms: round(pick(casRuns, (r) => r.p99), 2),
      },
      ratioAllocationsToCas: 0,
      raw: { engineRuns, casRuns },
    };
    result.ratioAllocationsToCas = round(result.engine.allocationsPerSec / result.baselineSingleKeyCas.casPerSec, 2);
    // BENCH_DIR is under the repository (run-ts.js runs a bundle from a temporary directory,
    // so a path relative to __dirname would land outside it)
    fs.mkdirSync(BENCH_DIR, { recursive: true });
    fs.writeFileSync(path.join(BENCH_DIR, 'engine.json'), JSON.stringify(result, null, 2) + '\n');
    const { raw: _raw, ...summary } = result;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await cluster?.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});

// Contention: K concurrent allocation requests for ONE node (one block), on one etcd.
//   naive      — the baseline, implemented here: each request reads the block, assigns its
//                first free ordinal and writes block + handle in one compare-and-swap
//                transaction, retrying at once on a conflict (Calico's loop: up to 100).
//   engine     — Atoll's IpamEngine in this process (per-host batching, jittered backoff).
//   allocator  — the same engine behind gRPC in the allocator process.
// p50/p99 per request, etcd write transactions and conflicts (failed compares) per
// allocation, counted by etcd itself and, in process, by wrapping the datastore.
// Run: npm run bench:contention
//
// Options (env): BENCH_CONTENTION_REQUESTS (50 at once), BENCH_CONTENTION_ROUNDS (6).
import { randomUUID } from 'node:crypto';
import { IpamEngine, WatchedResourceView } from '@atoll/ipam';
import { resourceKey } from '@atoll/model';
import { EtcdDatastore, StoreConflictError, type Datastore } from '@atoll/store';
import { countingDatastore, emptyAndClose, type DatastoreCounts } from './counting-datastore';
import { machineFacts, unsetExtraCaCerts } from './machine';
import { etcdCounters, etcdWork } from './prometheus';
import { envNumber, progress, ratio, summarize, writeResult } from './results';
import { applyNodes, applyPool, podAutoAssign, startAllocator, startEtcd } from './stack';
import { median, round } from './stats';
import { runBenchmark } from './teardown';

const REQUESTS = envNumber('BENCH_CONTENTION_REQUESTS', 50);
const ROUNDS = envNumber('BENCH_CONTENTION_ROUNDS', 6);
const NODE = 'contention-node';
const NAIVE_MAX_ATTEMPTS = 100;

/** One variant: allocate one address for `handle` (resolves when done), and undo a round. */
interface Variant {
  name: string;
  allocate(handle: string, i: number): Promise<void>;
  releaseRound(handles: string[]): Promise<void>;
  counts?: DatastoreCounts;
  resetCounts?(): void;
}

// ---- the naive baseline: one block, one CAS per request --------------------------------

interface NaiveBlock {
  cidr: string;
  affinity: string;
  allocations: (number | null)[];
  unallocated: number[];
  attributes: { handle_id: string; secondary: Record<string, string> }[];
  sequenceNumber: number;
  sequenceNumberForAllocation: Record<string, number>;
}

const emptyBlock = (): NaiveBlock => ({
  cidr: '10.98.0.0/26',
  affinity: `host:${NODE}`,
  allocations: new Array<null>(64).fill(null),
  unallocated: Array.from({ length: 64 }, (_, i) => i),
  attributes: [],
  sequenceNumber: 1,
  sequenceNumberForAllocation: {},
});

function naiveVariant(store: Datastore, counts: DatastoreCounts, reset: () => void): Variant {
  const blockKey = '/calico/ipam/v2/assignment/ipv4/block/10.98.0.0-26';
  const handleKey = (h: string) => `/calico/ipam/v2/handle/${h}`;
  return {
    name: 'naive (read block → assign → CAS block+handle, retry at once)',
    counts,
    resetCounts: reset,
    async allocate(handle) {
      for (let attempt = 1; attempt <= NAIVE_MAX_ATTEMPTS; attempt++) {
        const kv = await store.get(blockKey);
        if (!kv) throw new Error('naive block missing');
        const block = JSON.parse(kv.value) as NaiveBlock;
        const ordinal = block.unallocated[0];
        if (ordinal === undefined) throw new Error('naive block full');
        const seq = block.sequenceNumber + 1;
        const next: NaiveBlock = {
          ...block,
          allocations: block.allocations.map((a, i) => (i === ordinal ? block.attributes.length : a)),
          unallocated: block.unallocated.slice(1),
          attributes: [...block.attributes, { handle_id: handle, secondary: { node: NODE, namespace: 'default', pod: handle } }],
          sequenceNumber: seq,
          sequenceNumberForAllocation: { ...block.sequenceNumberForAllocation, [String(ordinal)]: seq },
        };
        try {
          await store.commit({
            preconditions: [{ key: blockKey, modRevision: kv.revision }, { key: handleKey(handle), absent: true }],
            mutations: [
              { op: 'put', key: blockKey, value: JSON.stringify(next) },
              { op: 'put', key: handleKey(handle), value: JSON.stringify({ handleID: handle, block: { '10.98.0.0/26': 1 } }) },
            ],
          });
          return;
        } catch (err) {
          if (!(err instanceof StoreConflictError)) throw err;
        }
      }
      throw new Error(`naive: ${handle} hit ${NAIVE_MAX_ATTEMPTS} attempts`);
    },
    async releaseRound(handles) {
      await store.commit({ preconditions: [], mutations: [{ op: 'put', key: blockKey, value: JSON.stringify(emptyBlock()) }, ...handles.map((h) => ({ op: 'delete' as const, key: handleKey(h) }))] });
    },
  };
}

// ----------------------------------------------------------------------------------------

async function runVariant(v: Variant, etcdUrl: string) {
  const latencies: number[] = [];
  const walls: number[] = [];
  const perRound: ReturnType<typeof etcdWork>[] = [];
  let clientCommits = 0;
  let clientConflicts = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const handles = Array.from({ length: REQUESTS }, (_, i) => `k8s-pod-network.${v.name.split(' ')[0]}-r${r}-${i}`);
    v.resetCounts?.();
    const before = await etcdCounters(etcdUrl);
    const t0 = performance.now();
    await Promise.all(
      handles.map(async (h, i) => {
        const s = performance.now();
        await v.allocate(h, i);
        latencies.push(performance.now() - s);
      }),
    );
    walls.push(performance.now() - t0);
    perRound.push(etcdWork(before, await etcdCounters(etcdUrl)));
    if (v.counts) {
      clientCommits += v.counts.commits;
      clientConflicts += v.counts.conflicts;
    }
    await v.releaseRound(handles);
  }
  const total = REQUESTS * ROUNDS;
  const sum = (f: (w: ReturnType<typeof etcdWork>) => number) => perRound.reduce((a, w) => a + f(w), 0);
  return {
    latency: summarize(latencies),
    roundWallMsMedian: round(median(walls), 1),
    allocationsPerSec: round((total / walls.reduce((a, b) => a + b, 0)) * 1000),
    etcdWriteTxnsPerAllocation: round(sum((w) => w.writeTxns) / total, 3),
    etcdConflictsPerAllocation: round(sum((w) => w.failedCompares) / total, 3),
    etcdSuccessfulWritesPerAllocation: round(sum((w) => w.successfulWrites) / total, 3),
    etcdTxnRequestsPerAllocation: round(sum((w) => w.txnRequests) / total, 3),
    ...(v.counts && { clientCountedCommitsPerAllocation: round(clientCommits / total, 3), clientCountedConflictsPerAllocation: round(clientConflicts / total, 3) }),
  };
}

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  const facts = await machineFacts();
  progress('starting etcd and the allocator');
  const etcd = await startEtcd(teardown);
  const etcdUrl = etcd.endpoints[0]!;

  // naive baseline
  const naiveStore = new EtcdDatastore({ endpoints: etcd.endpoints, namespace: `/atoll-bench/naive-${randomUUID()}/` });
  teardown.add('naive store', () => emptyAndClose(naiveStore));
  const naiveCounting = countingDatastore(naiveStore);
  await naiveStore.commit({ preconditions: [], mutations: [{ op: 'put', key: '/calico/ipam/v2/assignment/ipv4/block/10.98.0.0-26', value: JSON.stringify(emptyBlock()) }] });

  // the engine in process
  const engineStore = new EtcdDatastore({ endpoints: etcd.endpoints, namespace: `/atoll-bench/engine-${randomUUID()}/` });
  teardown.add('engine store', () => emptyAndClose(engineStore));
  const put = (key: string, value: unknown) => engineStore.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] });
  await put(resourceKey('ippools', 'contention'), { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'contention' }, spec: { cidr: '10.96.0.0/24', blockSize: 26 } });
  await put(resourceKey('nodes', NODE), { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: NODE }, spec: {} });
  const view = await WatchedResourceView.start(engineStore);
  teardown.add('engine resource view', () => view.close());
  const engineCounting = countingDatastore(engineStore);
  const engine = new IpamEngine({ datastore: engineCounting.datastore, resources: view });

  // the allocator process
  const allocator = await startAllocator(teardown, etcd, `/atoll-bench/allocator-${randomUUID().slice(0, 8)}/`);
  await applyPool(allocator.client, 'contention', '10.97.0.0/24');
  await applyNodes(allocator.client, [NODE]);

  const engineAutoAssign = (handle: string) => {
    const r = podAutoAssign(NODE, handle, handle);
    return { num4: 1, num6: 0, handleId: handle, attributes: r.attributes, hostname: NODE, intendedUse: 'Workload' as const };
  };
  const variants: Variant[] = [
    naiveVariant(naiveCounting.datastore, naiveCounting.counts, naiveCounting.reset),
    {
      name: 'engine (IpamEngine in process)',
      counts: engineCounting.counts,
      resetCounts: engineCounting.reset,
      async allocate(handle) {
        const r = await engine.autoAssign(engineAutoAssign(handle));
        if (r.ipv4.ips.length !== 1) throw new Error(`engine ${handle}: ${r.ipv4.msgs.join('; ')}`);
      },
      async releaseRound(handles) {
        for (const h of handles) await engine.releaseByHandle(h);
      },
    },
    {
      name: 'allocator (same engine over gRPC)',
      async allocate(handle) {
        const r = await allocator.client.ipam.autoAssign(podAutoAssign(NODE, handle, handle));
        if (r.ipv4?.ips.length !== 1) throw new Error(`allocator ${handle}: ${JSON.stringify(r.ipv4)}`);
      },
      async releaseRound(handles) {
        for (const h of handles) await allocator.client.ipam.releaseByHandle({ handleId: h });
      },
    },
  ];
  // warm-up: the engine and the allocator claim their node's block; every code path is loaded
  for (const v of variants) {
    await v.allocate('k8s-pod-network.warm', 0);
    await v.releaseRound(['k8s-pod-network.warm']);
  }

  const results: Record<string, Awaited<ReturnType<typeof runVariant>>> = {};
  for (const v of variants) {
    progress(`${v.name}: ${ROUNDS} rounds of ${REQUESTS} concurrent requests for ${NODE}`);
    results[v.name] = await runVariant(v, etcdUrl);
  }
  const [naive, inProcess, overGrpc] = variants.map((v) => results[v.name]!);
  writeResult('contention', facts, {
    config: {
      concurrentRequests: REQUESTS,
      rounds: ROUNDS,
      node: NODE,
      block: 'one /26 per variant (64 addresses), emptied between rounds (not timed)',
      naive: `Calico-style loop: get block, first free ordinal, one txn comparing the block revision and handle absence, putting block + handle; on conflict retry immediately, up to ${NAIVE_MAX_ATTEMPTS} attempts`,
      etcd: 'one private etcd for all three (separate key prefixes), run one after another; etcd counts: writeTxns = raft proposals committed, conflicts = proposals that did not move the revision',
    },
    results,
    ratios: {
      engineP99VsNaive: ratio(inProcess!.latency.p99Ms, naive!.latency.p99Ms),
      allocatorP99VsNaive: ratio(overGrpc!.latency.p99Ms, naive!.latency.p99Ms),
      engineConflictsVsNaive: ratio(inProcess!.etcdConflictsPerAllocation, naive!.etcdConflictsPerAllocation, 3),
      allocatorConflictsVsNaive: ratio(overGrpc!.etcdConflictsPerAllocation, naive!.etcdConflictsPerAllocation, 3),
      engineWriteTxnsVsNaive: ratio(inProcess!.etcdWriteTxnsPerAllocation, naive!.etcdWriteTxnsPerAllocation, 3),
    },
    targets: [],
  });
});

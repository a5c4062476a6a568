// Migration between Calico's Kubernetes datastore and Atoll at realistic size: a
// Calico-written dataset (3 pools, 2 reservations, 50 nodes with tunnel addresses, 300
// blocks, 10,000 allocations) in the Kubernetes API stand-in, migrated by the atollctl
// binary into a fresh Atoll datastore (`migrate from-calico-kdd`) and back into a fresh,
// empty Kubernetes datastore (`migrate to-calico-kdd`), each timed as the operator sees
// it: process start to exit, verification included. Baseline, same run, same data: the
// same command with --dry-run (reads both sides, maps and validates, writes nothing), so
// the ratio is what writing and verifying add to reading.
// Run: npm run bench:migrate
//
// Options (env): BENCH_TRIALS (3), BENCH_MIGRATE_ALLOCATIONS (10000), BENCH_MIGRATE_NODES (50),
// BENCH_MIGRATE_BLOCKS (300).
import { calicoKddDataset, loadCalicoKddDataset, startKubeApiStandIn, type KubeApiStandIn } from '../k8s-api';
import { binPath, collectOutput, startProcess, testNamespace } from '../src/processes';
import { machineFacts, unsetExtraCaCerts } from './machine';
import { envNumber, progress, ratio, summarize, target, writeResult } from './results';
import { startAllocator, startEtcd } from './stack';
import { median } from './stats';
import { runBenchmark, type Teardown } from './teardown';

const TRIALS = envNumber('BENCH_TRIALS', 3);
const ALLOCATIONS = envNumber('BENCH_MIGRATE_ALLOCATIONS', 10_000);
const NODES = envNumber('BENCH_MIGRATE_NODES', 50);
const BLOCKS = envNumber('BENCH_MIGRATE_BLOCKS', 300);
const TARGET_S = 30;

async function timedCtl(allocator: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await collectOutput(startProcess(binPath('atollctl'), ['--allocator', allocator, ...args]));
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`atollctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return ms;
}

async function standIn(teardown: Teardown): Promise<KubeApiStandIn> {
  const api = await startKubeApiStandIn();
  teardown.add(`Kubernetes API stand-in ${api.url}`, () => api.stop());
  return api;
}

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  const facts = await machineFacts();
  const etcd = await startEtcd(teardown);
  const data = calicoKddDataset({ nodes: NODES, blocks: BLOCKS, allocations: ALLOCATIONS });
  const calico = await standIn(teardown);
  await loadCalicoKddDataset(calico.url, data);
  const nodesOnly = { objects: [], nodes: data.nodes.map((n) => ({ ...n, metadata: { ...(n['metadata'] as object), annotations: {} } })) };
  progress(`migrate: ${data.objects.length} Calico objects (${ALLOCATIONS} allocations in ${BLOCKS} blocks, ${NODES} nodes)`);

  const samples = { fromDryRun: [] as number[], from: [] as number[], toDryRun: [] as number[], to: [] as number[] };
  for (let t = 0; t < TRIALS; t++) {
    // A fresh Atoll datastore (own etcd prefix, own allocator) and a fresh empty Kubernetes datastore per trial.
    const allocator = await startAllocator(teardown, etcd, testNamespace());
    const address = allocator.process.address;
    samples.fromDryRun.push(await timedCtl(address, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath, '--dry-run']));
    samples.from.push(await timedCtl(address, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath]));
    const back = await standIn(teardown);
    await loadCalicoKddDataset(back.url, nodesOnly);
    samples.toDryRun.push(await timedCtl(address, ['migrate', 'to-calico-kdd', '--kubeconfig', back.kubeconfigPath, '--dry-run']));
    samples.to.push(await timedCtl(address, ['migrate', 'to-calico-kdd', '--kubeconfig', back.kubeconfigPath]));
    progress(`trial ${t + 1}/${TRIALS}: from ${Math.round(samples.from.at(-1)!)} ms (dry run ${Math.round(samples.fromDryRun.at(-1)!)} ms), to ${Math.round(samples.to.at(-1)!)} ms (dry run ${Math.round(samples.toDryRun.at(-1)!)} ms)`);
    await back.stop();
    allocator.client.close();
    await allocator.process.stop();
  }

  const fromS = median(samples.from) / 1000;
  const toS = median(samples.to) / 1000;
  writeResult('migrate', facts, {
    objects: data.objects.length,
    allocations: ALLOCATIONS,
    trials: TRIALS,
    fromCalicoKdd: { ...summarize(samples.from), dryRun: summarize(samples.fromDryRun), ratioToDryRun: ratio(median(samples.from), median(samples.fromDryRun)) },
    toCalicoKdd: { ...summarize(samples.to), dryRun: summarize(samples.toDryRun), ratioToDryRun: ratio(median(samples.to), median(samples.toDryRun)) },
    targets: [target(`from-calico-kdd, ${ALLOCATIONS} allocations (median)`, fromS, '<', TARGET_S, 's'), target(`to-calico-kdd, ${ALLOCATIONS} allocations (median)`, toS, '<', TARGET_S, 's')],
    raw: samples,
  });
});

import { ChaosCluster } from './cluster';
import { CHAOS_ETCD_QUOTA_BYTES } from './etcd-space';
import { FaultInjector, OUT_OF_SPACE_WORDS, READY_AFTER_HEAL_BOUND_MS, RESUME_AFTER_NOSPACE_BOUND_MS, RETRY_AFTER_HEAL_BOUND_MS, type FaultKind } from './faults';
import { Ledger } from './ledger';
import { Load, POD_NAMESPACE, POD_POOL, STATIC_POOL } from './load';
import { AllocationMonitor } from './monitor';
import { seededRandom, type ChaosOptions } from './options';
import { execIpam } from './plugin-exec';
import type { ChaosReport } from './report';
import { OpStats } from './stats';

// One chaos run: start the installation, apply the pools, run the load and the faults
// together while the monitor checks every listing, delete every pod, check the datastore
// (atollctl ipam check, ipam show, ListAllocations) and stop every process by its PID.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TUNNEL_HANDLE = /^(vxlan|ipip|wireguard)(-v6)?-tunnel-addr-/;

async function applyPools(cluster: ChaosCluster): Promise<void> {
  const client = cluster.connect();
  try {
    const pool = (name: string, spec: Record<string, unknown>) =>
      client.resources.apply({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec }) });
    await pool('chaos-pods', { cidr: POD_POOL, blockSize: 28 });
    await pool('chaos-static', { cidr: STATIC_POOL, nodeSelector: '!all()' });
  } finally {
    client.close();
  }
}

/** One ADD and DEL through every agent until they work: every replica has seen the pools. */
async function warmUp(cluster: ChaosCluster, boundMs: number): Promise<void> {
  for (const agent of cluster.agents) {
    const pod = `warm-up-${agent.index}`;
    await cluster.kube.createPod({ metadata: { name: pod, namespace: POD_NAMESPACE }, spec: { nodeName: agent.nodeName, containers: [{ name: 'c', image: 'none' }] } });
    const call = { socket: agent.socket, containerId: `warm-up-${agent.index}`, namespace: POD_NAMESPACE, pod, boundMs };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const add = await execIpam({ ...call, command: 'ADD' });
      const del = await execIpam({ ...call, command: 'DEL' });
      if (add.ok && del.ok) break;
      if (Date.now() > deadline) throw new Error(`warm-up through ${agent.nodeName} failed: ADD ${add.code} ${add.msg}; DEL ${del.code} ${del.msg}`);
      await sleep(200);
    }
    await cluster.kube.deletePod(POD_NAMESPACE, pod);
  }
}

async function finalListing(cluster: ChaosCluster): Promise<{ address: string; handleId: string }[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = cluster.connect();
    try {
      return (await client.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    } finally {
      client.close();
    }
    await sleep(500);
  }
}

/** Releases every sticky identity's handles that hold something (as the leak collector does once its StatefulSet is deleted). */
async function releaseSticky(cluster: ChaosCluster, ledger: Ledger, listedHandles: ReadonlySet<string>): Promise<void> {
  const client = cluster.connect();
  try {
    for (const [identity, { handles }] of [...ledger.stickyIdentities]) {
      for (const handleId of handles) if (listedHandles.has(handleId)) await client.ipam.releaseByHandle({ handleId });
      ledger.stickyReleased(identity);
    }
  } finally {
    client.close();
  }
}

function inUseFromShow(text: string): number | null {
  try {
    const show = JSON.parse(text) as { pools: { inUse: number }[]; orphanBlocks: { inUse: number }[] };
    return [...show.pools, ...show.orphanBlocks].reduce((n, p) => n + Number(p.inUse), 0);
  } catch {
    return null;
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const t0 = performance.now();
  const problems: string[] = [];
  const cluster = await ChaosCluster.start({
    etcdMembers: options.etcdMembers,
    allocators: options.allocators,
    agents: options.agents,
    ...(options.faults.includes('etcd-nospace') && { etcdQuotaBytes: CHAOS_ETCD_QUOTA_BYTES }),
  });
  log(`started ${options.etcdMembers} etcd members, ${options.allocators} allocators, ${options.agents} agents`);
  let partial: Omit<ChaosReport, 'verdict' | 'problems' | 'durationMs' | 'leftoverProcesses'>;
  try {
    await applyPools(cluster);
    await cluster.waitNodesRegistered();
    await warmUp(cluster, options.boundMs);

    const ledger = new Ledger(t0, { failedAddGraceMs: options.failedAddGraceMs });
    const stats = new OpStats(t0);
    const load = new Load(cluster, ledger, stats, options, seededRandom(options.seed));
    await load.createStickySet();
    const faults = new FaultInjector(cluster, load, options, log, t0);
    const monitor = new AllocationMonitor(cluster, ledger, options.monitorIntervalMs);
    monitor.start();

    let faultError: Error | undefined;
    const deadline = performance.now() + options.maxDurationMs;
    const expired = () => faultError !== undefined || options.signal?.aborted === true || performance.now() > deadline;
    const done = () => expired() || (stats.total >= options.operations && faults.total >= options.minFaults);
    const progress = setInterval(() => log(`${stats.total} operations, ${faults.total} faults, ${ledger.live.size} live pods, ${stats.failures()} failures`), 5000);

    const faultLoop = (async () => {
      for (let n = 0; !done(); n++) {
        await sleep(options.faultIntervalMs);
        if (done()) break;
        try {
          await faults.inject(options.faults[n % options.faults.length]!);
        } catch (err) {
          faultError = err as Error;
          problems.push(`fault injection failed: ${faultError.message}`);
        }
      }
    })();
    await Promise.all([faultLoop, ...Array.from({ length: options.concurrency }, (_, w) => load.worker(w, done)), ...Array.from({ length: options.stickyPods }, (_, i) => load.stickyWorker(i, done))]);
    clearInterval(progress);
    await load.drain();
    await monitor.stop();
    log(`load finished: ${stats.total} operations, ${faults.total} faults; checking the datastore`);

    // Everything should serve again; a component left down is itself a problem.
    for (const a of cluster.allocators) if (!cluster.allocatorUp(a.index)) problems.push(`allocator ${a.index} is not running at the end`);
    for (const a of cluster.agents) if (!cluster.agentUp(a.index)) problems.push(`agent ${a.nodeName} is not running at the end`);

    // The sticky identities' addresses outlive their pods: checked where they are, then released on purpose.
    const beforeRelease = await finalListing(cluster);
    ledger.checkStickyAtEnd(beforeRelease);
    const stickyIdentities = ledger.stickyIdentities.size;
    await releaseSticky(cluster, ledger, new Set(beforeRelease.map((a) => a.handleId)));
    const listing = await finalListing(cluster);
    const remaining = listing.filter((a) => !TUNNEL_HANDLE.test(a.handleId));
    const tunnelHandles = new Set(listing.filter((a) => TUNNEL_HANDLE.test(a.handleId)).map((a) => a.handleId)).size;
    const checkJson = await cluster.atollctl(['ipam', 'check', '-o', 'json']);
    const checkText = await cluster.atollctl(['ipam', 'check']);
    const show = await cluster.atollctl(['ipam', 'show', '-o', 'json']);
    let checked: { problems: number; handles: number } | undefined;
    try {
      checked = JSON.parse(checkJson.stdout) as { problems: number; handles: number };
    } catch {
      checked = undefined;
    }
    const summary = checkText.stdout.trim().split('\n').at(-1) ?? checkText.stderr.trim();
    const probes = faults.records.flatMap((f) => (f.probe ? [f.probe] : []));

    partial = {
      startedAt: startedAt.toISOString(),
      setup: { etcdMembers: options.etcdMembers, allocators: options.allocators, agents: options.agents, concurrency: options.concurrency, seed: options.seed, boundMs: options.boundMs },
      operations: { total: stats.total, add: stats.ops.ADD, del: stats.ops.DEL, probes: stats.probes, podsAttached: load.addedOk, staticAttached: load.staticAdds },
      faults: { total: faults.total, byKind: Object.fromEntries(options.faults.map((k) => [k, faults.byKind()[k]])) as Record<FaultKind, number>, log: faults.records },
      probes,
      failures: { total: stats.failures(), byCode: Object.fromEntries(stats.failuresByCode), notRetryable: stats.badFailures.slice(0, 50) },
      hangs: stats.hangs,
      latencyMs: { add: stats.latency('ADD'), del: stats.latency('DEL') },
      duplicates: ledger.duplicates.length,
      duplicateFindings: ledger.duplicates.slice(0, 50),
      lost: ledger.lost.length,
      lostFindings: ledger.lost.slice(0, 50),
      heldAfterFailedAdd: ledger.heldAfterFailure.length,
      heldAfterFailedAddFindings: ledger.heldAfterFailure.slice(0, 50),
      failedAddsExempt: ledger.exemptFailedAdds,
      sticky: { pods: options.stickyPods, identities: stickyIdentities, adds: ledger.stickyAdds, changed: ledger.stickyChanged.length, changedFindings: ledger.stickyChanged.slice(0, 50) },
      leaks: remaining.length,
      leakedAllocations: remaining.slice(0, 50).map((a) => ({ address: a.address, handleId: a.handleId })),
      leakedHandles: checked ? checked.handles - tunnelHandles : -1,
      stuckDeletes: load.stuck.length,
      monitor: { listings: monitor.snapshots, unavailable: monitor.unavailable, maxAllocations: monitor.maxAllocations },
      ipamCheck: { exitCode: checkText.code, problems: checked?.problems ?? null, summary },
      ipamShowInUse: inUseFromShow(show.stdout),
    };

    if (options.signal?.aborted !== true) {
      if (stats.total < options.operations) problems.push(`only ${stats.total} of ${options.operations} operations ran within ${options.maxDurationMs} ms`);
      if (faults.total < options.minFaults) problems.push(`only ${faults.total} of ${options.minFaults} faults were injected`);
    }
    if (ledger.live.size > 0) problems.push(`${ledger.live.size} pods were never deleted`);
    if (partial.stuckDeletes > 0) problems.push(`${partial.stuckDeletes} pods' DEL still failed after ${options.delRetryMs} ms of retries: ${load.stuck.slice(0, 5).map((p) => p.name).join(', ')}`);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const leftoverProcesses = await cluster.stop();
  const r = partial;

  if (r.duplicates > 0) problems.push(`${r.duplicates} addresses were held by two live pods or handles at once, first: ${JSON.stringify(r.duplicateFindings[0])}`);
  if (r.heldAfterFailedAdd > 0) problems.push(`${r.heldAfterFailedAdd} addresses were still held ${options.failedAddGraceMs} ms after their pod's ADD had failed (before its DEL), first: ${JSON.stringify(r.heldAfterFailedAddFindings[0])}`);
  if (r.sticky.pods > 0 && r.sticky.adds === 0) problems.push('no sticky pod was ever attached');
  if (r.sticky.changed > 0) problems.push(`${r.sticky.changed} times a sticky identity's addresses were not those of its first ADD, first: ${JSON.stringify(r.sticky.changedFindings[0])}`);
  if (r.lost > 0) problems.push(`${r.lost} addresses held by live pods were missing from the datastore, first: ${JSON.stringify(r.lostFindings[0])}`);
  if (r.failures.notRetryable.length > 0) {
    const first = r.failures.notRetryable[0]!;
    problems.push(`${r.failures.notRetryable.length} operations failed with a code other than 11, first: ${first.command} ${first.pod} code ${first.code}: ${first.msg}`);
  }
  if (r.hangs > 0) problems.push(`${r.hangs} operations did not finish within ${options.boundMs} ms`);
  if (r.leaks > 0) problems.push(`${r.leaks} addresses are still allocated after every pod was deleted, first: ${JSON.stringify(r.leakedAllocations[0])}`);
  if (r.leakedHandles !== 0) problems.push(`${r.leakedHandles} handles remain after every pod was deleted`);
  if (r.ipamCheck.exitCode !== 0 || r.ipamCheck.problems !== 0) problems.push(`atollctl ipam check: exit ${r.ipamCheck.exitCode}, ${r.ipamCheck.summary}`);
  if (r.ipamShowInUse !== 0) problems.push(`atollctl ipam show reports ${r.ipamShowInUse} addresses in use at the end`);
  for (const f of r.faults.log) {
    if (f.notReadyWhileCut === false) problems.push(`${f.target}: the replica never reported not ready`);
    if (f.readyAfterHealMs === -1) problems.push(`${f.target}: the replica was not ready again within ${READY_AFTER_HEAL_BOUND_MS} ms of the heal`);
    if (f.retryAfterHeal && f.retryAfterHeal.code !== 0) problems.push(`${f.target}: the same pod's ADD did not succeed within ${RETRY_AFTER_HEAL_BOUND_MS} ms of the heal: code ${f.retryAfterHeal.code} ${f.retryAfterHeal.msg}`);
    if (f.noSpace) {
      if (!f.probe?.msg.includes(OUT_OF_SPACE_WORDS)) problems.push(`${f.target}: the ADD's failure did not say "${OUT_OF_SPACE_WORDS}": ${f.probe?.msg}`);
      if (!f.noSpace.readsWorked) problems.push(`${f.target}: ListAllocations failed while etcd was out of space`);
      if (f.noSpace.resumedAfterMs === -1) problems.push(`${f.target}: no ADD succeeded within ${RESUME_AFTER_NOSPACE_BOUND_MS} ms of the operator's steps`);
    }
  }
  for (const p of r.probes) if (p.code !== 11) problems.push(`an ADD through ${p.agent} while ${p.down} was down answered code ${p.code} (${p.msg}), not 11`);
  if (r.monitor.listings === 0) problems.push('the monitor never obtained a listing of the allocations');
  if (leftoverProcesses.length > 0) problems.push(`processes still running after stop: ${leftoverProcesses.join(', ')}`);

  return { ...r, verdict: problems.length === 0 ? 'pass' : 'fail', problems, durationMs: Math.round(performance.now() - t0), leftoverProcesses };
}

// Burst: N pods across M nodes created at once. Each node has its own atoll-node-agent;
// every pod is one `atoll-ipam` ADD process, at most P in flight per node (as a runtime
// creating sandboxes in parallel), so up to M×P plugin processes run at once. Wall time
// from the first spawn until every pod has its address. Baselines in the same run, at the
// same concurrency: host-local (one data dir per node), and the same ADDs sent straight
// to the agents' sockets (Atoll's server side without any process start).
// Run: npm run bench:burst
//
// Options (env): BENCH_BURST_PODS (1000), BENCH_BURST_NODES (10), BENCH_BURST_PER_NODE (10).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentRequest, type AgentProcess } from '../src/processes';
import { cpuTimes, exitedChildrenCpuSeconds, machineBusyCoreSeconds, machineFacts, processCpuSeconds, unsetExtraCaCerts } from './machine';
import { runCniPlugin } from '../netns';
import { atollVariant, hostLocalVariant, ipamCall, resultAddresses, seaAvailable, type IpamVariant } from './plugin-runs';
import { envNumber, progress, ratio, summarize, target, writeResult, type LatencySummary } from './results';
import { applyPool, startAgents, startAllocator, startEtcd, type Allocator } from './stack';
import { round } from './stats';
import { runBenchmark, type Teardown } from './teardown';
import { noFailures, type Failures } from './transient';

const PODS = envNumber('BENCH_BURST_PODS', 1000);
const NODES = envNumber('BENCH_BURST_NODES', 10);
const PER_NODE = envNumber('BENCH_BURST_PER_NODE', 10);
const TARGET_WALL_S = 10;

type Kind = 'atoll-ipam' | 'atoll-ipam-sea' | 'agent-socket' | 'host-local';

interface BurstResult {
  wallS: number;
  podsPerSec: number;
  perPod: LatencySummary;
  distinctAddresses: number;
  /** CPU seconds, by who spent them, during the burst; `otherWork` is the machine's busy time not accounted to any of these (other users of the machine). */
  /** ADDs answered "try again later" (CNI 11), each followed by a DEL and an ADD for a new sandbox; the pod's latency includes them. */
  retriedAdds: Failures;
  cpuSeconds: { pluginProcesses: number; agents: number; allocator: number; etcd: number; benchmarkProcess: number; machineTotal: number; otherWork: number; machineCapacity: number };
}

async function burst(kind: Kind, allocator: Allocator, etcdPid: number, agents: AgentProcess[], hostLocalDir: string): Promise<BurstResult> {
  const variantFor = (n: number): IpamVariant | undefined =>
    kind === 'host-local' ? hostLocalVariant(`10.${100 + n}.0.0/16`, path.join(hostLocalDir, `node-${n}`)) : kind === 'agent-socket' ? undefined : atollVariant(kind, agents[n]!.socket);
  const failures = noFailures();
  const agentCall = (n: number, command: 'ADD' | 'DEL', id: string) =>
    agentRequest(agents[n]!.socket, {
      command,
      containerId: id,
      ifname: 'eth0',
      netns: `/var/run/netns/${id}`,
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${id}`,
      networkConfig: JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'bridge', ipam: { type: 'atoll-ipam', agent_socket: agents[n]!.socket } }),
    });
  /**
   * One pod's ADD. A CNI "try again later" (11) is counted and handled as a runtime does:
   * DEL of that attachment (the first ADD may have allocated before it timed out), then
   * after 200 ms an ADD for a new sandbox (a new container ID). The pod's latency
   * includes all of it.
   */
  const addOne = async (n: number, j: number): Promise<string> => {
    const variant = variantFor(n);
    for (let attempt = 1; ; attempt++) {
      const id = `${kind}-n${n}-p${j}${attempt > 1 ? `-a${attempt}` : ''}`;
      let outcome: { address?: string; error?: { code?: number; msg?: string } };
      if (variant) {
        const r = await runCniPlugin({ ...ipamCall(variant, 'ADD', id, id), timeoutMs: 120_000 });
        outcome = r.code === 0 ? { address: resultAddresses(r)[0] } : { error: (r.json as { code?: number; msg?: string }) ?? { msg: r.stderr } };
      } else {
        const res = await agentCall(n, 'ADD', id);
        outcome = res.result ? { address: (JSON.parse(res.result) as { ips: { address: string }[] }).ips[0]?.address } : { error: res.error ?? { msg: 'no answer' } };
      }
      if (outcome.address) return outcome.address;
      if (outcome.error?.code !== 11 || attempt >= 5) throw new Error(`${kind} ADD ${id} failed (attempt ${attempt}): ${JSON.stringify(outcome.error)}`);
      failures.count++;
      failures.byCode[`cni-${outcome.error.code}`] = (failures.byCode[`cni-${outcome.error.code}`] ?? 0) + 1;
      failures.firstMessage ??= outcome.error.msg;
      if (variant) await runCniPlugin({ ...ipamCall(variant, 'DEL', id, id), timeoutMs: 120_000 });
      else await agentCall(n, 'DEL', id);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const perNode = Array.from({ length: NODES }, (_, n) => Array.from({ length: Math.floor(PODS / NODES) + (n < PODS % NODES ? 1 : 0) }, (_, j) => j));
  const latencies: number[] = [];
  const addresses: string[] = [];
  const cpu0 = { children: exitedChildrenCpuSeconds(), agents: agents.reduce((s, a) => s + processCpuSeconds(a.pid), 0), allocator: processCpuSeconds(allocator.process.pid), etcd: processCpuSeconds(etcdPid), self: process.cpuUsage(), machine: cpuTimes() };
  const t0 = performance.now();
  await Promise.all(
    perNode.map(async (pods, n) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(PER_NODE, pods.length) }, async () => {
          for (let i = next++; i < pods.length; i = next++) {
            const s = performance.now();
            addresses.push(await addOne(n, pods[i]!));
            latencies.push(performance.now() - s);
          }
        }),
      );
    }),
  );
  const wallMs = performance.now() - t0;
  const self = process.cpuUsage(cpu0.self);
  const ours = {
    pluginProcesses: exitedChildrenCpuSeconds() - cpu0.children,
    agents: agents.reduce((s, a) => s + processCpuSeconds(a.pid), 0) - cpu0.agents,
    allocator: processCpuSeconds(allocator.process.pid) - cpu0.allocator,
    etcd: processCpuSeconds(etcdPid) - cpu0.etcd,
    benchmarkProcess: (self.user + self.system) / 1e6,
  };
  const machineTotal = machineBusyCoreSeconds(cpu0.machine, cpuTimes());
  const cpuSeconds = {
    ...(Object.fromEntries(Object.entries(ours).map(([k, v]) => [k, round(v, 2)])) as typeof ours),
    machineTotal: round(machineTotal, 2),
    otherWork: round(Math.max(0, machineTotal - Object.values(ours).reduce((a, b) => a + b, 0)), 2),
    machineCapacity: round((os.cpus().length * wallMs) / 1000, 2),
  };
  const distinct = new Set(addresses.map((a) => a.split('/')[0])).size;
  if (distinct !== PODS) throw new Error(`${kind}: ${PODS} pods got ${distinct} distinct addresses`);
  return { wallS: round(wallMs / 1000, 2), podsPerSec: round((PODS / wallMs) * 1000), perPod: summarize(latencies), distinctAddresses: distinct, cpuSeconds, retriedAdds: failures };
}

async function runVariant(teardown: Teardown, kind: Kind, allocator: Allocator, etcdPid: number): Promise<BurstResult> {
  const hostLocalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-bench-burst-'));
  const removeDir = teardown.add('host-local data dirs', async () => fs.rmSync(hostLocalDir, { recursive: true, force: true }));
  // each Atoll variant gets fresh nodes (fresh agents), so each claims its blocks in its own burst
  const started = kind === 'host-local' ? undefined : await startAgents(teardown, allocator, Array.from({ length: NODES }, (_, n) => `${kind}-node-${n}`));
  try {
    progress(`${kind}: ${PODS} pods on ${NODES} nodes, ≤ ${PER_NODE} in flight per node`);
    const r = await burst(kind, allocator, etcdPid, started?.agents ?? [], hostLocalDir);
    progress(`${kind}: ${r.wallS} s`);
    if (started) {
      // give the addresses back (not timed) so the next variant starts from the same state
      const handles = [...new Set((await allocator.client.ipam.listAllocations({ node: '', handlePrefix: `k8s-pod-network.${kind}-` })).allocations.map((a) => a.handleId))];
      for (let i = 0; i < handles.length; i += 20) {
        await Promise.all(handles.slice(i, i + 20).map((h) => allocator.client.ipam.releaseByHandle({ handleId: h }).catch((err: unknown) => ((err as { code?: string }).code === 'not-found' ? undefined : Promise.reject(err)))));
      }
    }
    return r;
  } finally {
    await started?.stop();
    await removeDir();
  }
}

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  const facts = await machineFacts();
  progress('starting etcd and the allocator');
  const etcd = await startEtcd(teardown);
  const allocator = await startAllocator(teardown, etcd);
  await applyPool(allocator.client, 'bench-pool', '10.128.0.0/14');
  const kinds: Kind[] = ['atoll-ipam', ...(seaAvailable() ? (['atoll-ipam-sea'] as const) : []), 'agent-socket', 'host-local'];
  const results: Partial<Record<Kind, BurstResult>> = {};
  for (const kind of kinds) results[kind] = await runVariant(teardown, kind, allocator, etcd.members[0]!.pid!);
  const check = await allocator.client.ipam.check({});

  const hl = results['host-local']!;
  const ratios = Object.fromEntries(kinds.filter((k) => k !== 'host-local').map((k) => [k, { wallVsHostLocal: ratio(results[k]!.wallS, hl.wallS), medianPerPodVsHostLocal: ratio(results[k]!.perPod.medianMs, hl.perPod.medianMs) }]));
  const targets = [target(`atoll-ipam: ${PODS} pods on ${NODES} nodes, wall time to all allocated`, results['atoll-ipam']!.wallS, '<', TARGET_WALL_S, 's')];
  if (results['atoll-ipam-sea']) targets.push(target(`atoll-ipam-sea: ${PODS} pods on ${NODES} nodes, wall time`, results['atoll-ipam-sea'].wallS, '<', TARGET_WALL_S, 's'));
  targets.push(target(`Atoll server side alone (agent sockets, no plugin exec): ${PODS} pods`, results['agent-socket']!.wallS, '<', TARGET_WALL_S, 's'));
  writeResult('burst', facts, {
    config: {
      pods: PODS,
      nodes: NODES,
      maxInFlightPerNode: PER_NODE,
      maxInFlightMachineWide: NODES * PER_NODE,
      how: 'every node runs its pods through a pool of P concurrent CNI ADDs; all nodes start at the same instant; an ADD answered 11 (try again later) is counted, followed by its DEL and, 200 ms later, an ADD for a new sandbox (new container ID), up to 5 attempts; one atoll-node-agent per node (no Kubernetes, default --concurrency 8), one allocator, private etcd on /dev/shm; pool 10.128.0.0/14 blockSize 26; every Atoll variant uses fresh nodes, so its burst includes claiming the blocks',
      variants: {
        'atoll-ipam': 'the plugin bundle executed per pod (node + 18 KB script)',
        'atoll-ipam-sea': 'the single-executable plugin executed per pod',
        'agent-socket': 'the same ADD request line written straight to the agent socket: no process start (server-side capacity)',
        'host-local': 'host-local v1.1.1 executed per pod, one data dir and one /16 range per node (baseline)',
      },
    },
    results,
    ratios,
    ipamCheckProblemsAfter: check.problems,
    targets,
  });
});

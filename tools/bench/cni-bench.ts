// CNI ADD and DEL per pod: dist/bin/atoll-ipam (and atoll-ipam-sea when built) through a
// warm node agent and allocator on a private etcd, against host-local, in the same run,
// interleaved pod by pod so machine noise hits every variant alike. Then the whole pod:
// the real bridge plugin in network namespaces with each IPAM. Every plugin process runs
// without NODE_EXTRA_CA_CERTS (see machine.ts). Run: npm run bench:cni
//
// Options (env): BENCH_CNI_PODS (200 IPAM-only pods per variant), BENCH_CNI_NETNS_PODS
// (30 pods per variant through bridge), BENCH_CNI_WARMUP (5).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNetns, runCommand, uniqueNetnsName, type Netns } from '../netns/netns';
import { exitedChildrenCpuSeconds, machineFacts, unsetExtraCaCerts } from './machine';
import { atollVariant, CNI_PATH, hostLocalVariant, ipamCall, resultAddresses, seaAvailable, timedBareNode, timedCni, type IpamVariant } from './plugin-runs';
import { histogramMeanMs, scrape } from './prometheus';
import { envNumber, progress, ratio, summarize, target, writeResult } from './results';
import { applyPool, startAgents, startAllocator, startEtcd } from './stack';
import { round } from './stats';
import { runBenchmark, type Teardown } from './teardown';

const PODS = envNumber('BENCH_CNI_PODS', 200);
const NETNS_PODS = envNumber('BENCH_CNI_NETNS_PODS', 30);
const WARMUP = envNumber('BENCH_CNI_WARMUP', 5);
const TARGET_ADD_MEDIAN_MS = 90;

/** Variants in a different order for each pod, so none always runs right after another. */
const rotate = <T>(xs: readonly T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]!);

interface Samples {
  add: number[];
  del: number[];
  addCpu: number[];
  delCpu: number[];
}

async function ipamOnly(variants: readonly IpamVariant[]) {
  const samples = new Map(variants.map((v) => [v.name, { add: [], del: [], addCpu: [], delCpu: [] } as Samples]));
  const bare: number[] = [];
  const held: { v: IpamVariant; id: string; result: unknown }[] = [];
  const addresses = new Map<string, string>();
  for (let i = 0; i < PODS; i++) {
    for (const v of rotate(variants, i)) {
      const id = `${v.name}-${i}`;
      const c0 = exitedChildrenCpuSeconds();
      const r = await timedCni(ipamCall(v, 'ADD', id, id));
      const s = samples.get(v.name)!;
      s.addCpu.push((exitedChildrenCpuSeconds() - c0) * 1000);
      s.add.push(r.ms);
      const ips = resultAddresses(r);
      if (ips.length !== 1) throw new Error(`${v.name} ADD ${id} returned ${JSON.stringify(r.json)}`);
      const owner = addresses.get(`${v.name === 'host-local' ? 'hl' : 'atoll'}:${ips[0]}`);
      if (owner) throw new Error(`${ips[0]} given to both ${owner} and ${id}`);
      addresses.set(`${v.name === 'host-local' ? 'hl' : 'atoll'}:${ips[0]}`, id);
      held.push({ v, id, result: r.json });
    }
    bare.push(await timedBareNode());
    if ((i + 1) % 50 === 0) progress(`IPAM-only ADD: ${i + 1}/${PODS} pods per variant`);
  }
  for (let i = 0; i < PODS; i++) {
    for (const v of rotate(variants, i)) {
      const pod = held.find((h) => h.v === v && h.id === `${v.name}-${i}`)!;
      const c0 = exitedChildrenCpuSeconds();
      const r = await timedCni(ipamCall(v, 'DEL', pod.id, pod.id, pod.result));
      const s = samples.get(v.name)!;
      s.delCpu.push((exitedChildrenCpuSeconds() - c0) * 1000);
      s.del.push(r.ms);
    }
    if ((i + 1) % 50 === 0) progress(`IPAM-only DEL: ${i + 1}/${PODS} pods per variant`);
  }
  return { samples, bare };
}

async function wholePodThroughBridge(teardown: Teardown, variants: readonly IpamVariant[]) {
  const prefix = uniqueNetnsName('atollb-cni-');
  const hosts: Netns[] = [];
  for (let k = 0; k < variants.length; k++) {
    const host = await createNetns(`${prefix}-h${k}`);
    teardown.add(`namespace ${host.name}`, () => host.delete());
    hosts.push(host);
  }
  const config = (k: number) => ({ cniVersion: '1.0.0', name: variants[k]!.network, type: 'bridge', bridge: `abr${k}`, ipam: variants[k]!.ipam });
  const call = (k: number, command: 'ADD' | 'DEL', id: string, pod: Netns, prevResult?: unknown) => ({
    pluginDir: CNI_PATH,
    plugin: 'bridge',
    command,
    containerId: id,
    netnsPath: pod.path,
    ifname: 'eth0',
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${id}`,
    config: config(k),
    hostNetns: hosts[k]!.name,
    ...(prevResult !== undefined && { prevResult }),
  });
  const samples = new Map(variants.map((v) => [v.name, { add: [] as number[], del: [] as number[] }]));
  const pods: { k: number; id: string; ns: Netns; result: unknown; remove: () => Promise<void> }[] = [];
  const order = variants.map((_, k) => k);
  for (let i = 0; i < NETNS_PODS; i++) {
    for (const k of rotate(order, i)) {
      const id = `br-${variants[k]!.name}-${i}`;
      const ns = await createNetns(`${prefix}-p${k}-${i}`);
      const remove = teardown.add(`namespace ${ns.name}`, () => ns.delete());
      const r = await timedCni(call(k, 'ADD', id, ns));
      if (resultAddresses(r).length !== 1) throw new Error(`bridge/${variants[k]!.name} ADD ${id} returned ${r.stdout}`);
      samples.get(variants[k]!.name)!.add.push(r.ms);
      pods.push({ k, id, ns, result: r.json, remove });
    }
  }
  progress(`bridge ADD: ${NETNS_PODS} pods per variant`);
  // what the test harness adds to every call (a real runtime runs bridge in the host namespace directly)
  const netnsExec: number[] = [];
  for (let i = 0; i < NETNS_PODS; i++) {
    const t0 = performance.now();
    await runCommand('ip', ['netns', 'exec', hosts[0]!.name, '/bin/true']);
    netnsExec.push(performance.now() - t0);
  }
  for (let i = 0; i < NETNS_PODS; i++) {
    for (const k of rotate(order, i)) {
      const pod = pods.find((p) => p.k === k && p.id === `br-${variants[k]!.name}-${i}`)!;
      const r = await timedCni(call(k, 'DEL', pod.id, pod.ns, pod.result));
      samples.get(variants[k]!.name)!.del.push(r.ms);
      await pod.remove();
    }
  }
  progress(`bridge DEL: ${NETNS_PODS} pods per variant`);
  return { samples, netnsExec };
}

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  if (process.getuid?.() !== 0) throw new Error('the whole-pod part creates network namespaces: run as root');
  const facts = await machineFacts();
  progress('starting etcd, the allocator and a node agent');
  const etcd = await startEtcd(teardown);
  const allocator = await startAllocator(teardown, etcd);
  await applyPool(allocator.client, 'bench-pool', '10.64.0.0/16');
  const {
    agents: [agent],
  } = await startAgents(teardown, allocator, ['cni-bench-node']);
  const hostLocalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-bench-host-local-'));
  teardown.add('host-local data dir', async () => fs.rmSync(hostLocalDir, { recursive: true, force: true }));
  const variants: IpamVariant[] = [
    atollVariant('atoll-ipam', agent!.socket),
    ...(seaAvailable() ? [atollVariant('atoll-ipam-sea', agent!.socket)] : []),
    hostLocalVariant('10.250.0.0/16', path.join(hostLocalDir, 'networks')),
  ];
  progress(`variants: ${variants.map((v) => v.name).join(', ')}; warming up (${WARMUP} ADD+DEL each)`);
  for (const v of variants) {
    for (let i = 0; i < WARMUP; i++) {
      const id = `warm-${v.name}-${i}`;
      const add = await timedCni(ipamCall(v, 'ADD', id, id));
      await timedCni(ipamCall(v, 'DEL', id, id, add.json));
    }
  }

  const agentBefore = await scrape(`${agent!.metricsUrl}/metrics`);
  const allocatorBefore = await scrape(`${allocator.process.metricsUrl}/metrics`);
  const ipam = await ipamOnly(variants);
  const agentAfter = await scrape(`${agent!.metricsUrl}/metrics`);
  const allocatorAfter = await scrape(`${allocator.process.metricsUrl}/metrics`);
  const bridge = NETNS_PODS > 0 ? await wholePodThroughBridge(teardown, variants) : undefined;

  const perVariant = Object.fromEntries(
    variants.map((v) => {
      const s = ipam.samples.get(v.name)!;
      return [v.name, { add: summarize(s.add), del: summarize(s.del), cpuMsPerAdd: round(s.addCpu.reduce((a, b) => a + b, 0) / s.addCpu.length, 1), cpuMsPerDel: round(s.delCpu.reduce((a, b) => a + b, 0) / s.delCpu.length, 1) }];
    }),
  );
  const hl = perVariant['host-local']!;
  const ratios = Object.fromEntries(
    variants
      .filter((v) => v.name !== 'host-local')
      .map((v) => [v.name, { addMedianVsHostLocal: ratio(perVariant[v.name]!.add.medianMs, hl.add.medianMs), addP99VsHostLocal: ratio(perVariant[v.name]!.add.p99Ms, hl.add.p99Ms), delMedianVsHostLocal: ratio(perVariant[v.name]!.del.medianMs, hl.del.medianMs), delP99VsHostLocal: ratio(perVariant[v.name]!.del.p99Ms, hl.del.p99Ms) }]),
  );
  const bareNode = summarize(ipam.bare);
  const wholePod = bridge && {
    ...Object.fromEntries(variants.map((v) => [v.name, { add: summarize(bridge.samples.get(v.name)!.add), del: summarize(bridge.samples.get(v.name)!.del) }])),
    harnessNetnsExecOverhead: summarize(bridge.netnsExec),
  };
  const wholePodRatios = bridge && Object.fromEntries(
    variants
      .filter((v) => v.name !== 'host-local')
      .map((v) => {
        const a = bridge.samples.get(v.name)!;
        const b = bridge.samples.get('host-local')!;
        return [v.name, { addMedianVsHostLocal: ratio(summarize(a.add).medianMs, summarize(b.add).medianMs), delMedianVsHostLocal: ratio(summarize(a.del).medianMs, summarize(b.del).medianMs) }];
      }),
  );
  const atoll = perVariant['atoll-ipam']!;
  const targets = [target('atoll-ipam ADD median (IPAM only, warm agent)', atoll.add.medianMs, '<=', TARGET_ADD_MEDIAN_MS, 'ms')];
  if (perVariant['atoll-ipam-sea']) targets.push(target('atoll-ipam-sea ADD median (IPAM only, warm agent)', perVariant['atoll-ipam-sea'].add.medianMs, '<=', TARGET_ADD_MEDIAN_MS, 'ms'));

  writeResult('cni', facts, {
    config: {
      podsPerVariant: PODS,
      bridgePodsPerVariant: NETNS_PODS,
      warmupPerVariant: WARMUP,
      order: 'ADD for every pod (variants rotated per pod), then DEL for every pod; addresses held in between',
      atoll: 'one atoll-node-agent without Kubernetes (--labels), allocator process, private etcd on /dev/shm; pool 10.64.0.0/16 blockSize 26',
      hostLocal: 'host-local v1.1.1, range 10.250.0.0/16, data dir in /tmp',
      timing: 'wall time from spawn to exit, measured by the benchmark process; CPU = user+sys of the plugin process tree (kernel accounting, 10 ms ticks, averaged)',
      cniVersion: '1.0.0',
    },
    ipamOnly: { ...perVariant, 'node -e 0 (floor of any Node process)': bareNode },
    ratios,
    serverSideMeans: {
      note: 'means from the processes\' own histograms over the IPAM-only phase (both atoll variants)',
      agentAddMs: round(histogramMeanMs(agentBefore, agentAfter, 'atoll_node_agent_cni_duration_seconds', { command: 'ADD' }), 2),
      agentDelMs: round(histogramMeanMs(agentBefore, agentAfter, 'atoll_node_agent_cni_duration_seconds', { command: 'DEL' }), 2),
      allocatorAutoAssignMs: round(histogramMeanMs(allocatorBefore, allocatorAfter, 'atoll_allocator_rpc_duration_seconds', { method: 'autoAssign' }), 2),
      allocatorReleaseByHandleMs: round(histogramMeanMs(allocatorBefore, allocatorAfter, 'atoll_allocator_rpc_duration_seconds', { method: 'releaseByHandle' }), 2),
    },
    wholePodThroughBridge: wholePod,
    wholePodRatios,
    targets,
    raw: { ipamOnly: Object.fromEntries(ipam.samples), bareNode: ipam.bare, bridge: bridge && Object.fromEntries(bridge.samples) },
  });
});

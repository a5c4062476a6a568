// Pod start on a real container runtime: RunPodSandbox (and StopPodSandbox) through
// containerd's CRI plugin with the configuration deploy/ installs (the `atoll` main plugin,
// single executable, node agent routing host-gw), against the same containerd with the
// standard bridge + host-local configuration, in the same run: blocks of pods alternate
// between the two so machine noise hits both alike. containerd reloads its CNI
// configuration when the directory changes; each block waits until the CRI reports the
// configuration it is meant to measure. No process this benchmark starts has
// NODE_EXTRA_CA_CERTS (see machine.ts). Run: npm run bench:pod-start
//
// Options (env): BENCH_POD_START_PODS (60 pods per variant), BENCH_POD_START_BLOCK (10 pods
// per block), BENCH_POD_START_WARMUP (3 per variant, not counted).
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeCluster, type RuntimeNode } from '../cluster';
import { cleanupNetnsWithPrefix } from '../netns/netns';
import { machineFacts, unsetExtraCaCerts } from './machine';
import { envNumber, progress, ratio, summarize, target, writeResult } from './results';
import { runBenchmark } from './teardown';

const PODS = envNumber('BENCH_POD_START_PODS', 60);
const BLOCK = envNumber('BENCH_POD_START_BLOCK', 10);
const WARMUP = envNumber('BENCH_POD_START_WARMUP', 3);
const TARGET_RATIO = 1.4;
const PREFIX = 'atoll-bps-';

/** Sorts before 10-atoll.conflist, so while it exists containerd uses it. */
const HOST_LOCAL_CONF = '05-host-local.conflist';
const hostLocalConflist = {
  cniVersion: '1.0.0',
  name: 'host-local-bench',
  plugins: [{ type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] } }],
};

type Variant = 'atoll' | 'host-local';
const NETWORK_NAME: Record<Variant, string> = { atoll: 'k8s-pod-network', 'host-local': 'host-local-bench' };

/** Switches the node's CNI configuration and waits until the CRI plugin has loaded it. */
async function useVariant(node: RuntimeNode, variant: Variant): Promise<void> {
  const file = path.join(node.cniConfDir, HOST_LOCAL_CONF);
  if (variant === 'host-local') fs.writeFileSync(file, JSON.stringify(hostLocalConflist));
  else fs.rmSync(file, { force: true });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { info } = await node.containerd.cri.status();
    // The CRI's verbose status holds the loaded network list (max_conf_num = 1: only the first file).
    if (JSON.stringify(info['cniconfig']).includes(`"Name":"${NETWORK_NAME[variant]}"`)) return;
    if (Date.now() > deadline) throw new Error(`containerd did not load the ${variant} configuration: ${JSON.stringify(info).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

runBenchmark(async (teardown) => {
  unsetExtraCaCerts();
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates network namespaces and runs containerd');
  await cleanupNetnsWithPrefix(PREFIX);
  const facts = await machineFacts();
  // Debug level: the agent logs when each CNI request arrives, for the breakdown below.
  const cluster = await RuntimeCluster.start({ prefix: PREFIX, nodes: 1, agentArgs: ['--log-level', 'debug'] });
  teardown.add('cluster', () => cluster.stop());
  await cluster.apply({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, natOutgoing: true, nodeSelector: 'all()' } });
  const node = cluster.nodes[0]!;

  const samples: Record<Variant, { run: number[]; stop: number[] }> = { atoll: { run: [], stop: [] }, 'host-local': { run: [], stop: [] } };
  // Where an Atoll RunPodSandbox spends its time, from the agent's log (same clock).
  const phases = { toAgent: [] as number[], ipam: [] as number[], wiring: [] as number[], afterCni: [] as number[] };
  const agentTimes = (id: string) => {
    const at: Record<string, number> = {};
    for (const line of node.agent.output().split('\n')) {
      if (!line.includes(id)) continue;
      try {
        const entry = JSON.parse(line) as { time: string; msg: string; command?: string };
        if (entry.command === 'ADD' || entry.msg !== 'CNI request received') at[entry.msg] ??= Date.parse(entry.time);
      } catch {
        /* not a log line */
      }
    }
    return at;
  };
  let counter = 0;
  const onePod = async (variant: Variant, counted: boolean) => {
    const name = `${variant}-${counter++}`;
    const created = await cluster.kube.createPod({ metadata: { name, namespace: 'default' }, spec: { nodeName: node.name, containers: [{ name: 'c', image: 'none' }] } });
    // The pod object exists before its sandbox: the kubelet learns of it through its own watch
    // and mounts volumes and pulls images first, so the agent's informer has it by then.
    await new Promise((r) => setTimeout(r, 100));
    const wall0 = Date.now();
    const t0 = performance.now();
    const id = await node.containerd.cri.runPodSandbox({ name, namespace: 'default', uid: String(created.metadata.uid) });
    const t1 = performance.now();
    const wall1 = Date.now();
    await node.containerd.cri.stopPodSandbox(id);
    const t2 = performance.now();
    await node.containerd.cri.removePodSandbox(id);
    await cluster.kube.deletePod('default', name);
    if (counted) {
      samples[variant].run.push(t1 - t0);
      samples[variant].stop.push(t2 - t1);
      const at = agentTimes(id);
      const [arrived, assigned, wired] = [at['CNI request received'], at['assigned addresses'], at['wired the pod']];
      if (variant === 'atoll' && arrived && assigned && wired) {
        phases.toAgent.push(arrived - wall0);
        phases.ipam.push(assigned - arrived);
        phases.wiring.push(wired - assigned);
        phases.afterCni.push(wall1 - wired);
      }
    }
  };

  for (const variant of ['atoll', 'host-local'] as const) {
    await useVariant(node, variant);
    for (let i = 0; i < WARMUP; i++) await onePod(variant, false);
  }
  for (let done = 0; done < PODS; done += BLOCK) {
    const order: Variant[] = (done / BLOCK) % 2 === 0 ? ['atoll', 'host-local'] : ['host-local', 'atoll'];
    for (const variant of order) {
      await useVariant(node, variant);
      for (let i = 0; i < Math.min(BLOCK, PODS - done); i++) await onePod(variant, true);
    }
    progress(`pod start: ${Math.min(done + BLOCK, PODS)}/${PODS} pods per variant`);
  }

  const run = { atoll: summarize(samples.atoll.run), hostLocal: summarize(samples['host-local'].run) };
  const stop = { atoll: summarize(samples.atoll.stop), hostLocal: summarize(samples['host-local'].stop) };
  const runRatio = ratio(run.atoll.medianMs, run.hostLocal.medianMs);
  const targets = [target('RunPodSandbox median, Atoll ÷ bridge + host-local', runRatio, '<=', TARGET_RATIO, '×')];
  const breakdown = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, summarize(v).medianMs]));
  process.stdout.write(
    [
      `RunPodSandbox median: Atoll ${run.atoll.medianMs} ms, bridge + host-local ${run.hostLocal.medianMs} ms → ${runRatio}× (target ≤ ${TARGET_RATIO}×)`,
      `  p90: ${run.atoll.p90Ms} ms vs ${run.hostLocal.p90Ms} ms`,
      `StopPodSandbox median: Atoll ${stop.atoll.medianMs} ms, bridge + host-local ${stop.hostLocal.medianMs} ms → ${ratio(stop.atoll.medianMs, stop.hostLocal.medianMs)}×`,
      `Atoll RunPodSandbox, medians by phase (ms, from the agent's log at 1 ms resolution): until the request reaches the agent ${breakdown['toAgent']}` +
        ` (containerd's netns and the plugin's process start), IPAM ${breakdown['ipam']}, wiring after IPAM ${breakdown['wiring']}, from the wired pod to the running sandbox ${breakdown['afterCni']}`,
      '',
    ].join('\n'),
  );
  writeResult('pod-start', facts, { pods: PODS, block: BLOCK, runPodSandbox: run, stopPodSandbox: stop, ratio: runRatio, atollPhasesMedianMs: breakdown, targets, raw: samples });
});

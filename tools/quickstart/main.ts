// The local quickstart (`npm start`): a whole Atoll installation on this machine with a
// real container runtime — etcd, the Kubernetes API stand-in and the allocator on loopback;
// two nodes (network namespaces on one segment), each with its node agent routing host-gw
// and its own containerd running the CNI plugin that `atoll-node-agent --install-cni`
// installed — then a default pool, demo pods started through the CRI as the kubelet does
// (one with a static address), their addresses, pings between them, a StatefulSet pod with
// a sticky address deleted and recreated on the other node, keeping it, and `atollctl ipam
// show`. Serves until Ctrl-C, then removes every process and namespace it made.
import net from 'node:net';
import { RuntimeCluster, type RuntimePod } from '../cluster';
import { freePort } from '../etcd/launcher';
import { cleanupNetnsWithPrefix } from '../netns';

const PREFIX = 'atoll-qs-';
const POOL = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name: 'default-ipv4-ippool' },
  spec: { cidr: '192.168.0.0/16', blockSize: 26, natOutgoing: true, nodeSelector: 'all()' },
};
const OUTSIDE = '172.30.0.1';

const say = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the quickstart creates network namespaces and runs containerd: run it as root');
  // A container runtime's exec of a CNI plugin has no such variable; it slows every Node start.
  delete process.env['NODE_EXTRA_CA_CERTS'];
  await cleanupNetnsWithPrefix(PREFIX);
  const port = await freePort().then(async (p) => ((await isFree(7443)) ? 7443 : p));
  say('Starting etcd, the Kubernetes API stand-in, the allocator, and two nodes (node agent + containerd each)…');
  const cluster = await RuntimeCluster.start({ prefix: PREFIX, nodes: 2, allocatorPort: port });
  let stopping = false;
  const stop = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    say('\nStopping: removing the demo pods, stopping every process, deleting every namespace…');
    await cluster.stop();
    say('Done.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  try {
    await cluster.apply(POOL);
    say(`Applied IPPool default-ipv4-ippool (${POOL.spec.cidr}, blockSize 26, natOutgoing).`);
    say(`Nodes: ${cluster.nodes.map((n) => `${n.name} ${n.host.ipv4}`).join(', ')}; the outside: ${OUTSIDE}`);
    const specs = [
      { node: 'node-1', name: 'web-1' },
      { node: 'node-2', name: 'web-2' },
      { node: 'node-1', name: 'static-1', annotations: { 'cni.projectcalico.org/ipAddrs': '["192.168.0.1"]' } },
    ];
    say('\nPods (created in the Kubernetes API, then RunPodSandbox on their node\'s containerd):');
    const pods: RuntimePod[] = [];
    for (const s of specs) {
      const pod = await cluster.runPod(s.node, s);
      pods.push(pod);
      say(`  ${pod.name.padEnd(9)} on ${s.node}  ${pod.ips.join(', ')}${s.annotations ? '   (asked for 192.168.0.1)' : ''}`);
    }
    say('\nPings from inside the pods:');
    const targets: [RuntimePod, string, string][] = [
      [pods[2]!, pods[1]!.ips[0]!, 'web-2 on the other node'],
      [pods[1]!, pods[2]!.ips[0]!, 'static-1 on the other node'],
      [pods[0]!, pods[2]!.ips[0]!, 'static-1 on the same node'],
      [pods[1]!, cluster.nodes[0]!.host.ipv4, 'node-1'],
      [pods[2]!, OUTSIDE, 'the outside (masqueraded: natOutgoing)'],
    ];
    for (const [from, to, what] of targets) {
      const ok = await cluster.ping(from, to, { attempts: 25 });
      say(`  ${from.name.padEnd(9)} → ${to.padEnd(13)} ${ok ? 'ok  ' : 'FAIL'}  ${what}`);
    }
    await stickyDemo(cluster);
    const show = await cluster.atollctl(['ipam', 'show', '--show-blocks']);
    say(`\n$ atollctl ipam show --show-blocks\n${show.stdout.trimEnd()}`);
    say(`\nServing. In another shell: dist/bin/atollctl --allocator ${cluster.allocator.address} ipam show --ip=192.168.0.1`);
    say('Press Ctrl-C to stop and clean up.');
  } catch (err) {
    process.stderr.write(`quickstart failed: ${(err as Error).message}\n`);
    await stop(1);
  }
}

/** A StatefulSet pod with `atoll.io/sticky: "true"`: deleted, then recreated on the other node with the same address. */
async function stickyDemo(cluster: RuntimeCluster): Promise<void> {
  const sticky = { 'atoll.io/sticky': 'true' };
  const set = await cluster.kube.createStatefulSet({ metadata: { name: 'db', namespace: 'default' }, spec: { replicas: 1, template: { metadata: { annotations: sticky } } } });
  const owner = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: set.metadata.uid, controller: true }];
  say('\nA StatefulSet pod with a sticky address (atoll.io/sticky: "true"):');
  const first = await cluster.runPod('node-1', { name: 'db-0', annotations: sticky, ownerReferences: owner });
  say(`  db-0      on node-1  ${first.ips.join(', ')}`);
  await cluster.deletePod(first);
  say('  db-0 deleted (sandbox stopped, pod object gone); the address stays with db/db/0');
  const second = await cluster.runPod('node-2', { name: 'db-0', annotations: sticky, ownerReferences: owner });
  const kept = second.ips.join(',') === first.ips.join(',');
  say(`  db-0      on node-2  ${second.ips.join(', ')}   ${kept ? '(recreated on the other node: same address)' : '(CHANGED: expected the same address)'}`);
  const show = await cluster.atollctl(['ipam', 'show', `--ip=${second.ips[0]!.split('/')[0]}`]);
  say(`\n$ atollctl ipam show --ip=${second.ips[0]!.split('/')[0]}\n${show.stdout.trimEnd()}`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`quickstart failed: ${(err as Error).message}\n`);
  process.exit(1);
});

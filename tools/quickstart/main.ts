// The local quickstart (`npm start`): a whole Atoll installation on this machine — etcd,
// the Kubernetes API stand-in, the allocator, a node agent — then a default pool, a few
// demo pods as network namespaces (one with a static address), their addresses and
// `atollctl ipam show`. Serves until Ctrl-C, then removes every process and namespace.
import net from 'node:net';
import { cleanupNetnsWithPrefix } from '../netns';
import { freePort } from '../etcd/launcher';
import { DemoCluster } from './demo-cluster';

const PREFIX = 'atoll-qs-';
const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
  blockSize: 26
  natOutgoing: true
  nodeSelector: all()
`;

const say = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the quickstart creates network namespaces: run it as root');
  await cleanupNetnsWithPrefix(PREFIX);
  const port = await freePort().then(async (p) => ((await isFree(7443)) ? 7443 : p));
  say('Starting etcd, the Kubernetes API stand-in, the allocator and a node agent…');
  const cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['demo-node'], allocatorPort: port });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('\nStopping: deleting the demo pods and namespaces, stopping every process…');
    await cluster.stop();
    say('Done.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  try {
    const applied = await cluster.atollctl(['apply', '-f', '-'], POOL);
    say(`$ atollctl apply -f pool.yaml\n${applied.stdout.trim() || applied.stderr.trim()}`);
    const pods = [
      { name: 'web-1' },
      { name: 'web-2' },
      { name: 'static-1', annotations: { 'cni.projectcalico.org/ipAddrs': '["192.168.0.1"]' } },
    ];
    say('\nPods (network namespaces attached by the bridge plugin with atoll-ipam):');
    for (const p of pods) {
      const out = await cluster.addPod({ node: 'demo-node', ...p });
      if (!out.ok) say(`  ${p.name.padEnd(10)} ADD failed: ${out.error?.msg}`);
      else say(`  ${p.name.padEnd(10)} ${(await cluster.podAddresses(out.pod!)).join(', ')}${p.annotations ? '   (asked for 192.168.0.1)' : ''}`);
    }
    const show = await cluster.atollctl(['ipam', 'show', '--show-blocks']);
    say(`\n$ atollctl ipam show --show-blocks\n${show.stdout.trimEnd()}`);
    say(`\nServing. In another shell: dist/bin/atollctl --allocator ${cluster.allocator.address} ipam show`);
    say('Press Ctrl-C to stop and clean up.');
  } catch (err) {
    process.stderr.write(`quickstart failed: ${(err as Error).message}\n`);
    await stop();
  }
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

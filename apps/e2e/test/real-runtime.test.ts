import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { CriError, RuntimeCluster, cleanupNetnsWithPrefix, listNetnsWithPrefix, testNamespace, type RuntimePod } from '@atoll/test-tools';

// Atoll on a real container runtime, as deploy/ sets up a node: containerd's CRI plugin
// creates pod sandboxes the way the kubelet asks for them and runs the CNI plugins that
// `atoll-node-agent --install-cni` installed (the single executable, with no Node.js on
// containerd's PATH); two nodes share one segment, each with its node agent routing
// host-gw; an "outside" host stands for the internet. Pods are created in the Kubernetes
// API stand-in first and their sandboxes carry the same name, namespace and UID.

const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const PREFIX = 'atoll-rt-';
const ROUTES_SETTLE = 25; // ping attempts (200 ms apart) while routes follow the allocator
const pool = (name: string, cidr: string, natOutgoing: boolean) => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 30, natOutgoing, nodeSelector: 'all()' } });
const STATIC = { 'cni.projectcalico.org/ipAddrs': '["10.244.7.7"]' };

describe('pods on containerd, on two nodes set up as deploy/ sets them up', () => {
  let cluster: RuntimeCluster;
  let client: AllocatorClients;
  let staticPod: RuntimePod;
  let podB: RuntimePod;

  const onNode = async (node: string, cmd: string, args: string[]) => {
    const r = await cluster.onNode(node, cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} on ${node}: ${r.stderr}`);
    return r.stdout;
  };
  const hostLinks = async (node: string) => (await onNode(node, 'ip', ['-o', 'link'])).split('\n').filter((l) => / atl[0-9a-f]{12}@/.test(l)).length;
  const allocated = async () => (await client.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations.map((a) => a.address).sort();

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    cluster = await RuntimeCluster.start({ prefix: PREFIX, nodes: 2, etcdEndpoints: endpoints, etcdNamespace: testNamespace(), dualStack: true });
    client = connectAllocator(cluster.allocator.address);
    await cluster.apply(pool('pods', '10.244.0.0/16', true));
    await cluster.apply({ ...pool('pods-v6', 'fd00:244::/64', true), spec: { ...pool('pods-v6', 'fd00:244::/64', true).spec, blockSize: 126 } });
    await cluster.apply({ ...pool('no-nat', '10.245.0.0/16', false), spec: { ...pool('no-nat', '10.245.0.0/16', false).spec, nodeSelector: '!all()' } });
  }, 90_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
    expect(listNetnsWithPrefix(PREFIX)).toEqual([]);
  }, 60_000);

  it('starts a pod asking for 10.244.7.7 (the how-to) with exactly that address as /32 and a default route', async () => {
    staticPod = await cluster.runPod('node-1', { name: 'static-1', annotations: STATIC });
    expect(staticPod.ips).toEqual(['10.244.7.7']);
    const routes = (await cluster.onNode('node-1', 'nsenter', [`--net=${staticPod.netnsPath}`, 'ip', '-4', 'route'])).stdout;
    expect(routes).toContain('default via 169.254.1.1 dev eth0');
    const addr = (await cluster.onNode('node-1', 'nsenter', [`--net=${staticPod.netnsPath}`, 'ip', '-4', 'addr', 'show', 'eth0'])).stdout;
    expect(addr).toContain('inet 10.244.7.7/32');
  });

  it('refuses a second pod asking for the same address with Calico\'s message, leaving no sandbox and nothing allocated', async () => {
    const before = await allocated();
    expect(before).toEqual(['10.244.7.7']);
    const links = await hostLinks('node-2');
    const err = await cluster.runPod('node-2', { name: 'static-2', annotations: STATIC }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriError);
    expect((err as Error).message).toContain('10.244.7.7');
    expect((err as Error).message).toContain('Address already assigned in block');
    expect((await cluster.node('node-2').containerd.cri.listPodSandbox()).filter((s) => s.name === 'static-2')).toEqual([]);
    expect(await allocated()).toEqual(before);
    expect(await hostLinks('node-2')).toBe(links);
  });

  it('refuses an address outside every pool, leaving no sandbox and nothing allocated', async () => {
    const before = await allocated();
    expect(before).toContain('10.244.7.7');
    const err = await cluster.runPod('node-2', { name: 'outside-pools', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.99.0.1"]' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriError);
    expect((err as Error).message).toMatch(/10\.99\.0\.1/);
    expect((await cluster.node('node-2').containerd.cri.listPodSandbox()).filter((s) => s.name === 'outside-pools')).toEqual([]);
    expect(await allocated()).toEqual(before);
  });

  it('lets pods on two nodes reach each other both ways, the static one included', async () => {
    podB = await cluster.runPod('node-2', { name: 'web-b' });
    expect(podB.ips[0]).toMatch(/^10\.244\./);
    expect(await cluster.ping(podB, '10.244.7.7', { attempts: ROUTES_SETTLE })).toBe(true);
    expect(await cluster.ping(staticPod, podB.ips[0]!, { attempts: ROUTES_SETTLE })).toBe(true);
  });

  it('gives pods an IPv6 address too, and pods on two nodes, the nodes and the outside (masqueraded) are reached over IPv6', async () => {
    expect(podB.ips[1]).toMatch(/^fd00:244::/);
    const dual = await cluster.runPod('node-1', { name: 'dual-a' });
    expect(dual.ips).toEqual([expect.stringMatching(/^10\.244\./), expect.stringMatching(/^fd00:244::/)]);
    expect(await cluster.ping(dual, podB.ips[1]!, { attempts: ROUTES_SETTLE })).toBe(true);
    expect(await cluster.ping(podB, dual.ips[1]!, { attempts: ROUTES_SETTLE })).toBe(true);
    expect(await cluster.ping(dual, cluster.node('node-1').host.ipv6)).toBe(true);
    expect(await cluster.ping(dual, cluster.node('node-2').host.ipv6, { attempts: ROUTES_SETTLE })).toBe(true);
    expect(await cluster.ping(dual, 'fd00:30::1', { attempts: ROUTES_SETTLE })).toBe(true);
    await cluster.deletePod(dual);
  });

  it('lets a pod reach its own node and the other node', async () => {
    expect(await cluster.ping(staticPod, cluster.node('node-1').host.ipv4)).toBe(true);
    expect(await cluster.ping(staticPod, cluster.node('node-2').host.ipv4, { attempts: ROUTES_SETTLE })).toBe(true);
  });

  it('routes a borrowed address (in node-1\'s block, used on node-2) to node-2 from node-1', async () => {
    // 10.244.7.7's block, 10.244.7.4/30, was claimed for node-1 by the static pod.
    const borrowed = await cluster.runPod('node-2', { name: 'borrower', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.244.7.5"]' } });
    expect(borrowed.ips).toEqual(['10.244.7.5']);
    expect(await cluster.ping(staticPod, '10.244.7.5', { attempts: ROUTES_SETTLE })).toBe(true);
    expect(await onNode('node-1', 'ip', ['route', 'show', '10.244.7.5'])).toContain('via 172.30.0.12');
    await cluster.deletePod(borrowed);
  });

  it('routes addresses of blocks claimed later', async () => {
    // Blocks of 4 addresses: node-2's fifth pod has a block claimed after the first.
    const pods: RuntimePod[] = [];
    for (let i = 0; i < 4; i++) pods.push(await cluster.runPod('node-2', { name: `later-${i}` }));
    const blocks = new Set([podB, ...pods].map((p) => p.ips[0]!.split('.').slice(0, 3).join('.') + '.' + (Number(p.ips[0]!.split('.')[3]) & ~3)));
    expect(blocks.size).toBeGreaterThan(1);
    for (const p of pods) expect(await cluster.ping(staticPod, p.ips[0]!, { attempts: ROUTES_SETTLE })).toBe(true);
    for (const p of pods) await cluster.deletePod(p);
  });

  it('serves a static address from a pool kept for manual use (nodeSelector !all()), reachable from the other node', async () => {
    const manual = await cluster.runPod('node-2', { name: 'manual', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.245.0.10"]' } });
    expect(manual.ips).toEqual(['10.245.0.10']);
    expect(await cluster.ping(staticPod, '10.245.0.10', { attempts: ROUTES_SETTLE })).toBe(true);
    await cluster.deletePod(manual);
  });

  it('reaches the outside through masquerade for a natOutgoing pool, and not from a pool without it', async () => {
    expect(await cluster.ping(staticPod, '172.30.0.1', { attempts: ROUTES_SETTLE })).toBe(true);
    const plain = await cluster.runPod('node-1', { name: 'no-nat', annotations: { 'cni.projectcalico.org/ipv4pools': '["no-nat"]' } });
    expect(plain.ips[0]).toMatch(/^10\.245\./);
    // The outside host has no route back to pod addresses: only a masqueraded ping returns.
    expect(await cluster.ping(plain, '172.30.0.1', { attempts: 2 })).toBe(false);
    expect(await cluster.ping(plain, cluster.node('node-1').host.ipv4)).toBe(true);
    await cluster.deletePod(plain);
  });

  it('reaches a Service address that the node translates, as kube-proxy does, to a pod on the other node', async () => {
    await onNode('node-1', 'iptables', ['-t', 'nat', '-A', 'PREROUTING', '-d', '10.96.0.10/32', '-j', 'DNAT', '--to-destination', podB.ips[0]!]);
    expect(await cluster.ping(staticPod, '10.96.0.10', { attempts: ROUTES_SETTLE })).toBe(true);
  });

  it('answers "try again later" while the node agent is down, and once it is back the runtime\'s Stop and Remove leave nothing behind', async () => {
    const node = cluster.node('node-1');
    const links = await hostLinks('node-1');
    const before = await allocated();
    await node.stopAgent('SIGKILL');
    try {
      const err = await cluster.runPod('node-1', { name: 'agent-down' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CriError);
      expect((err as Error).message).toContain('try again later: atoll-node-agent is not answering');
    } finally {
      await node.startAgent();
    }
    // containerd keeps a sandbox whose DEL failed (the agent was down too); the kubelet's
    // Stop and Remove of it now succeed.
    for (const s of (await node.containerd.cri.listPodSandbox()).filter((x) => x.name === 'agent-down')) {
      await node.containerd.cri.stopPodSandbox(s.id);
      await node.containerd.cri.removePodSandbox(s.id);
    }
    expect((await node.containerd.cri.listPodSandbox()).filter((x) => x.name === 'agent-down')).toEqual([]);
    expect(await hostLinks('node-1')).toBe(links);
    expect(await allocated()).toEqual(before);
    // and the node serves again
    const again = await cluster.runPod('node-1', { name: 'agent-back' });
    expect(await cluster.ping(again, podB.ips[0]!, { attempts: ROUTES_SETTLE })).toBe(true);
    await cluster.deletePod(again);
  });

  it('starts and stops 16 pods at once across both nodes, each reachable, and leaves no veth, route or address behind', async () => {
    const links = { 'node-1': await hostLinks('node-1'), 'node-2': await hostLinks('node-2') };
    const before = await allocated();
    const pods = await Promise.all(Array.from({ length: 16 }, (_, i) => cluster.runPod(i % 2 ? 'node-2' : 'node-1', { name: `burst-${i}` })));
    const ips = pods.map((p) => p.ips[0]!);
    expect(new Set(ips).size).toBe(16);
    for (const p of pods) expect(await cluster.ping(staticPod, p.ips[0]!, { attempts: ROUTES_SETTLE })).toBe(true);
    await Promise.all(pods.map((p) => cluster.deletePod(p)));
    expect({ 'node-1': await hostLinks('node-1'), 'node-2': await hostLinks('node-2') }).toEqual(links);
    for (const node of ['node-1', 'node-2']) {
      const table = (await onNode(node, 'ip', ['-o', 'route'])).split('\n');
      expect(table.filter((line) => ips.some((ip) => line.startsWith(`${ip} dev atl`)))).toEqual([]);
    }
    expect(await allocated()).toEqual(before);
  });

  it('removes on Stop (DEL with prevResult) the veth, the routes and the address; a second Stop and Remove (DEL with no namespace) succeed and leave nothing', async () => {
    const pod = await cluster.runPod('node-1', { name: 'short-lived' });
    const ip = pod.ips[0]!;
    const links = await hostLinks('node-1');
    expect(await allocated()).toContain(ip);
    await pod.node.containerd.cri.stopPodSandbox(pod.id);
    expect(await hostLinks('node-1')).toBe(links - 1);
    expect(await onNode('node-1', 'ip', ['route', 'show', ip])).toBe('');
    expect(await allocated()).not.toContain(ip);
    await cluster.deletePod(pod, { stops: 1 });
    expect(await hostLinks('node-1')).toBe(links - 1);
    expect((await cluster.node('node-1').containerd.cri.listPodSandbox()).filter((s) => s.name === 'short-lived')).toEqual([]);
  });
});

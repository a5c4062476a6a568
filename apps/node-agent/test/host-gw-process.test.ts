import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import {
  binPath,
  cleanupNetnsWithPrefix,
  createNetns,
  startAllocatorProcess,
  startProcess,
  testNamespace,
  uniqueNetnsName,
  type AllocatorProcess,
  type ManagedProcess,
  type Netns,
} from '@atoll/test-tools';

// Two nodes as two network namespaces on one segment (a veth pair, 172.30.0.0/24), each with
// an agent started inside it (nsenter) with --routing=host-gw, and one allocator on a unix
// socket in the machine's namespace. Every route and iptables change happens inside the
// namespaces this test creates.

const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const RUN_PREFIX = uniqueNetnsName('atgw-');
const POOL = '10.244.0.0/16';

const resource = (kind: string, name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec });

async function sh(ns: Netns, cmd: string, args: string[]): Promise<string> {
  const r = await ns.exec(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns.name}: ${r.stderr}`);
  return r.stdout;
}

/** The namespace's routes of protocol 197 as `dst via gw` / `blackhole dst`, sorted. */
async function agentRoutes(ns: Netns): Promise<string[]> {
  const list = JSON.parse((await sh(ns, 'ip', ['-j', 'route', 'show', 'table', 'main', 'proto', '197'])) || '[]') as { type?: string; dst: string; gateway?: string }[];
  return list.map((r) => (r.type === 'blackhole' ? `blackhole ${r.dst}` : `${r.dst} via ${r.gateway}`)).sort();
}

async function eventually<T>(what: string, read: () => Promise<T>, expected: T, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | string | undefined;
  for (;;) {
    // a read that fails (e.g. the Node not registered yet) is "not yet"
    last = await read().catch((err: Error) => `error: ${err.message}`);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) throw new Error(`${what}: expected ${JSON.stringify(expected)}, still ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const canConnect = (socket: string) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

describe('host-gw routing between two agents in their own network namespaces', () => {
  let dir: string;
  let nodes: { a: Netns; b: Netns };
  let allocator: AllocatorProcess;
  let etcdNamespace: string;
  let admin: AllocatorClients;
  const agents: ManagedProcess[] = [];

  const startAgent = async (name: string, ns: Netns, nodeIp: string) => {
    const socket = path.join(dir, `${name}.sock`);
    const args = [`--net=${ns.path}`, binPath('atoll-node-agent'), '--node-name', name, '--allocator', `unix:${dir}/run/allocator.sock`, '--socket', socket, '--labels', `zone=${name}`, '--node-ip', nodeIp, '--routing', 'host-gw', '--route-resync-seconds', '1', '--log-level', 'info'];
    const agent = startProcess('nsenter', args);
    agents.push(agent);
    const deadline = Date.now() + 15_000;
    while (!(await canConnect(socket))) {
      if (agent.child.exitCode !== null || Date.now() > deadline) throw new Error(`agent ${name} did not start: ${agent.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return agent;
  };

  const assign = async (node: string, handleId: string) => {
    const r = await admin.ipam.autoAssign({ num4: 1, num6: 0, handleId, attributes: { node }, hostname: node, ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: IntendedUse.INTENDED_USE_WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    const ip = r.ipv4!.ips[0]!.split('/')[0]!;
    return { ip, block: (await admin.ipam.getAssignmentAttributes({ ip })).block };
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-hostgw-'));
    nodes = { a: await createNetns(`${RUN_PREFIX}-a`), b: await createNetns(`${RUN_PREFIX}-b`) };
    await sh(nodes.a, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nodes.b.name]);
    for (const [ns, address] of [[nodes.a, '172.30.0.1/24'], [nodes.b, '172.30.0.2/24']] as const) {
      await sh(ns, 'ip', ['addr', 'add', address, 'dev', 'eth0']);
      await sh(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    }
    etcdNamespace = testNamespace();
    allocator = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: etcdNamespace, listen: `unix:${dir}/run/allocator.sock` });
    admin = connectAllocator(allocator.address);
    await admin.resources.apply({ resourceJson: resource('IPPool', 'pods', { cidr: POOL, blockSize: 26, natOutgoing: true }) });
    await Promise.all([startAgent('node-a', nodes.a, '172.30.0.1/24'), startAgent('node-b', nodes.b, '172.30.0.2/24')]);
  }, 60_000);

  afterAll(async () => {
    admin?.close();
    await Promise.all(agents.map((a) => a.stop('SIGTERM')));
    await allocator?.stop('SIGTERM');
    await nodes?.a.delete();
    await nodes?.b.delete();
    await cleanupNetnsWithPrefix(RUN_PREFIX);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("routes each node's block to the other through its address, blackholes its own, follows borrowing and releases", async () => {
    // each agent wrote its --node-ip into its Calico Node
    for (const [name, ipv4Address] of [['node-a', '172.30.0.1/24'], ['node-b', '172.30.0.2/24']]) {
      await eventually(`${name}'s address on its Node`, async () => JSON.parse((await admin.resources.get({ kind: 'Node', name: name! })).resourceJson).spec.bgp, { ipv4Address });
    }

    const a = await assign('node-a', 'k8s-pod-network.a1');
    const b = await assign('node-b', 'k8s-pod-network.b1');
    expect(a.block).not.toBe(b.block);
    await eventually('node-a\'s routes', () => agentRoutes(nodes.a), [`${b.block} via 172.30.0.2`, `blackhole ${a.block}`].sort());
    await eventually('node-b\'s routes', () => agentRoutes(nodes.b), [`${a.block} via 172.30.0.1`, `blackhole ${b.block}`].sort());
    // packets take them: node-b's address (on its loopback, standing in for a pod) answers node-a
    await sh(nodes.b, 'ip', ['addr', 'add', `${b.ip}/32`, 'dev', 'lo']);
    expect((await nodes.a.exec('ping', ['-c', '1', '-W', '2', b.ip])).code).toBe(0);
    // an unused address of node-b's block goes no further than node-b: its blackhole
    const unused = b.ip.replace(/\d+$/, (d) => String(Number(d) + 20));
    expect((await nodes.a.exec('ping', ['-c', '1', '-W', '1', unused])).code).not.toBe(0);
    expect((await nodes.b.exec('ip', ['route', 'get', unused])).stderr).toMatch(/No route to host|Invalid argument/);

    // node-b borrows an address from node-a's block: node-a routes that one address to node-b
    const borrowedIp = a.ip.replace(/\d+$/, (d) => String(Number(d) + 10));
    await admin.ipam.assignIp({ ip: borrowedIp, handleId: 'k8s-pod-network.b2', attributes: { node: 'node-b' }, hostname: 'node-b', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
    await eventually('the borrowed address on node-a', () => agentRoutes(nodes.a), [`${b.block} via 172.30.0.2`, `${borrowedIp} via 172.30.0.2`, `blackhole ${a.block}`].sort());
    expect(await agentRoutes(nodes.b)).toEqual([`${a.block} via 172.30.0.1`, `blackhole ${b.block}`].sort());

    // a route deleted by hand comes back at the next resync (1 s here)
    await sh(nodes.a, 'ip', ['route', 'del', b.block]);
    await eventually('the deleted route back', async () => (await agentRoutes(nodes.a)).includes(`${b.block} via 172.30.0.2`), true, 5000);

    // node-b's block released: its route and its blackhole go; the borrowed address stays routed
    await admin.ipam.releaseByHandle({ handleId: 'k8s-pod-network.b1' });
    await admin.ipam.releaseAffinity({ cidr: b.block, host: 'node-b', mustBeEmpty: true });
    await eventually('node-a without node-b\'s block', () => agentRoutes(nodes.a), [`${borrowedIp} via 172.30.0.2`, `blackhole ${a.block}`].sort());
    await eventually('node-b without its blackhole', () => agentRoutes(nodes.b), [`${a.block} via 172.30.0.1`]);
    await admin.ipam.releaseByHandle({ handleId: 'k8s-pod-network.b2' });
    await eventually('node-a without the borrowed address', () => agentRoutes(nodes.a), [`blackhole ${a.block}`]);
  });

  it('keeps following the allocator across its restart (the stream ends cleanly, the agents subscribe again)', async () => {
    const before = await agentRoutes(nodes.a);
    expect(await allocator.stop('SIGTERM')).toBe(0);
    allocator = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: etcdNamespace, listen: `unix:${dir}/run/allocator.sock` });
    expect(await agentRoutes(nodes.a)).toEqual(before);
    const b = await assign('node-b', 'k8s-pod-network.b3');
    await eventually('node-b\'s new block on node-a', async () => (await agentRoutes(nodes.a)).includes(`${b.block} via 172.30.0.2`), true);
  });

  it('masquerades traffic from the natOutgoing pool leaving the pools, and forwards', async () => {
    for (const ns of [nodes.a, nodes.b]) {
      await eventually(`the NAT chain in ${ns.name}`, async () => (await sh(ns, 'iptables', ['-t', 'nat', '-S'])).split('\n').filter((l) => l.includes('ATOLL-NAT-OUTGOING')), [
        '-N ATOLL-NAT-OUTGOING',
        '-A POSTROUTING -m comment --comment "atoll: NAT for natOutgoing pools" -j ATOLL-NAT-OUTGOING',
        `-A ATOLL-NAT-OUTGOING -d ${POOL} -j RETURN`,
        `-A ATOLL-NAT-OUTGOING -s ${POOL} -j MASQUERADE`,
      ]);
      expect((await sh(ns, 'cat', ['/proc/sys/net/ipv4/ip_forward'])).trim()).toBe('1');
    }
    // the pool without NAT: both agents remove their chain and its jump
    await admin.resources.apply({ resourceJson: resource('IPPool', 'pods', { cidr: POOL, blockSize: 26, natOutgoing: false }) });
    await eventually('no NAT chain on node-a', async () => (await sh(nodes.a, 'iptables', ['-t', 'nat', '-S'])).includes('ATOLL-NAT-OUTGOING'), false);
  });

  it('stops cleanly and leaves the routes in place', async () => {
    const before = await agentRoutes(nodes.a);
    expect(before.length).toBeGreaterThan(0);
    expect(await agents[0]!.stop('SIGTERM')).toBe(0);
    expect(await agentRoutes(nodes.a)).toEqual(before);
    expect(agents[0]!.output()).toContain('host-gw routing on');
  });
});

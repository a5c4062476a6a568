import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { agentRequest, binPath, startAgentProcess, startAllocatorProcess, startProcess, testNamespace, type AgentProcess, type AllocatorProcess } from '@atoll/test-tools';

// The node agent as a process, with the allocator process and the real etcd, driven over
// its unix socket exactly as the CNI plugin drives it.
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);

const resource = (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>) =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(labels && { labels }) }, spec });

const netconf = (extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'bridge', ipam: { type: 'atoll-ipam', ...extra } });
const cni = (command: string, containerId: string, extra: Record<string, string> = {}) => ({
  command,
  containerId,
  ifname: 'eth0',
  netns: '/var/run/netns/none',
  args: '',
  networkConfig: netconf(),
  ...extra,
});

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the node agent process', () => {
  let allocator: AllocatorProcess;
  let client: AllocatorClients;
  let agent: AgentProcess;
  let dir: string;

  beforeAll(async () => {
    allocator = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: testNamespace() });
    client = connectAllocator(allocator.address);
    await client.resources.apply({ resourceJson: resource('IPPool', 'pods', { cidr: '10.20.0.0/24', allowedUses: ['Workload'], vxlanMode: 'Always' }) });
    await client.resources.apply({ resourceJson: resource('IPPool', 'tunnels', { cidr: '10.30.0.0/24', allowedUses: ['Tunnel'], vxlanMode: 'Always' }) });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-agent-'));
    agent = await startAgentProcess({ nodeName: 'node-1', allocator: allocator.address, socket: path.join(dir, 'run/agent.sock'), labels: 'zone=a,role=worker' });
  });

  afterAll(async () => {
    await agent?.stop('SIGTERM');
    client?.close();
    await allocator?.stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates its socket 0600 in a directory only root can enter', () => {
    expect(fs.statSync(agent.socket).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(agent.socket)).mode & 0o077).toBe(0);
  });

  it('registers its Node with the labels it was given', async () => {
    const node = await eventually(() => client.resources.get({ kind: 'Node', name: 'node-1' }).then((r) => JSON.parse(r.resourceJson), () => undefined), (n) => n !== undefined);
    expect(node.metadata.labels).toEqual({ zone: 'a', role: 'worker' });
  });

  it('gives the node a tunnel address from the Tunnel-only pool, never the Workload-only one', async () => {
    const node = await eventually(
      () => client.resources.get({ kind: 'Node', name: 'node-1' }).then((r) => JSON.parse(r.resourceJson)),
      (n) => Boolean(n.spec?.ipv4VXLANTunnelAddr),
    );
    expect(node.spec.ipv4VXLANTunnelAddr).toMatch(/^10\.30\.0\./);
    expect((await client.ipam.ipsByHandle({ handleId: 'vxlan-tunnel-addr-node-1' })).ips).toEqual([node.spec.ipv4VXLANTunnelAddr]);
  });

  it('serves ADD, CHECK and DEL for a pod and answers DEL twice', async () => {
    const add = await agentRequest(agent.socket, cni('ADD', 'c1'));
    expect(add.error).toBeUndefined();
    const result = JSON.parse(add.result!);
    expect(result.ips[0].address).toMatch(/^10\.20\.0\.\d+\/26$/);
    const check = await agentRequest(agent.socket, cni('CHECK', 'c1', { networkConfig: JSON.stringify({ ...JSON.parse(netconf()), prevResult: result }) }));
    expect(check).toEqual({ result: '' });
    expect(await agentRequest(agent.socket, cni('DEL', 'c1'))).toEqual({ result: '' });
    expect(await agentRequest(agent.socket, cni('DEL', 'c1'))).toEqual({ result: '' });
    await expect(client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.c1' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('assigns a specific address from IP= in CNI_ARGS and refuses it a second time', async () => {
    const first = await agentRequest(agent.socket, cni('ADD', 's1', { args: 'IgnoreUnknown=1;IP=10.20.0.200' }));
    expect(JSON.parse(first.result!).ips).toEqual([{ address: '10.20.0.200/32' }]);
    const second = await agentRequest(agent.socket, cni('ADD', 's2', { args: 'IgnoreUnknown=1;IP=10.20.0.200' }));
    expect(second.error).toMatchObject({ code: 100, msg: 'error getting IP from IPAM: resource already exists: 10.20.0.200 with error: Address already assigned in block' });
    const outside = await agentRequest(agent.socket, cni('ADD', 's3', { args: 'IgnoreUnknown=1;IP=172.31.0.1' }));
    expect(outside.error).toMatchObject({ code: 101 });
    expect(outside.error!.msg).toContain('The provided IP address is not in a configured pool');
    await expect(client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.s3' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('garbage-collects attachments the runtime no longer has (CNI 1.1 GC)', async () => {
    await agentRequest(agent.socket, cni('ADD', 'gc-keep'));
    await agentRequest(agent.socket, cni('ADD', 'gc-drop'));
    const gc = await agentRequest(agent.socket, {
      ...cni('GC', ''),
      networkConfig: JSON.stringify({ ...JSON.parse(netconf()), cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'gc-keep', ifname: 'eth0' }, { containerID: 's1', ifname: 'eth0' }] }),
    });
    expect(gc).toEqual({ result: '' });
    await expect(client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.gc-drop' })).rejects.toMatchObject({ code: 'not-found' });
    expect((await client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.gc-keep' })).ips).toHaveLength(1);
  });

  it('refuses an oversized request and a malformed one without blocking a normal one', async () => {
    const slow = net.connect(agent.socket); // says nothing: must not hold anyone up
    const big = await agentRequest(agent.socket, `{"command":"ADD","networkConfig":"${'x'.repeat(1100 * 1024)}`);
    expect(big.error).toMatchObject({ code: 6 });
    expect((await agentRequest(agent.socket, 'not json\n')).error).toMatchObject({ code: 6 });
    expect((await agentRequest(agent.socket, cni('STATUS', ''))).error).toBeUndefined();
    slow.destroy();
  });

  it('reports STATUS ready and exports CNI latency metrics', async () => {
    expect(await agentRequest(agent.socket, cni('STATUS', ''))).toEqual({ result: '' });
    const text = await (await fetch(`${agent.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/atoll_node_agent_cni_duration_seconds_count\{command="ADD",result="ok"\} \d+/);
    expect(text).toMatch(/atoll_node_agent_cni_duration_seconds_count\{command="ADD",result="100"\} 1/);
    expect((await fetch(`${agent.metricsUrl}/readyz`)).status).toBe(200);
  });
});

describe('--install-cni', () => {
  it('copies the plugin under both names and writes an atoll + atoll-ipam configuration list', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-install-'));
    const plugin = path.join(dir, 'atoll-ipam-src');
    fs.writeFileSync(plugin, '#!/bin/sh\necho plugin\n');
    const p = startProcess(binPath('atoll-node-agent'), ['--install-cni', '--cni-bin-dir', path.join(dir, 'bin'), '--cni-conf-dir', path.join(dir, 'net.d'), '--cni-plugin-path', plugin, '--socket', '/run/atoll/agent.sock']);
    expect(await p.exited).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'bin/atoll-ipam'), 'utf8')).toContain('echo plugin');
    expect(fs.statSync(path.join(dir, 'bin/atoll-ipam')).mode & 0o111).toBeTruthy();
    expect(fs.readlinkSync(path.join(dir, 'bin/atoll'))).toBe('atoll-ipam');
    expect(fs.readFileSync(path.join(dir, 'bin/atoll'), 'utf8')).toContain('echo plugin');
    const conf = JSON.parse(fs.readFileSync(path.join(dir, 'net.d/10-atoll.conflist'), 'utf8'));
    expect(conf).toEqual({ cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [{ type: 'atoll', mtu: 1500, ipam: { type: 'atoll-ipam', agent_socket: '/run/atoll/agent.sock' } }] });
    expect(fs.readdirSync(path.join(dir, 'net.d'))).toEqual(['10-atoll.conflist']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes the pods\' MTU from --cni-mtu and dual stack from --cni-assign-ipv6, and refuses an MTU out of range', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-install-'));
    const plugin = path.join(dir, 'atoll-ipam-src');
    fs.writeFileSync(plugin, '#!/bin/sh\n');
    const args = ['--install-cni', '--cni-bin-dir', path.join(dir, 'bin'), '--cni-conf-dir', path.join(dir, 'net.d'), '--cni-plugin-path', plugin];
    expect(await startProcess(binPath('atoll-node-agent'), [...args, '--cni-mtu', '1450']).exited).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'net.d/10-atoll.conflist'), 'utf8')).plugins[0].mtu).toBe(1450);
    expect(await startProcess(binPath('atoll-node-agent'), [...args, '--cni-assign-ipv6', 'true']).exited).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'net.d/10-atoll.conflist'), 'utf8')).plugins[0].ipam).toEqual({ type: 'atoll-ipam', agent_socket: '/run/atoll/agent.sock', assign_ipv6: 'true' });
    const bad = startProcess(binPath('atoll-node-agent'), [...args, '--cni-mtu', '40']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--cni-mtu: expected a whole number from 68 to 65535, got "40"');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails with a clear line when the plugin binary is missing', async () => {
    const p = startProcess(binPath('atoll-node-agent'), ['--install-cni', '--cni-plugin-path', '/nonexistent/atoll-ipam', '--cni-bin-dir', os.tmpdir()]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('--cni-plugin-path: /nonexistent/atoll-ipam does not exist');
  });
});

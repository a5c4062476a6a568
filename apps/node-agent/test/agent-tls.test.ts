import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { channelCredentialsFromFiles, connectAllocator, type AllocatorClients } from '@atoll/api';
import { agentRequest, createTestPki, startAgentProcess, startAllocatorProcess, testNamespace, type AgentProcess, type AllocatorProcess, type TestPki } from '@atoll/test-tools';

// The node agent talking mTLS to the allocator with its node certificate, as deployed:
// the kubelet's client certificate and key in one file for both flags.
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);

const resource = (kind: string, name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec });
const cni = (command: string, containerId: string) => ({
  command,
  containerId,
  ifname: 'eth0',
  netns: '/var/run/netns/none',
  args: '',
  networkConfig: JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'bridge', ipam: { type: 'atoll-ipam' } }),
});

describe('the node agent over mTLS', () => {
  let pki: TestPki;
  let allocator: AllocatorProcess;
  let admin: AllocatorClients;
  let dir: string;
  const agents: AgentProcess[] = [];

  /** The node's certificate and key in one PEM file, like kubelet-client-current.pem. */
  const combined = (nodeName: string) => {
    const pair = pki.nodes[nodeName]!;
    const file = path.join(dir, `${nodeName}-client.pem`);
    fs.writeFileSync(file, Buffer.concat([fs.readFileSync(pair.cert), fs.readFileSync(pair.key)]), { mode: 0o600 });
    return file;
  };
  const startAgent = async (nodeName: string, certNode: string) => {
    const pem = combined(certNode);
    const agent = await startAgentProcess({
      nodeName,
      allocator: allocator.address,
      socket: path.join(dir, `${nodeName}/agent.sock`),
      labels: 'zone=a',
      extraArgs: ['--log-level', 'info', '--allocator-ca-file', pki.ca.cert, '--tls-cert-file', pem, '--tls-key-file', pem],
    });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    pki = createTestPki({ nodes: ['node-a', 'node-b'] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-agent-tls-'));
    const adminFiles = { ca: { flag: '--allocator-ca-file', path: pki.ca.cert }, cert: { flag: '--cert-file', path: pki.admin.cert }, key: { flag: '--key-file', path: pki.admin.key } };
    allocator = await startAllocatorProcess({
      etcdEndpoints: endpoints,
      namespace: testNamespace(),
      extraArgs: ['--tls-cert-file', pki.server.cert, '--tls-key-file', pki.server.key, '--tls-client-ca-file', pki.ca.cert],
      credentials: channelCredentialsFromFiles(adminFiles),
    });
    admin = connectAllocator(allocator.address, { credentials: channelCredentialsFromFiles(adminFiles) });
    await admin.resources.apply({ resourceJson: resource('IPPool', 'pods', { cidr: '10.40.0.0/24' }) });
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) await a.stop('SIGTERM');
    admin?.close();
    await allocator?.stop('SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    pki?.remove();
  });

  it('registers its Node and serves ADD and DEL through its socket', async () => {
    const agent = await startAgent('node-a', 'node-a');
    let registered = false;
    for (let i = 0; i < 100 && !registered; i++) {
      registered = await admin.resources.get({ kind: 'Node', name: 'node-a' }).then(() => true, () => false);
      if (!registered) await new Promise((r) => setTimeout(r, 100));
    }
    expect(registered).toBe(true);
    const add = await agentRequest(agent.socket, cni('ADD', 'tls1'));
    expect(add.error).toBeUndefined();
    const ip = JSON.parse(add.result!).ips[0].address.split('/')[0];
    expect(ip).toMatch(/^10\.40\.0\.\d+$/);
    expect((await admin.ipam.getAssignmentAttributes({ ip })).attributes).toMatchObject({ node: 'node-a' });
    expect((await agentRequest(agent.socket, cni('DEL', 'tls1'))).error).toBeUndefined();
    await expect(admin.ipam.ipsByHandle({ handleId: 'k8s-pod-network.tls1' })).rejects.toMatchObject({ code: 'not-found' });
    expect(agent.output()).not.toContain('PRIVATE KEY');
    expect(agent.output()).not.toContain('BEGIN CERTIFICATE');
  });

  it("cannot allocate for a node whose name is not the one in its certificate", async () => {
    await admin.resources.apply({ resourceJson: resource('Node', 'node-c', {}) });
    const agent = await startAgent('node-c', 'node-b');
    const add = await agentRequest(agent.socket, cni('ADD', 'tls2'));
    expect(add.error?.msg).toBe('failed to assign an IP address: node node-b may not assign addresses for node node-c');
    await expect(admin.ipam.ipsByHandle({ handleId: 'k8s-pod-network.tls2' })).rejects.toMatchObject({ code: 'not-found' });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { startAgentProcess, startAllocatorProcess, startKubeApiStandIn, testNamespace, type AgentProcess, type AllocatorProcess, type KubeApiStandIn } from '@atoll/test-tools';

// The agent records this node's address on its Calico Node (spec.bgp), where other nodes'
// agents learn it: --node-ip when given, else the Kubernetes Node's InternalIP(s). Routing
// stays off here (the agents run in the machine's own namespace).
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);

describe("the agent recording this node's address", () => {
  let dir: string;
  let allocator: AllocatorProcess;
  let client: AllocatorClients;
  let kube: KubeApiStandIn;
  const agents: AgentProcess[] = [];

  const bgpOf = async (name: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const bgp = await client.resources.get({ kind: 'Node', name }).then((r) => JSON.parse(r.resourceJson).spec.bgp as unknown, () => undefined);
      if (bgp !== undefined || Date.now() > deadline) return bgp;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-node-ip-'));
    allocator = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: testNamespace() });
    client = connectAllocator(allocator.address);
    kube = await startKubeApiStandIn();
  });
  afterAll(async () => {
    client?.close();
    await Promise.all(agents.map((a) => a.stop('SIGTERM')));
    await allocator?.stop('SIGTERM');
    await kube?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("takes the Kubernetes Node's first InternalIP of each family", async () => {
    await kube.createNode({
      metadata: { name: 'node-k' },
      status: {
        addresses: [
          { type: 'Hostname', address: 'node-k' },
          { type: 'ExternalIP', address: '203.0.113.5' },
          { type: 'InternalIP', address: '10.1.0.5' },
          { type: 'InternalIP', address: 'fd10::5' },
          { type: 'InternalIP', address: '10.1.0.6' },
        ],
      },
    });
    agents.push(await startAgentProcess({ nodeName: 'node-k', allocator: allocator.address, socket: path.join(dir, 'k.sock'), kubeconfig: kube.kubeconfigPath }));
    expect(await bgpOf('node-k')).toEqual({ ipv4Address: '10.1.0.5', ipv6Address: 'fd10::5' });
  });

  it('prefers --node-ip, prefix length included', async () => {
    agents.push(await startAgentProcess({ nodeName: 'node-f', allocator: allocator.address, socket: path.join(dir, 'f.sock'), labels: 'zone=f', extraArgs: ['--node-ip', '172.30.0.11/24'] }));
    expect(await bgpOf('node-f')).toEqual({ ipv4Address: '172.30.0.11/24' });
  });
});

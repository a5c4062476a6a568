import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { DemoCluster } from '@atoll/test-tools';

// Hand-off of a requested address (ipAddrs) through the built binaries: the atoll-ipam
// plugin, two node agents, the allocator, etcd and the Kubernetes API stand-in. Who holds
// the address decides: the same pod under a new sandbox takes it at once; an earlier pod of
// the same name that is terminating makes the runtime try again; a pod gone from the API
// gives it up after --static-handoff-grace; any other live pod keeps it.
const PREFIX = 'atoll-handoff-';
const GRACE_MS = 3000;
const ipAddrs = (...ips: string[]) => ({ 'cni.projectcalico.org/ipAddrs': JSON.stringify(ips) });
const addresses = (r: { json?: unknown }) => ((r.json as { ips?: { address: string }[] }).ips ?? []).map((i) => i.address);

describe('hand-off of a requested address', () => {
  let cluster: DemoCluster;
  let client: AllocatorClients;

  const createPod = async (name: string, node: string, annotations: Record<string, string>, namespace = 'default') =>
    (await cluster.kube.createPod({ metadata: { name, namespace, annotations }, spec: { nodeName: node, containers: [{ name: 'c', image: 'none' }] } })).metadata.uid!;
  const holderOf = async (ip: string) => (await client.staticIps.getHolder({ ip })).handleId;
  const handOffs = async (reason: string) => {
    const text = await (await fetch(`${cluster.allocator.metricsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`atoll_static_handoffs_total{reason="${reason}"}`));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  beforeAll(async () => {
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1', 'node-2'], agentArgs: ['--static-handoff-grace', `${GRACE_MS / 1000}s`, '--log-level', 'info'] });
    client = connectAllocator(cluster.allocator.address);
    const pool = (name: string, cidr: string) => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  blockSize: ${cidr.includes(':') ? 122 : 26}\n`;
    expect(await cluster.atollctl(['apply', '-f', '-'], pool('v4', '10.77.0.0/16'))).toMatchObject({ code: 0 });
    expect(await cluster.atollctl(['apply', '-f', '-'], pool('v6', 'fd77::/112'))).toMatchObject({ code: 0 });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('moves the address of a pod whose sandbox was never torn down (node crash) to its new sandbox at once, both families, leaving nothing behind', async () => {
    const uid = await createPod('db-0', 'node-1', ipAddrs('10.77.0.5', 'fd77::5'), 'default');
    const before = await handOffs('same-pod');
    const first = await cluster.ipamOnly({ node: 'node-1', name: 'db-0', containerId: 'crash-old', podUid: uid });
    expect(addresses(first)).toEqual(['10.77.0.5/32', 'fd77::5/128']);
    // The node went down: no DEL for crash-old. The pod's new sandbox after the reboot:
    const second = await cluster.ipamOnly({ node: 'node-1', name: 'db-0', containerId: 'crash-new', podUid: uid });
    expect(second.code).toBe(0);
    expect(addresses(second)).toEqual(['10.77.0.5/32', 'fd77::5/128']);
    expect(await holderOf('10.77.0.5')).toBe('k8s-pod-network.crash-new');
    expect(await holderOf('fd77::5')).toBe('k8s-pod-network.crash-new');
    expect((await client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.crash-new' })).ips.sort()).toEqual(['10.77.0.5', 'fd77::5']);
    await expect(client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.crash-old' })).rejects.toMatchObject({ code: 'not-found' });
    expect(await handOffs('same-pod')).toBe(before + 2);
    const agentLog = cluster.node('node-1').agent.output();
    expect(agentLog).toMatch(/"ip":"10\.77\.0\.5","fromHandle":"k8s-pod-network\.crash-old","handle":"k8s-pod-network\.crash-new","reason":"same-pod".*"msg":"took over a requested address"/);
    // The old sandbox's DEL, if it ever comes, takes nothing from the new one.
    expect((await cluster.ipamOnly({ node: 'node-1', name: 'db-0', containerId: 'crash-old', command: 'DEL', podUid: uid })).code).toBe(0);
    expect(await holderOf('10.77.0.5')).toBe('k8s-pod-network.crash-new');
    const check = await cluster.atollctl(['ipam', 'check']);
    expect(check.stdout).not.toContain('10.77.0.5');
  });

  it('makes the runtime try again while an earlier pod of the same name is terminating, and succeeds once its DEL ran', async () => {
    const oldUid = await createPod('db-1', 'node-1', ipAddrs('10.77.0.6'));
    expect(addresses(await cluster.ipamOnly({ node: 'node-1', name: 'db-1', containerId: 'term-old', podUid: oldUid }))).toEqual(['10.77.0.6/32']);
    const marked = await cluster.kube.deletePod('default', 'db-1', { gracePeriodSeconds: 30 });
    expect(marked.metadata['deletionTimestamp']).toBeDefined();
    const early = await cluster.ipamOnly({ node: 'node-2', name: 'db-1', containerId: 'term-new', podUid: 'a-new-uid-for-db-1' });
    expect(early.code).not.toBe(0);
    expect(early.json).toMatchObject({ code: 11, msg: 'address 10.77.0.6 is still held by pod default/db-1 (terminating)' });
    expect(await holderOf('10.77.0.6')).toBe('k8s-pod-network.term-old');
    await expect(client.ipam.ipsByHandle({ handleId: 'k8s-pod-network.term-new' })).rejects.toMatchObject({ code: 'not-found' });
    // The old pod's sandbox is torn down: its DEL frees the address, and the retry takes it.
    expect((await cluster.ipamOnly({ node: 'node-1', name: 'db-1', containerId: 'term-old', command: 'DEL', podUid: oldUid })).code).toBe(0);
    const retry = await cluster.ipamOnly({ node: 'node-2', name: 'db-1', containerId: 'term-new', podUid: 'a-new-uid-for-db-1' });
    expect(addresses(retry)).toEqual(['10.77.0.6/32']);
    expect(await holderOf('10.77.0.6')).toBe('k8s-pod-network.term-new');
  });

  it('hands the address of a pod gone from the API to another pod only after the grace period, code 11 before', async () => {
    const goneUid = await createPod('web-a', 'node-1', ipAddrs('10.77.0.7'));
    expect(addresses(await cluster.ipamOnly({ node: 'node-1', name: 'web-a', containerId: 'gone-old', podUid: goneUid }))).toEqual(['10.77.0.7/32']);
    await cluster.kube.deletePod('default', 'web-a', { gracePeriodSeconds: 0 }); // force-deleted; its node never sent DEL
    const before = await handOffs('holder-gone');
    const newUid = await createPod('web-b', 'node-2', ipAddrs('10.77.0.7'));
    const firstSeen = Date.now();
    const early = await cluster.ipamOnly({ node: 'node-2', name: 'web-b', containerId: 'gone-new', podUid: newUid });
    expect(early.json).toMatchObject({ code: 11 });
    expect((early.json as { msg: string }).msg).toMatch(/^address 10\.77\.0\.7 is still held by pod default\/web-a \(gone from the Kubernetes API; handed over in [1-3] s unless it returns\)$/);
    expect(await holderOf('10.77.0.7')).toBe('k8s-pod-network.gone-old');
    let late;
    for (;;) {
      late = await cluster.ipamOnly({ node: 'node-2', name: 'web-b', containerId: 'gone-new', podUid: newUid });
      if (late.code === 0) break;
      expect(late.json).toMatchObject({ code: 11 });
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(Date.now() - firstSeen).toBeGreaterThanOrEqual(GRACE_MS);
    expect(addresses(late)).toEqual(['10.77.0.7/32']);
    const holder = await client.staticIps.getHolder({ ip: '10.77.0.7' });
    expect(holder).toMatchObject({ handleId: 'k8s-pod-network.gone-new', attributes: { node: 'node-2', namespace: 'default', pod: 'web-b', podUid: newUid } });
    expect(await handOffs('holder-gone')).toBe(before + 1);
  });

  it('refuses an address held by another live pod exactly as before, and never waits for it', async () => {
    const ownerUid = await createPod('owner', 'node-1', ipAddrs('10.77.0.8'));
    expect(addresses(await cluster.ipamOnly({ node: 'node-1', name: 'owner', containerId: 'live-owner', podUid: ownerUid }))).toEqual(['10.77.0.8/32']);
    const thiefUid = await createPod('thief', 'node-2', ipAddrs('10.77.0.8'));
    await new Promise((r) => setTimeout(r, GRACE_MS + 500)); // a live holder never becomes "gone"
    const refused = await cluster.ipamOnly({ node: 'node-2', name: 'thief', containerId: 'live-thief', podUid: thiefUid });
    expect(refused.json).toMatchObject({ code: 100, msg: 'error getting IP from IPAM: resource already exists: 10.77.0.8 with error: Address already assigned in block' });
    expect(await holderOf('10.77.0.8')).toBe('k8s-pod-network.live-owner');
  });

  it('refuses a new pod of the same name whose sandbox claims another UID while the holder pod is live and not terminating', async () => {
    const uid = await createPod('db-2', 'node-1', ipAddrs('10.77.0.9'));
    expect(addresses(await cluster.ipamOnly({ node: 'node-1', name: 'db-2', containerId: 'same-name-1', podUid: uid }))).toEqual(['10.77.0.9/32']);
    const other = await cluster.ipamOnly({ node: 'node-1', name: 'db-2', containerId: 'same-name-2', podUid: 'not-the-pods-uid' });
    expect(other.json).toMatchObject({ code: 100 });
    expect(await holderOf('10.77.0.9')).toBe('k8s-pod-network.same-name-1');
  });
});

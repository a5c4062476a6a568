import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { DemoCluster } from '@atoll/test-tools';

// atoll.io/ipAddrsList through the built binaries (atoll-ipam, node agents, allocator,
// etcd, the Kubernetes API stand-in): one list on a pod template, one entry per replica.
const PREFIX = 'atoll-addrlist-';
const GRACE_MS = 2000;
const LIST = 'atoll.io/ipAddrsList';
const addresses = (r: { json?: unknown }) => ((r.json as { ips?: { address: string }[] }).ips ?? []).map((i) => i.address);
const errorOf = (r: { json?: unknown }) => r.json as { code: number; msg: string };

describe('address lists for workloads (atoll.io/ipAddrsList)', () => {
  let cluster: DemoCluster;
  let client: AllocatorClients;
  let seq = 0;

  const createPod = async (name: string, node: string, annotations: Record<string, string>, owner?: { kind: string; name: string }) =>
    (
      await cluster.kube.createPod({
        metadata: {
          name,
          annotations,
          ...(owner && { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `${owner.name}-uid`, controller: true }] }),
        },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'none' }] },
      })
    ).metadata.uid!;
  /** Creates the pod and runs its sandbox's ADD; resolves the plugin's outcome and the container ID. */
  const startPod = async (name: string, node: string, annotations: Record<string, string>, owner?: { kind: string; name: string }) => {
    const uid = await createPod(name, node, annotations, owner);
    const containerId = `${name}-${seq++}`;
    return { uid, containerId, r: await cluster.ipamOnly({ node, name, containerId, podUid: uid }) };
  };
  const nothingHeldBy = async (containerId: string) =>
    expect(client.ipam.ipsByHandle({ handleId: `k8s-pod-network.${containerId}` })).rejects.toMatchObject({ code: 'not-found' });

  beforeAll(async () => {
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1', 'node-2'], agentArgs: ['--static-handoff-grace', `${GRACE_MS / 1000}s`] });
    client = connectAllocator(cluster.allocator.address);
    const pool = (name: string, cidr: string, extra = '') => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  blockSize: ${cidr.includes(':') ? 122 : 26}\n${extra}`;
    expect(await cluster.atollctl(['apply', '-f', '-'], pool('v4', '10.88.0.0/16'))).toMatchObject({ code: 0 });
    expect(await cluster.atollctl(['apply', '-f', '-'], pool('v6', 'fd88::/112'))).toMatchObject({ code: 0 });
    expect(await cluster.atollctl(['apply', '-f', '-'], pool('tunnels-only', '10.89.0.0/16', '  allowedUses: [Tunnel]\n'))).toMatchObject({ code: 0 });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('gives each StatefulSet pod the entry at its ordinal in each family, on any node', async () => {
    const list = { [LIST]: '["10.88.1.10","fd88::10","10.88.1.11","fd88::11","10.88.1.12","fd88::12"]' };
    const got: string[][] = [];
    // started out of order: the ordinal decides, not who comes first
    for (const [name, node] of [['db-2', 'node-1'], ['db-0', 'node-2'], ['db-1', 'node-1']] as const) {
      const { r } = await startPod(name, node, list, { kind: 'StatefulSet', name: 'db' });
      got.push([name, ...addresses(r)]);
    }
    expect(got).toEqual([
      ['db-2', '10.88.1.12/32', 'fd88::12/128'],
      ['db-0', '10.88.1.10/32', 'fd88::10/128'],
      ['db-1', '10.88.1.11/32', 'fd88::11/128'],
    ]);
  });

  it('refuses a StatefulSet ordinal past the end of the list, saying so, and allocates nothing', async () => {
    const { r, containerId } = await startPod('db-3', 'node-1', { [LIST]: '["10.88.2.10","10.88.2.11","10.88.2.12"]' }, { kind: 'StatefulSet', name: 'db' });
    expect(errorOf(r)).toMatchObject({ code: 104, msg: 'annotation "atoll.io/ipAddrsList": pod db-3 is ordinal 3 of StatefulSet db, but the list has only 3 IPv4 entries (ordinals 0 to 2)' });
    await nothingHeldBy(containerId);
  });

  it('gives other pods the first free entry in list order, makes a surge pod wait with code 11, and lets it in once a replica goes', async () => {
    const list = { [LIST]: '["10.88.3.10","10.88.3.11"]' };
    const owner = { kind: 'ReplicaSet', name: 'web-7c9f' };
    const a = await startPod('web-7c9f-aaaaa', 'node-1', list, owner);
    const b = await startPod('web-7c9f-bbbbb', 'node-2', list, owner);
    expect([addresses(a.r), addresses(b.r)]).toEqual([['10.88.3.10/32'], ['10.88.3.11/32']]);
    const surge = await startPod('web-7c9f-ccccc', 'node-1', list, owner);
    expect(errorOf(surge.r)).toEqual(expect.objectContaining({ code: 11, msg: 'no free IPv4 address in annotation "atoll.io/ipAddrsList" ["10.88.3.10","10.88.3.11"]: 2 of 2 entries are held' }));
    await nothingHeldBy(surge.containerId);
    // replica a goes (its DEL ran, its pod is deleted); the surge pod's retry takes its entry
    expect((await cluster.ipamOnly({ node: 'node-1', name: 'web-7c9f-aaaaa', containerId: a.containerId, command: 'DEL' })).code).toBe(0);
    await cluster.kube.deletePod('default', 'web-7c9f-aaaaa');
    const retry = await cluster.ipamOnly({ node: 'node-1', name: 'web-7c9f-ccccc', containerId: surge.containerId, podUid: surge.uid });
    expect(addresses(retry)).toEqual(['10.88.3.10/32']);
  });

  it("gives a pod's new sandbox (its node crashed, no DEL) the entry its earlier sandbox held, not a free one", async () => {
    const list = { [LIST]: '["10.88.8.20","10.88.8.21","10.88.8.22"]' };
    const owner = { kind: 'ReplicaSet', name: 'api-5d4f' };
    const x = await startPod('api-5d4f-xxxxx', 'node-1', list, owner);
    const y = await startPod('api-5d4f-yyyyy', 'node-1', list, owner);
    expect([addresses(x.r), addresses(y.r)]).toEqual([['10.88.8.20/32'], ['10.88.8.21/32']]);
    expect((await cluster.ipamOnly({ node: 'node-1', name: 'api-5d4f-yyyyy', containerId: y.containerId, command: 'DEL' })).code).toBe(0);
    // 10.88.8.21 is free now; x's new sandbox takes back 10.88.8.20 rather than leave it held
    const again = await cluster.ipamOnly({ node: 'node-1', name: 'api-5d4f-xxxxx', containerId: `${x.containerId}-new`, podUid: x.uid });
    expect(addresses(again)).toEqual(['10.88.8.20/32']);
    await nothingHeldBy(x.containerId);
    await expect(client.staticIps.getHolder({ ip: '10.88.8.21' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('lets ipAddrs on the same pod win over the list', async () => {
    const { r } = await startPod('both', 'node-1', { 'cni.projectcalico.org/ipAddrs': '["10.88.4.99"]', [LIST]: '["10.88.4.10"]' });
    expect(addresses(r)).toEqual(['10.88.4.99/32']);
    await expect(client.staticIps.getHolder({ ip: '10.88.4.10' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it.each([
    ['a malformed list', '["10.88.5.10",', 'annotation "atoll.io/ipAddrsList": not valid JSON'],
    ['a duplicate entry', '["10.88.5.10","10.88.5.11","10.88.5.10"]', 'annotation "atoll.io/ipAddrsList": "10.88.5.10" is listed twice'],
    ['an entry outside every pool', '["10.88.5.10","192.0.2.7"]', 'annotation "atoll.io/ipAddrsList": 192.0.2.7 is not in any enabled IPPool that allows Workload'],
    ['an entry in a pool that does not allow Workload', '["10.88.5.10","10.89.0.7"]', 'annotation "atoll.io/ipAddrsList": 10.89.0.7 is not in any enabled IPPool that allows Workload'],
    ['more than 1024 entries', JSON.stringify(Array.from({ length: 1025 }, (_, i) => `10.88.${6 + (i >> 8)}.${i & 255}`)), 'annotation "atoll.io/ipAddrsList": 1025 entries; at most 1024 are allowed'],
  ])('refuses %s before anything is allocated, naming the annotation', async (_what, value, message) => {
    const { r, containerId } = await startPod(`bad-${seq}`, 'node-1', { [LIST]: value });
    expect(errorOf(r).code).toBe(104);
    expect(errorOf(r).msg.startsWith(message)).toBe(true);
    await nothingHeldBy(containerId);
    await expect(client.staticIps.getHolder({ ip: '10.88.5.10' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('gives a StatefulSet pod replaced on another node after its node died the same entry, once the grace has passed', async () => {
    const list = { [LIST]: '["10.88.7.10","10.88.7.11"]' };
    const owner = { kind: 'StatefulSet', name: 'kv' };
    const old = await startPod('kv-1', 'node-1', list, owner);
    expect(addresses(old.r)).toEqual(['10.88.7.11/32']);
    await cluster.kube.deletePod('default', 'kv-1', { gracePeriodSeconds: 0 }); // node-1 is gone; the pod is force-deleted
    const uid = await createPod('kv-1', 'node-2', list, owner);
    let r = await cluster.ipamOnly({ node: 'node-2', name: 'kv-1', containerId: 'kv-1-new', podUid: uid });
    expect(errorOf(r)).toMatchObject({ code: 11 });
    expect(errorOf(r).msg).toContain('address 10.88.7.11 is still held by pod default/kv-1 (gone from the Kubernetes API');
    const deadline = Date.now() + 15_000;
    while (r.code !== 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 250));
      r = await cluster.ipamOnly({ node: 'node-2', name: 'kv-1', containerId: 'kv-1-new', podUid: uid });
    }
    expect(addresses(r)).toEqual(['10.88.7.11/32']);
    expect((await client.staticIps.getHolder({ ip: '10.88.7.11' })).attributes).toMatchObject({ node: 'node-2', pod: 'kv-1', podUid: uid });
  });
});

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, type AllocatorClients } from '@atoll/api';
import {
  binPath,
  calicoKddDataset,
  collectOutput,
  loadCalicoKddDataset,
  runCniPlugin,
  startAgentProcess,
  startAllocatorProcess,
  startEtcdCluster,
  startKubeApiStandIn,
  startProcess,
  type AgentProcess,
  type AllocatorProcess,
  type CalicoKddDataset,
  type EtcdCluster,
  type KubeApiStandIn,
} from '@atoll/test-tools';
import { parseJsonLossless, stringifyJsonLossless } from '@atoll/model';

// The evidence for moving a cluster from Calico's Kubernetes datastore to Atoll and back
// without renumbering a pod: a Calico-written dataset of realistic size is migrated, node
// agents on its nodes serve ADD and DEL (new pods never get a held address; DEL of a
// migrated pod frees its address), and the way back is compared object by object.

const CRD = '/apis/crd.projectcalico.org/v1';
const PLURALS = ['ippools', 'ipreservations', 'ipamconfigs', 'ipamblocks', 'blockaffinities', 'ipamhandles'] as const;
const AGENT_NODES = ['node-00', 'node-01', 'node-02'];
type Obj = { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };

function get(baseUrl: string, p: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(`${baseUrl}${p}`, { agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(parseJsonLossless(text)));
      })
      .on('error', reject);
  });
}

async function kddObjects(api: KubeApiStandIn): Promise<Record<string, Map<string, Obj>>> {
  const out: Record<string, Map<string, Obj>> = {};
  for (const p of PLURALS) out[p] = new Map(((await get(api.url, `${CRD}/${p}`)) as { items: Obj[] }).items.map((o) => [o.metadata.name, o]));
  return out;
}

describe('migrating from Calico\'s Kubernetes datastore to Atoll and back, no pod renumbered', () => {
  let etcd: EtcdCluster;
  let kube: KubeApiStandIn;
  let allocator: AllocatorProcess;
  let admin: AllocatorClients;
  let data: CalicoKddDataset;
  const agents = new Map<string, AgentProcess>();
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-kdd-migration-'));
  const atollctl = (args: string[]) => collectOutput(startProcess(binPath('atollctl'), ['--allocator', allocator.address, ...args]));
  const cni = (command: 'ADD' | 'DEL', node: string, namespace: string, pod: string, containerId: string) =>
    runCniPlugin({
      pluginDir: path.dirname(binPath('atoll-ipam')),
      plugin: 'atoll-ipam',
      command,
      containerId,
      netnsPath: '/var/run/netns/none',
      ifname: 'eth0',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${pod}`,
      config: { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'bridge', ipam: { type: 'atoll-ipam', agent_socket: agents.get(node)!.socket } },
    });
  const allocated = async (address: string) => (await admin.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations.some((a) => a.address === address);

  beforeAll(async () => {
    etcd = await startEtcdCluster();
    kube = await startKubeApiStandIn();
    allocator = await startAllocatorProcess({ etcdEndpoints: etcd.endpoints });
    admin = connectAllocator(allocator.address, { defaultTimeoutMs: 60_000 });
    data = calicoKddDataset();
    await loadCalicoKddDataset(kube.url, data);
  }, 180_000);

  afterAll(async () => {
    for (const a of agents.values()) await a.stop().catch(() => undefined);
    admin?.close();
    await allocator?.stop().catch(() => undefined);
    await kube?.stop();
    await etcd?.stop();
    fs.rmSync(socketDir, { recursive: true, force: true });
  });

  it('migrates the whole dataset into Atoll with every address and sequence number kept', async () => {
    const r = await atollctl(['migrate', 'from-calico-kdd', '--kubeconfig', kube.kubeconfigPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ipam check found no problems');
    const listed = (await admin.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations;
    expect(listed).toHaveLength(10_000);
    const byAddress = new Map(listed.map((a) => [a.address, a]));
    for (const p of data.pods) expect([p.address, byAddress.get(p.address)?.handleId]).toEqual([p.address, p.handleId]);
  }, 300_000);

  it('serves ADD on the migrated nodes without handing out an address already held', async () => {
    for (const node of AGENT_NODES) {
      agents.set(node, await startAgentProcess({ nodeName: node, allocator: allocator.address, socket: path.join(socketDir, node, 'agent.sock'), kubeconfig: kube.kubeconfigPath }));
    }
    const held = new Set([...data.pods.map((p) => p.address), ...data.nodes.map((n) => Object.values((n['metadata'] as { annotations: Record<string, string> }).annotations)[0]!)]);
    const fresh: string[] = [];
    for (const node of AGENT_NODES) {
      for (let i = 0; i < 10; i++) {
        const pod = `new-${node}-${i}`;
        await kube.createPod({ metadata: { name: pod, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'none' }] } });
        const r = await cni('ADD', node, 'default', pod, `cid-${pod}`);
        expect([pod, r.code]).toEqual([pod, 0]);
        fresh.push((r.json as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!);
      }
    }
    expect(fresh.filter((a) => held.has(a))).toEqual([]);
    expect(new Set(fresh).size).toBe(fresh.length);
  }, 300_000);

  it('frees the address of a migrated pod on DEL, including one borrowed from another node\'s block', async () => {
    const mine = data.pods.filter((p) => p.node === 'node-00');
    const borrowed = mine.find((p) => p.blockNode !== p.node)!;
    const own = mine.filter((p) => p.blockNode === p.node).slice(0, 3);
    expect(borrowed).toBeDefined();
    for (const p of [borrowed, ...own]) {
      expect(await allocated(p.address)).toBe(true);
      const r = await cni('DEL', 'node-00', p.namespace, p.pod, p.handleId.slice('k8s-pod-network.'.length));
      expect([p.pod, r.code]).toEqual([p.pod, 0]);
      expect([p.address, await allocated(p.address)]).toEqual([p.address, false]);
    }
    expect((await admin.ipam.check({})).problems).toBe(0);
  }, 300_000);

  it('migrates back into an empty Kubernetes datastore: untouched objects identical, touched ones changed only where pods came and went', async () => {
    // The new pods leave again (DEL through their agents), so only the four deleted pods differ.
    for (const node of AGENT_NODES) for (let i = 0; i < 10; i++) expect((await cni('DEL', node, 'default', `new-${node}-${i}`, `cid-new-${node}-${i}`)).code).toBe(0);
    for (const a of agents.values()) await a.stop();
    agents.clear();

    const back = await startKubeApiStandIn();
    try {
      await loadCalicoKddDataset(back.url, { objects: [], nodes: data.nodes.map((n) => ({ ...n, metadata: { ...(n['metadata'] as object), annotations: {} } })) });
      const r = await atollctl(['migrate', 'to-calico-kdd', '--kubeconfig', back.kubeconfigPath]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);

      const original = await kddObjects(kube);
      const roundTrip = await kddObjects(back);
      const deleted = data.pods.filter((p) => p.node === 'node-00');
      const gone = new Set([deleted.find((p) => p.blockNode !== p.node)!, ...deleted.filter((p) => p.blockNode === p.node).slice(0, 3)]);
      const goneHandles = new Set([...gone].map((p) => p.handleId.toLowerCase()));
      const goneAddresses = new Set([...gone].map((p) => p.address));

      for (const p of ['ippools', 'ipreservations', 'ipamconfigs'] as const) {
        expect([p, [...roundTrip[p]!.keys()].sort()]).toEqual([p, [...original[p]!.keys()].sort()]);
        for (const [name, o] of original[p]!) expect([p, name, stringifyJsonLossless(roundTrip[p]!.get(name)!.spec)]).toEqual([p, name, stringifyJsonLossless(o.spec)]);
      }
      // Every affinity comes back as it was; the agents may have claimed a block more for the new pods.
      for (const [name, o] of original['blockaffinities']!) expect([name, stringifyJsonLossless(roundTrip['blockaffinities']!.get(name)?.spec)]).toEqual([name, stringifyJsonLossless(o.spec)]);
      const claimed = [...roundTrip['ipamblocks']!.values()].filter((b) => !original['ipamblocks']!.has(b.metadata.name));
      for (const b of claimed) {
        expect(AGENT_NODES.map((n) => `host:${n}`)).toContain(b.spec['affinity']);
        expect((b.spec['allocations'] as unknown[]).every((a) => a === null)).toBe(true);
      }
      expect(roundTrip['blockaffinities']!.size).toBe(original['blockaffinities']!.size + claimed.length);
      expect([...roundTrip['ipamhandles']!.keys()].sort()).toEqual([...original['ipamhandles']!.keys()].filter((h) => !goneHandles.has(h)).sort());
      for (const [name, h] of roundTrip['ipamhandles']!) expect([name, stringifyJsonLossless(h.spec)]).toEqual([name, stringifyJsonLossless(original['ipamhandles']!.get(name)!.spec)]);

      let touched = 0;
      for (const [name, o] of original['ipamblocks']!) {
        const r2 = roundTrip['ipamblocks']!.get(name)!;
        if (stringifyJsonLossless(r2.spec) === stringifyJsonLossless(o.spec)) continue;
        touched++;
        // Every address that was not deleted keeps its attributes and its sequence number.
        const s0 = o.spec as { cidr: string; allocations: (number | null)[]; attributes: unknown[]; sequenceNumberForAllocation: Record<string, bigint> };
        const s1 = r2.spec as typeof s0;
        const base = s0.cidr.split('/')[0]!.split('.').map(Number);
        s0.allocations.forEach((a, ord) => {
          if (a === null) return;
          const address = `${base[0]}.${base[1]}.${base[2]}.${base[3]! + ord}`;
          if (goneAddresses.has(address)) return expect([address, s1.allocations[ord]]).toEqual([address, null]);
          expect([address, stringifyJsonLossless(s1.attributes[s1.allocations[ord]!])]).toEqual([address, stringifyJsonLossless(s0.attributes[a])]);
          expect([address, s1.sequenceNumberForAllocation[String(ord)]]).toEqual([address, s0.sequenceNumberForAllocation[String(ord)]]);
        });
      }
      expect(touched).toBeGreaterThan(0);
      expect(touched).toBeLessThanOrEqual(AGENT_NODES.length * 6 + 1);

      const nodes = (await get(back.url, '/api/v1/nodes')) as { items: Obj[] };
      for (const n of nodes.items) {
        const want = (data.nodes.find((d) => (d['metadata'] as { name: string }).name === n.metadata.name)!['metadata'] as { annotations: Record<string, string> }).annotations;
        expect([n.metadata.name, n.metadata.annotations]).toEqual([n.metadata.name, want]);
      }
    } finally {
      await back.stop();
    }
  }, 300_000);
});

import fs from 'node:fs';
import { connectAllocator } from '@atoll/api';
import os from 'node:os';
import path from 'node:path';
import { startEtcdCluster, type EtcdCluster } from '../etcd/launcher';
import { startKubeApiStandIn, type KubeApiStandIn } from '../k8s-api';
import { createNetns, runCniPlugin, type Netns } from '../netns';
import { binPath, collectOutput, startAgentProcess, startAllocatorProcess, startProcess, type AgentProcess, type AllocatorProcess } from '../src/processes';

// A whole Atoll installation on one machine: etcd, the Kubernetes API stand-in, the
// allocator, node agents, and pods as network namespaces attached by the real bridge
// plugin with atoll-ipam as IPAM. Used by the local quickstart and by end-to-end tests.

export const CNI_PATH = `/usr/lib/cni:${path.dirname(binPath('atoll-ipam'))}`;
export const NETWORK = 'k8s-pod-network';

export interface DemoNode {
  readonly name: string;
  readonly agent: AgentProcess;
  /** The node's "host" network namespace: its bridge lives here, not on the machine. */
  readonly host: Netns;
}

export interface DemoPod {
  readonly name: string;
  readonly namespace: string;
  readonly node: DemoNode;
  readonly netns: Netns;
  readonly containerId: string;
  /** The CNI ADD result. */
  readonly result: { ips?: { address: string }[] };
}

export interface AddOutcome {
  readonly ok: boolean;
  readonly pod?: DemoPod;
  /** The CNI error the plugin printed, when ADD failed. */
  readonly error?: { code: number; msg: string; details?: string };
}

export class DemoCluster {
  private readonly pods = new Set<DemoPod>();
  private counter = 0;

  private constructor(
    readonly prefix: string,
    readonly etcd: EtcdCluster,
    readonly kube: KubeApiStandIn,
    readonly allocator: AllocatorProcess,
    readonly nodes: DemoNode[],
    private readonly socketDir: string,
    private readonly agentArgs: readonly string[],
  ) {}

  /** Starts everything; `prefix` names every namespace made (so leftovers can be swept). */
  static async start(opts: {
    prefix: string;
    nodes: readonly string[];
    allocatorPort?: number;
    namespace?: string;
    agentArgs?: readonly string[];
    /** Runs the allocator's leak collector against the stand-in with this grace period (a Go duration such as `2s`). */
    leakGracePeriod?: string;
  }): Promise<DemoCluster> {
    const etcd = await startEtcdCluster();
    const cleanup: (() => Promise<unknown>)[] = [() => etcd.stop()];
    try {
      const kube = await startKubeApiStandIn();
      cleanup.push(() => kube.stop());
      const gcArgs = opts.leakGracePeriod ? ['--kubeconfig', kube.kubeconfigPath, '--leak-grace-period', opts.leakGracePeriod, '--gc-leader-lease', '1s'] : [];
      const allocator = await startAllocatorProcess({
        etcdEndpoints: etcd.endpoints,
        ...(opts.allocatorPort && { grpcPort: opts.allocatorPort }),
        ...(opts.namespace && { namespace: opts.namespace }),
        ...(gcArgs.length > 0 && { extraArgs: gcArgs }),
      });
      cleanup.push(() => allocator.stop());
      const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-sockets-'));
      const cluster = new DemoCluster(opts.prefix, etcd, kube, allocator, [], socketDir, opts.agentArgs ?? []);
      for (const name of opts.nodes) await cluster.addNode(name, {});
      return cluster;
    } catch (err) {
      for (const c of cleanup.reverse()) await c().catch(() => undefined);
      throw err;
    }
  }

  async addNode(name: string, labels: Record<string, string>): Promise<DemoNode> {
    await this.kube.createNode({ metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } });
    const host = await createNetns(`${this.prefix}host-${this.nodes.length}`);
    const agent = await startAgentProcess({
      nodeName: name,
      allocator: this.allocator.address,
      socket: path.join(this.socketDir, name, 'agent.sock'),
      kubeconfig: this.kube.kubeconfigPath,
      extraArgs: this.agentArgs,
    });
    const node = { name, agent, host };
    this.nodes.push(node);
    await this.waitForRegistration(name);
    return node;
  }

  /**
   * The agent registers its node in the background; tests that compare the datastore
   * before and after a request must not see that write land in between.
   */
  private async waitForRegistration(name: string): Promise<void> {
    const client = connectAllocator(this.allocator.address, { defaultTimeoutMs: 2000 });
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = await client.resources.get({ kind: 'Node', name }).then(() => true, () => false);
        if (found) return;
        if (Date.now() > deadline) throw new Error(`node agent ${name} did not register its node within 15 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      client.close();
    }
  }

  node(name: string): DemoNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** atollctl against this cluster's allocator. */
  async atollctl(args: readonly string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const p = startProcess(binPath('atollctl'), ['--allocator', this.allocator.address, ...args], {}, stdin);
    return collectOutput(p);
  }

  bridgeConfig(node: DemoNode, cniVersion = '1.0.0'): Record<string, unknown> {
    return { cniVersion, name: NETWORK, type: 'bridge', bridge: 'atoll0', ipam: { type: 'atoll-ipam', agent_socket: node.agent.socket } };
  }

  /** Creates a pod in Kubernetes and attaches it as a network namespace (CNI ADD through bridge). */
  async addPod(opts: { node: string; name: string; namespace?: string; annotations?: Record<string, string>; cniVersion?: string; plugin?: 'bridge' | 'ptp' }): Promise<AddOutcome> {
    const node = this.node(opts.node);
    const namespace = opts.namespace ?? 'default';
    await this.kube.createPod({ metadata: { name: opts.name, namespace, annotations: opts.annotations ?? {} }, spec: { nodeName: node.name, containers: [{ name: 'c', image: 'none' }] } });
    const netns = await createNetns(`${this.prefix}pod-${this.counter++}`);
    const containerId = `${opts.name}-${Math.random().toString(36).slice(2, 10)}`;
    const config = opts.plugin === 'ptp'
      ? { cniVersion: opts.cniVersion ?? '1.0.0', name: NETWORK, type: 'ptp', ipam: { type: 'atoll-ipam', agent_socket: node.agent.socket, ipv4_gateway: '169.254.1.1' } }
      : this.bridgeConfig(node, opts.cniVersion);
    const r = await runCniPlugin({
      pluginDir: CNI_PATH,
      plugin: String(config['type']),
      command: 'ADD',
      containerId,
      netnsPath: netns.path,
      ifname: 'eth0',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${opts.name}`,
      config,
      hostNetns: node.host.name,
    });
    if (r.code !== 0) {
      // the runtime's half of a failed ADD: DEL, then forget the sandbox
      await this.del({ name: opts.name, namespace, node, netns, containerId, result: {} }, config).catch(() => undefined);
      await netns.delete();
      await this.kube.deletePod(namespace, opts.name).catch(() => undefined);
      return { ok: false, error: r.json as AddOutcome['error'] };
    }
    const pod: DemoPod = { name: opts.name, namespace, node, netns, containerId, result: r.json as DemoPod['result'] };
    (pod as { config?: unknown }).config = config;
    this.pods.add(pod);
    return { ok: true, pod };
  }

  private del(pod: DemoPod, config: Record<string, unknown>) {
    return runCniPlugin({
      pluginDir: CNI_PATH,
      plugin: String(config['type']),
      command: 'DEL',
      containerId: pod.containerId,
      netnsPath: pod.netns.path,
      ifname: 'eth0',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name}`,
      config,
      ...(pod.result.ips && { prevResult: pod.result }),
      hostNetns: pod.node.host.name,
    });
  }

  /**
   * Runs atoll-ipam itself (no main plugin, no namespace) for a pod that exists in
   * Kubernetes: the fast way to attach hundreds of pods when only the addresses matter.
   */
  async ipamOnly(opts: { node: string; name: string; namespace?: string; command?: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS'; containerId?: string; cniVersion?: string; config?: Record<string, unknown>; prevResult?: unknown; podUid?: string }) {
    const node = this.node(opts.node);
    const namespace = opts.namespace ?? 'default';
    return runCniPlugin({
      pluginDir: CNI_PATH,
      plugin: 'atoll-ipam',
      command: opts.command ?? 'ADD',
      containerId: opts.containerId ?? opts.name,
      netnsPath: '/var/run/netns/none',
      ifname: 'eth0',
      // containerd sends K8S_POD_UID too; a test passes it to tell a pod from a recreated one of the same name
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${opts.name}${opts.podUid ? `;K8S_POD_UID=${opts.podUid}` : ''}`,
      config: opts.config ?? this.bridgeConfig(node, opts.cniVersion),
      ...(opts.prevResult !== undefined && { prevResult: opts.prevResult }),
    });
  }

  /** CNI DEL through the main plugin; resolves the plugin's exit code. */
  async deletePod(pod: DemoPod, opts: { keepNetns?: boolean } = {}): Promise<number> {
    const r = await this.del(pod, (pod as { config?: Record<string, unknown> }).config ?? this.bridgeConfig(pod.node));
    if (!opts.keepNetns) {
      await pod.netns.delete();
      this.pods.delete(pod);
      await this.kube.deletePod(pod.namespace, pod.name).catch(() => undefined);
    }
    return r.code;
  }

  /** The addresses on the pod's eth0, as `ip` reports them. */
  async podAddresses(pod: DemoPod): Promise<string[]> {
    const r = await pod.netns.exec('ip', ['-j', 'addr', 'show', 'eth0']);
    const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local: string; prefixlen: number; scope: string }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`));
  }

  /** Stops everything this cluster started and deletes every namespace it made. */
  async stop(): Promise<void> {
    for (const pod of [...this.pods]) await this.deletePod(pod).catch(() => undefined);
    for (const n of this.nodes) {
      await n.agent.stop().catch(() => undefined);
      await n.host.delete().catch(() => undefined);
    }
    await this.allocator.stop().catch(() => undefined);
    await this.kube.stop().catch(() => undefined);
    await this.etcd.stop().catch(() => undefined);
    fs.rmSync(this.socketDir, { recursive: true, force: true });
  }
}

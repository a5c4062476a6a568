import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { createNodeLan, type NodeLan } from '../cri';
import { startEtcdCluster, type EtcdCluster } from '../etcd/launcher';
import { startKubeApiStandIn, type KubeApiStandIn } from '../k8s-api';
import { runCommand } from '../netns/netns';
import { binPath, collectOutput, startAllocatorProcess, startProcess, type AllocatorProcess } from '../src/processes';
import { startRuntimeNode, type RuntimeNode } from './runtime-node';

// A whole cluster on this machine with a real container runtime: etcd, the Kubernetes API
// stand-in and the allocator on loopback; nodes as network namespaces on one segment (with
// an "outside" host), each with its node agent and its own containerd. Pods are created in
// the Kubernetes API first and then started as sandboxes through the CRI, as the kubelet
// does, with the same name, namespace and UID.

export interface RuntimePod {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly node: RuntimeNode;
  /** Every pod address (IPv4 first), as the runtime reports them. */
  readonly ips: readonly string[];
  readonly netnsPath: string;
}

export interface RuntimeClusterOptions {
  /** Names every namespace, directory and cgroup made, so leftovers can be swept. */
  readonly prefix: string;
  readonly nodes: number;
  /** Use this etcd (with a fresh key prefix) instead of starting one. */
  readonly etcdEndpoints?: readonly string[];
  readonly etcdNamespace?: string;
  readonly routing?: 'host-gw' | 'none';
  /** Every pod gets an IPv6 address too (needs an IPv6 pool). */
  readonly dualStack?: boolean;
  readonly agentArgs?: readonly string[];
  /** The allocator's loopback gRPC port; default any free one. */
  readonly allocatorPort?: number;
}

export class RuntimeCluster {
  private readonly pods = new Set<RuntimePod>();

  private constructor(
    readonly lan: NodeLan,
    readonly nodes: readonly RuntimeNode[],
    readonly kube: KubeApiStandIn,
    readonly allocator: AllocatorProcess,
    /** A second replica, on a unix socket, for the node agents in their namespaces. */
    readonly agentsAllocator: AllocatorProcess,
    readonly client: AllocatorClients,
    private readonly etcd: EtcdCluster | undefined,
    private readonly workDir: string,
  ) {}

  static async start(opts: RuntimeClusterOptions): Promise<RuntimeCluster> {
    const undo: (() => Promise<unknown>)[] = [];
    try {
      const etcd = opts.etcdEndpoints ? undefined : await startEtcdCluster();
      if (etcd) undo.push(() => etcd.stop());
      const kube = await startKubeApiStandIn();
      undo.push(() => kube.stop());
      // A cluster has its default namespace; the agents' informers then answer from cache.
      await kube.createNamespace('default').catch(() => undefined);
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix));
      undo.push(async () => fs.rmSync(workDir, { recursive: true, force: true }));
      // Two replicas, as deploy/ runs them: one on loopback TCP for atollctl and tests, one
      // on a unix socket that the node agents reach from inside their namespaces.
      const replica = (listen?: string) => startAllocatorProcess({ etcdEndpoints: opts.etcdEndpoints ?? etcd!.endpoints, ...(opts.etcdNamespace && { namespace: opts.etcdNamespace }), ...(listen && { listen }), ...(!listen && opts.allocatorPort && { grpcPort: opts.allocatorPort }) });
      const allocator = await replica();
      undo.push(() => allocator.stop());
      const agentsAllocator = await replica(`unix:${path.join(workDir, 'allocator/allocator.sock')}`);
      undo.push(() => agentsAllocator.stop());
      const lan = await createNodeLan({ prefix: opts.prefix, nodes: opts.nodes });
      undo.push(() => lan.delete());
      const kubePort = Number(new URL(kube.url).port);
      const nodes: RuntimeNode[] = [];
      for (const host of lan.nodes) {
        await kube.createNode({ metadata: { name: host.name, labels: { 'kubernetes.io/hostname': host.name } }, status: { addresses: [{ type: 'InternalIP', address: host.ipv4 }] } });
        const node = await startRuntimeNode({ host, workDir, allocatorAddress: agentsAllocator.address, kubeApiPort: kubePort, kubeconfigPath: kube.kubeconfigPath, ...(opts.routing && { routing: opts.routing }), ...(opts.dualStack && { dualStack: true }), ...(opts.agentArgs && { agentArgs: opts.agentArgs }) });
        nodes.push(node);
        undo.push(() => node.stop());
      }
      const client = connectAllocator(allocator.address);
      return new RuntimeCluster(lan, nodes, kube, allocator, agentsAllocator, client, etcd, workDir);
    } catch (err) {
      for (const u of undo.reverse()) await u().catch(() => undefined);
      throw err;
    }
  }

  node(name: string): RuntimeNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Applies a Calico resource (an object, as `atollctl apply` would). */
  async apply(resource: object): Promise<void> {
    await this.client.resources.apply({ resourceJson: JSON.stringify(resource) });
  }

  /** atollctl against this cluster's allocator. */
  async atollctl(args: readonly string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return collectOutput(startProcess(binPath('atollctl'), ['--allocator', this.allocator.address, ...args], {}, stdin));
  }

  /**
   * Creates the pod in Kubernetes, bound to `node`, then its sandbox through the CRI. A
   * refused sandbox rejects with the runtime's CriError, after the pod is deleted again.
   */
  async runPod(node: string, opts: { name: string; namespace?: string; annotations?: Record<string, string>; ownerReferences?: readonly object[] }): Promise<RuntimePod> {
    const n = this.node(node);
    const namespace = opts.namespace ?? 'default';
    const created = await this.kube.createPod({
      metadata: { name: opts.name, namespace, annotations: opts.annotations ?? {}, ...(opts.ownerReferences && { ownerReferences: [...opts.ownerReferences] }) },
      spec: { nodeName: n.name, containers: [{ name: 'c', image: 'none' }] },
    });
    const uid = String(created.metadata.uid);
    let id: string;
    try {
      id = await n.containerd.cri.runPodSandbox({ name: opts.name, namespace, uid });
    } catch (err) {
      await this.kube.deletePod(namespace, opts.name).catch(() => undefined);
      throw err;
    }
    const status = await n.containerd.cri.podSandboxStatus(id);
    const pod: RuntimePod = { id, name: opts.name, namespace, uid, node: n, ips: [status.ip, ...status.additionalIps].filter(Boolean), netnsPath: status.netnsPath };
    this.pods.add(pod);
    return pod;
  }

  /** StopPodSandbox (CNI DEL with prevResult; again: DEL without a namespace), then RemovePodSandbox and the API object. */
  async deletePod(pod: RuntimePod, opts: { stops?: number } = {}): Promise<void> {
    for (let i = 0; i < (opts.stops ?? 1); i++) await pod.node.containerd.cri.stopPodSandbox(pod.id);
    await pod.node.containerd.cri.removePodSandbox(pod.id);
    await this.kube.deletePod(pod.namespace, pod.name).catch(() => undefined);
    this.pods.delete(pod);
  }

  /**
   * Pings from inside the pod's network namespace, up to `attempts` times (routes to other
   * nodes follow the allocator asynchronously); true when one is answered.
   */
  async ping(from: RuntimePod | { netnsPath: string }, to: string, opts: { attempts?: number } = {}): Promise<boolean> {
    for (let i = 0; i < (opts.attempts ?? 1); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      const r = await runCommand('nsenter', [`--net=${from.netnsPath}`, 'ping', ...(to.includes(':') ? ['-6'] : []), '-c', '1', '-W', '1', to]);
      if (r.code === 0) return true;
    }
    return false;
  }

  /** Runs `cmd` in a node's network namespace (its "host" network). */
  async onNode(node: string, cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return runCommand('nsenter', [`--net=${this.node(node).host.netns.path}`, cmd, ...args]);
  }

  /** Stops everything this cluster started and removes everything it made. */
  async stop(): Promise<void> {
    for (const pod of [...this.pods]) await this.deletePod(pod).catch(() => undefined);
    for (const n of this.nodes) await n.stop();
    this.client.close();
    await this.lan.delete().catch(() => undefined);
    await this.allocator.stop().catch(() => undefined);
    await this.agentsAllocator.stop().catch(() => undefined);
    await this.kube.stop().catch(() => undefined);
    await this.etcd?.stop().catch(() => undefined);
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}


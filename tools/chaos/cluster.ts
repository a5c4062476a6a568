import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { freePort, startEtcdCluster, type EtcdCluster, type EtcdMember } from '../etcd/launcher';
import { startKubeApiStandIn, type KubeApiStandIn } from '../k8s-api';
import { binPath, collectOutput, startAgentProcess, startAllocatorProcess, startProcess, type AgentProcess, type AllocatorProcess } from '../src/processes';
import { findEtcdLeader } from './etcd-leader';
import { startFaultProxy, type FaultProxy, type ProxyMode } from './fault-proxy';

// The installation the chaos run attacks: a 3-member etcd on loopback, allocator replicas on
// fixed ports (so a killed replica comes back where its agents look for it), node agents
// each with its own socket and one replica (agent i uses replica i mod R), and the
// Kubernetes API stand-in for pods. Every process is started and stopped by its PID.
// Each replica reaches each etcd member through a fault proxy of its own (loopback TCP,
// in this process), so the link between one replica and etcd can be cut, or made to drop
// only etcd's answers, without touching any other link; each agent reaches its replica
// through one too.

export interface AllocatorSlot {
  readonly index: number;
  readonly address: string;
  readonly grpcPort: number;
  readonly metricsPort: number;
  /** One per etcd member, in member order: this replica's links to etcd. */
  readonly etcdLinks: FaultProxy[];
  proc: AllocatorProcess | undefined;
}

export interface AgentSlot {
  readonly index: number;
  readonly nodeName: string;
  readonly socket: string;
  readonly allocator: AllocatorSlot;
  /** The agent's link to its replica (a fault proxy), which it dials instead of the replica. */
  readonly allocatorLink: FaultProxy;
  proc: AgentProcess | undefined;
}

export interface ChaosClusterOptions {
  readonly etcdMembers: number;
  /** etcd's --quota-backend-bytes (etcd's own default when omitted). */
  readonly etcdQuotaBytes?: number;
  readonly allocators: number;
  readonly agents: number;
}

const isRunning = (p: { child: { exitCode: number | null; signalCode: NodeJS.Signals | null } } | undefined) =>
  p !== undefined && p.child.exitCode === null && p.child.signalCode === null;

/** Node has not seen `child` exit: it is still running (or at least not reaped, so its PID is still its own). */
export function stillRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export class ChaosCluster {
  /** Every process this cluster ever started, to prove at the end that none is left. */
  private readonly started = new Set<ChildProcess>();

  private constructor(
    readonly etcd: EtcdCluster,
    readonly kube: KubeApiStandIn,
    readonly allocators: AllocatorSlot[],
    readonly agents: AgentSlot[],
    private readonly socketDir: string,
  ) {}

  static async start(opts: ChaosClusterOptions): Promise<ChaosCluster> {
    const etcd = await startEtcdCluster({ members: opts.etcdMembers, ...(opts.etcdQuotaBytes && { extraArgs: ['--quota-backend-bytes', String(opts.etcdQuotaBytes)] }) });
    const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-chaos-'));
    let kube: KubeApiStandIn | undefined;
    let cluster: ChaosCluster | undefined;
    try {
      kube = await startKubeApiStandIn();
      const allocators: AllocatorSlot[] = [];
      for (let i = 0; i < opts.allocators; i++) {
        const grpcPort = await freePort();
        const etcdLinks = await Promise.all(etcd.endpoints.map((e) => startFaultProxy(e)));
        allocators.push({ index: i, grpcPort, metricsPort: await freePort(), address: `127.0.0.1:${grpcPort}`, etcdLinks, proc: undefined });
      }
      const agents: AgentSlot[] = [];
      for (let i = 0; i < opts.agents; i++) {
        const allocator = allocators[i % allocators.length]!;
        agents.push({
          index: i,
          nodeName: `chaos-node-${i}`,
          socket: path.join(socketDir, `node-${i}`, 'agent.sock'),
          allocator,
          allocatorLink: await startFaultProxy(allocator.address),
          proc: undefined,
        });
      }
      cluster = new ChaosCluster(etcd, kube, allocators, agents, socketDir);
      for (const m of etcd.members) if (m.child) cluster.started.add(m.child);
      for (const a of allocators) await cluster.startAllocator(a.index);
      for (const a of agents) {
        await kube.createNode({ metadata: { name: a.nodeName, labels: { 'kubernetes.io/hostname': a.nodeName } } });
        await cluster.startAgent(a.index);
      }
      return cluster;
    } catch (err) {
      if (cluster) await cluster.stop();
      else {
        await kube?.stop().catch(() => undefined);
        await etcd.stop().catch(() => undefined);
        fs.rmSync(socketDir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  allocatorUp(i: number): boolean {
    return isRunning(this.allocators[i]!.proc);
  }

  agentUp(i: number): boolean {
    return isRunning(this.agents[i]!.proc);
  }

  /** (Re)starts replica `i` on its own ports; retries while the port is still being released. */
  async startAllocator(i: number): Promise<void> {
    const slot = this.allocators[i]!;
    let lastError: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        slot.proc = await startAllocatorProcess({ etcdEndpoints: slot.etcdLinks.map((l) => `http://${l.address}`), grpcPort: slot.grpcPort, metricsPort: slot.metricsPort });
        this.started.add(slot.proc.child);
        return;
      } catch (err) {
        lastError = err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    throw new Error(`allocator ${i} did not restart: ${(lastError as Error).message}`);
  }

  /** SIGKILLs replica `i` (a crash: no graceful shutdown, in-flight calls cut). */
  async killAllocator(i: number): Promise<void> {
    await this.allocators[i]!.proc?.stop('SIGKILL');
  }

  /** Sets every link between replica `i` and etcd to `mode` (pass heals). */
  setEtcdLinks(i: number, mode: ProxyMode): void {
    for (const link of this.allocators[i]!.etcdLinks) link.mode = mode;
  }

  /** Replica `i`'s /readyz: 200 only while it can read etcd. */
  async allocatorReady(i: number): Promise<boolean> {
    const r = await fetch(`http://127.0.0.1:${this.allocators[i]!.metricsPort}/readyz`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    return r?.status === 200;
  }

  async startAgent(i: number): Promise<void> {
    const slot = this.agents[i]!;
    slot.proc = await startAgentProcess({ nodeName: slot.nodeName, allocator: slot.allocatorLink.address, socket: slot.socket, kubeconfig: this.kube.kubeconfigPath });
    this.started.add(slot.proc.child);
  }

  async stopAgent(i: number, signal: NodeJS.Signals): Promise<void> {
    await this.agents[i]!.proc?.stop(signal);
  }

  etcdLeader(): Promise<EtcdMember> {
    return findEtcdLeader(this.etcd);
  }

  async restartEtcdMember(member: EtcdMember): Promise<void> {
    this.started.add(member.start());
    await member.waitHealthy();
  }

  /** The address of a replica that is running (the first one when none is). */
  liveAllocatorAddress(): string {
    return (this.allocators.find((a) => isRunning(a.proc)) ?? this.allocators[0]!).address;
  }

  connect(address = this.liveAllocatorAddress(), defaultTimeoutMs = 5000): AllocatorClients {
    return connectAllocator(address, { defaultTimeoutMs });
  }

  /** atollctl against a running replica. */
  async atollctl(args: readonly string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const p = startProcess(binPath('atollctl'), ['--allocator', this.liveAllocatorAddress(), ...args], {}, stdin);
    this.started.add(p.child);
    return collectOutput(p);
  }

  /** Waits until every node agent has registered its node (an ADD before that is refused). */
  async waitNodesRegistered(timeoutMs = 30_000): Promise<void> {
    const client = this.connect();
    try {
      const deadline = Date.now() + timeoutMs;
      for (const a of this.agents) {
        for (;;) {
          const ok = await client.resources.get({ kind: 'Node', name: a.nodeName }).then(() => true, () => false);
          if (ok) break;
          if (Date.now() > deadline) throw new Error(`node ${a.nodeName} was not registered within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      client.close();
    }
  }

  /** Stops every process by its PID (agents, replicas, kube, etcd); returns the PIDs of any still running after. */
  async stop(): Promise<number[]> {
    for (const a of this.agents) await a.proc?.stop('SIGTERM', 3000).catch(() => undefined);
    for (const a of this.allocators) await a.proc?.stop('SIGTERM', 3000).catch(() => undefined);
    for (const a of this.allocators) for (const link of a.etcdLinks) await link.close();
    for (const a of this.agents) await a.allocatorLink.close();
    await this.kube.stop().catch(() => undefined);
    await this.etcd.stop().catch(() => undefined);
    fs.rmSync(this.socketDir, { recursive: true, force: true });
    return [...this.started].filter(stillRunning).map((c) => c.pid ?? -1);
  }
}

// The real processes a benchmark runs against — a private etcd, the allocator, node
// agents — each registered with the benchmark's Teardown as soon as it exists.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, IntendedUse, type AllocatorClients, type AutoAssignRequest } from '@atoll/api';
import { freePort, startEtcdCluster, type EtcdCluster } from '../etcd/launcher';
import { binPath, startAgentProcess, startProcess, type AgentProcess, type ManagedProcess } from '../src/processes';
import type { Teardown } from './teardown';
import { noFailures, retryTransient, type Failures } from './transient';

export async function startEtcd(teardown: Teardown, extraArgs: string[] = []): Promise<EtcdCluster> {
  const etcd = await startEtcdCluster({ extraArgs });
  teardown.add(`etcd (pid ${etcd.members.map((m) => m.pid).join(',')})`, () => etcd.stop());
  return etcd;
}

export interface Allocator {
  process: AllocatorUnderTest;
  client: AllocatorClients;
  /** The command line before the flags: the binary, or `node --cpu-prof … binary`. */
  launcher: readonly string[];
}

/** The allocator process as the benchmarks start it (and restart it): ready means /readyz, not only SERVING. */
export type AllocatorUnderTest = ManagedProcess & { address: string; metricsUrl: string; args: readonly string[] };

/**
 * With BENCH_CPU_PROF_DIR set, the allocator runs under `node --cpu-prof` and writes a
 * .cpuprofile there when it stops (summarise it with tools/bench/profile-summary.ts).
 */
function allocatorLauncher(): string[] {
  const dir = process.env['BENCH_CPU_PROF_DIR'];
  if (!dir) return [binPath('atoll-allocator')];
  fs.mkdirSync(dir, { recursive: true });
  return [process.execPath, '--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`, binPath('atoll-allocator')];
}

/** Whether a TCP connection to host:port is accepted (cheap, no gRPC reconnect backoff). */
function portAccepts(address: string): Promise<boolean> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether GET url answers 200. */
async function answersOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export interface AllocatorStart {
  proc: ManagedProcess;
  /** From spawn until gRPC health answered SERVING. */
  servingMs: number;
  /** From spawn until /readyz answered 200 (resource cache loaded, etcd answered a read). */
  readyMs: number;
}

/**
 * Spawns the allocator and resolves once gRPC health answers SERVING and /readyz answers
 * 200 (since the allocator starts while etcd is unreachable, SERVING comes first and
 * /readyz says when it can serve). Polls every 10 ms: first whether the port accepts
 * connections, then the health check over a fresh channel (one long-lived channel would
 * sit in grpc-js's 1 s reconnect backoff after the first refused connection and add up to
 * a second to every measurement), then /readyz.
 */
async function spawnUntilReady(launcher: readonly string[], args: readonly string[], address: string, metricsUrl: string): Promise<AllocatorStart> {
  const t0 = performance.now();
  const proc = startProcess(launcher[0]!, [...launcher.slice(1), ...args]);
  let servingMs: number | undefined;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`atoll-allocator exited with ${proc.child.exitCode}: ${proc.output()}`);
    if (servingMs === undefined && (await portAccepts(address))) {
      const health = connectAllocator(address, { defaultTimeoutMs: 1000 });
      const serving = await health.health.check({ service: '' }).then((r) => r.status === 'SERVING', () => false);
      health.close();
      if (serving) servingMs = performance.now() - t0;
    }
    if (servingMs !== undefined && (await answersOk(`${metricsUrl}/readyz`))) return { proc, servingMs, readyMs: performance.now() - t0 };
    if (performance.now() - t0 > 120_000) {
      await proc.stop('SIGKILL');
      throw new Error(`atoll-allocator not ready within 120 s: ${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startAllocator(teardown: Teardown, etcd: EtcdCluster, namespace?: string, extraArgs: readonly string[] = []): Promise<Allocator> {
  const launcher = allocatorLauncher();
  const [grpcPort, metricsPort] = [await freePort(), await freePort()];
  const args = [
    '--etcd-endpoints',
    etcd.endpoints.join(','),
    '--listen',
    `127.0.0.1:${grpcPort}`,
    '--metrics-listen',
    `127.0.0.1:${metricsPort}`,
    '--log-level',
    'warn',
    ...(namespace ? ['--etcd-namespace', namespace] : []),
    ...extraArgs,
  ];
  const address = `127.0.0.1:${grpcPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const { proc } = await spawnUntilReady(launcher, args, address, metricsUrl);
  const allocator: Allocator = { process: { ...proc, address, metricsUrl, args }, client: connectAllocator(address, { defaultTimeoutMs: 60_000 }), launcher };
  teardown.add('allocator', async () => {
    allocator.client.close();
    await allocator.process.stop();
  });
  return allocator;
}

/**
 * SIGKILLs the allocator (SIGTERM under BENCH_CPU_PROF_DIR, so the old process writes its
 * profile) and starts it again with the same flags and ports; swaps `allocator`'s process
 * and client for the new ones. Times from the new process's spawn.
 */
export async function killAndRestartAllocator(allocator: Allocator): Promise<{ servingMs: number; readyMs: number; killToReadyMs: number }> {
  const old = allocator.process;
  allocator.client.close();
  const tKill = performance.now();
  await old.stop(allocator.launcher.length > 1 ? 'SIGTERM' : 'SIGKILL');
  const t0 = performance.now();
  const started = await spawnUntilReady(allocator.launcher, old.args, old.address, old.metricsUrl);
  allocator.process = { ...started.proc, address: old.address, metricsUrl: old.metricsUrl, args: old.args };
  allocator.client = connectAllocator(old.address, { defaultTimeoutMs: 60_000 });
  return { servingMs: started.servingMs, readyMs: started.readyMs, killToReadyMs: started.readyMs + (t0 - tKill) };
}

export const calicoResource = (kind: string, name: string, spec: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec });

export async function applyPool(client: AllocatorClients, name: string, cidr: string, blockSize = 26): Promise<void> {
  await client.resources.apply({ resourceJson: calicoResource('IPPool', name, { cidr, blockSize, nodeSelector: 'all()', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true }) });
}

/**
 * Registers Calico Node resources (what an agent does at start) with bounded concurrency.
 * Apply is create-or-replace, so a transient refusal is retried (as agents retry their
 * registration) and counted in `failures`.
 */
export async function applyNodes(client: AllocatorClients, names: readonly string[], concurrency = 8, failures: Failures = noFailures()): Promise<Failures> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, names.length) }, async () => {
      for (let i = next++; i < names.length; i = next++) {
        await retryTransient(failures, () => client.resources.apply({ resourceJson: calicoResource('Node', names[i]!, {}) }), 30, 1000);
      }
    }),
  );
  return failures;
}

/** Go's time.Now().UTC().String() layout, as the agent stores it in the `timestamp` attribute. */
function calicoTimestamp(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000000 +0000 UTC`;
}

/** An AutoAssign for one pod exactly as the node agent sends it for a CNI ADD. */
export function podAutoAssign(node: string, handleId: string, pod: string): AutoAssignRequest {
  return {
    num4: 1,
    num6: 0,
    handleId,
    attributes: { node, namespace: 'default', pod, timestamp: calicoTimestamp(new Date()) },
    hostname: node,
    ipv4Pools: [],
    ipv6Pools: [],
    maxBlocksPerHost: 0,
    intendedUse: IntendedUse.INTENDED_USE_WORKLOAD,
    namespaceLabels: {},
    allOrNothing: true,
  };
}

export interface Agents {
  agents: AgentProcess[];
  /** Stops these agents (by PID) and removes their socket directory. */
  stop(): Promise<void>;
}

/**
 * Starts one atoll-node-agent per node name (no Kubernetes: `--labels`), and waits until
 * each has registered its Node with the allocator (an ADD before that is refused).
 */
export async function startAgents(teardown: Teardown, allocator: Allocator, nodeNames: readonly string[], extraArgs: readonly string[] = []): Promise<Agents> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-bench-agents-'));
  const agents: AgentProcess[] = [];
  const stop = teardown.add(`${nodeNames.length} node agents`, async () => {
    for (const a of agents) await a.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (const name of nodeNames) {
    agents.push(await startAgentProcess({ nodeName: name, allocator: allocator.process.address, socket: path.join(dir, name, 'agent.sock'), labels: `bench=true`, extraArgs: ['--tunnel-resync-seconds', '3600', ...extraArgs] }));
  }
  const deadline = Date.now() + 30_000;
  for (const name of nodeNames) {
    for (;;) {
      const registered = await allocator.client.resources.get({ kind: 'Node', name }).then(() => true, () => false);
      if (registered) break;
      if (Date.now() > deadline) throw new Error(`node agent ${name} did not register its Node within 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { agents, stop };
}

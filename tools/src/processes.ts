import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { connectAllocator } from '@atoll/api';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { freePort } from '../etcd/launcher';

// Starting Atoll's binaries as real processes for tests and scripts, and stopping them
// by PID. Binaries come from dist/bin (built by `npm run build` / each app's build target).

// run-ts.js bundles scripts into a temporary directory and says where the repository is.
export const REPO_ROOT = process.env['ATOLL_REPO_ROOT'] ?? path.resolve(__dirname, '../..');
export const binPath = (name: string) => path.join(REPO_ROOT, 'dist/bin', name);

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and waits for exit (SIGKILL after `graceMs`). Resolves the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export function startProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): ManagedProcess {
  const child = spawn(command, [...args], { env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin!.end(input);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    // e.g. the binary is missing: report it in output() instead of crashing the caller
    child.once('error', (err) => {
      out += `failed to start ${command}: ${err.message}\n`;
      resolve(null);
    });
  });
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return child.exitCode;
    },
  };
}

/** Waits for a process started by startProcess to exit, with its stdout and stderr kept apart. */
export async function collectOutput(p: ManagedProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  p.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  p.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await p.exited;
  return { code, stdout, stderr };
}

export interface AllocatorProcess extends ManagedProcess {
  readonly address: string;
  readonly metricsUrl: string;
  readonly args: readonly string[];
}

/**
 * Starts dist/bin/atoll-allocator on free loopback ports and waits until it serves gRPC and
 * its /readyz answers 200 — its resource cache has loaded from etcd, so a test's first
 * request never meets "not read its pools yet".
 */
export async function startAllocatorProcess(opts: {
  etcdEndpoints: readonly string[];
  namespace?: string;
  extraArgs?: readonly string[];
  grpcPort?: number;
  metricsPort?: number;
  /** gRPC listen address instead of a free loopback port, e.g. "unix:/run/atoll/allocator.sock". */
  listen?: string;
  /** For the readiness check of an allocator started with TLS flags (in extraArgs). */
  credentials?: ChannelCredentials;
  /** false: wait for gRPC only, for an allocator that is meant to stay not ready (etcd unreachable). Default true. */
  waitForReady?: boolean;
  /** Added to the environment (e.g. LD_PRELOAD of libfaketime for a clock that jumps). */
  env?: NodeJS.ProcessEnv;
}): Promise<AllocatorProcess> {
  const grpcPort = opts.grpcPort ?? (await freePort());
  const metricsPort = opts.metricsPort ?? (await freePort());
  const args = [
    '--etcd-endpoints', opts.etcdEndpoints.join(','),
    '--listen', opts.listen ?? `127.0.0.1:${grpcPort}`,
    '--metrics-listen', `127.0.0.1:${metricsPort}`,
    '--log-level', 'warn',
    ...(opts.namespace ? ['--etcd-namespace', opts.namespace] : []),
    ...(opts.extraArgs ?? []),
  ];
  const proc = startProcess(binPath('atoll-allocator'), args, opts.env);
  const address = opts.listen ?? `127.0.0.1:${grpcPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const client = connectAllocator(address, { defaultTimeoutMs: 500, ...(opts.credentials && { credentials: opts.credentials }) });
  const serving = () => client.health.check({ service: '' }).then((r) => r.status === 'SERVING', () => false);
  // /readyz turns 200 once the resource cache has loaded (SERVING comes earlier).
  const ready = async () => (await serving()) && (opts.waitForReady === false || (await answersReady(metricsUrl)));
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.child.exitCode !== null) throw new Error(`atoll-allocator exited with ${proc.child.exitCode}: ${proc.output()}`);
      if (await ready()) break;
      if (Date.now() > deadline) {
        await proc.stop('SIGKILL');
        throw new Error(`atoll-allocator did not become ${opts.waitForReady === false ? 'healthy' : 'ready'}: ${proc.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    client.close();
  }
  return { ...proc, address, metricsUrl, args };
}

/** True when GET <url>/readyz answers 200 within half a second. */
async function answersReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** A fresh etcd key prefix for one test's allocator(s). */
export function testNamespace(): string {
  return `/atoll-test/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}/`;
}

export interface AgentProcess extends ManagedProcess {
  readonly socket: string;
  readonly metricsUrl: string;
  readonly nodeName: string;
}

/** Starts dist/bin/atoll-node-agent and waits until its socket accepts connections. */
export async function startAgentProcess(opts: {
  nodeName: string;
  allocator: string;
  socket: string;
  labels?: string;
  kubeconfig?: string;
  extraArgs?: readonly string[];
}): Promise<AgentProcess> {
  const metricsPort = await freePort();
  const args = [
    '--node-name', opts.nodeName,
    '--allocator', opts.allocator,
    '--socket', opts.socket,
    '--metrics-listen', `127.0.0.1:${metricsPort}`,
    '--log-level', 'warn',
    ...(opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig] : ['--labels', opts.labels ?? '']),
    ...(opts.extraArgs ?? []),
  ];
  const proc = startProcess(binPath('atoll-node-agent'), args);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`atoll-node-agent exited with ${proc.child.exitCode}: ${proc.output()}`);
    if (await canConnect(opts.socket)) break;
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`atoll-node-agent did not open its socket: ${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ...proc, socket: opts.socket, metricsUrl: `http://127.0.0.1:${metricsPort}`, nodeName: opts.nodeName };
}

/** True when a unix socket accepts a connection now (the connection is closed at once). */
export function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socketPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Sends one request line to an agent socket and returns the parsed response line. */
export function agentRequest(socketPath: string, request: object | string): Promise<{ result?: string; error?: { code: number; msg: string; details?: string } }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socketPath);
    let buf = '';
    c.on('data', (d: Buffer) => (buf += d.toString()));
    c.on('end', () => {
      try {
        resolve(JSON.parse(buf.split('\n')[0]!));
      } catch (err) {
        reject(new Error(`bad response ${JSON.stringify(buf)}: ${(err as Error).message}`));
      }
    });
    c.on('error', reject);
    c.write(typeof request === 'string' ? request : `${JSON.stringify(request)}\n`);
  });
}

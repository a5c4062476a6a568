import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { connectAllocator } from '@atoll/api';
import { freePort, startEtcdCluster, type EtcdCluster } from '../../../tools/etcd/launcher';

// The real thing for process tests: a private etcd, dist/bin/atoll-allocator as a child
// process against it, and dist/bin/atollctl run as a process per command. Every process is
// stopped by its PID.

const ROOT = path.resolve(__dirname, '../../..');
export const ALLOCATOR_BIN = path.join(ROOT, 'dist/bin/atoll-allocator');
export const ATOLLCTL_BIN = path.join(ROOT, 'dist/bin/atollctl');

export interface CtlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Stack {
  readonly etcd: EtcdCluster;
  readonly allocatorPid: number;
  /** host:port of the allocator's gRPC server. */
  readonly address: string;
  /** Runs dist/bin/atollctl with ATOLL_ALLOCATOR pointing at this stack's allocator. */
  ctl(args: readonly string[], opts?: { stdin?: string; env?: Record<string, string> }): Promise<CtlResult>;
  /** Stops the allocator process and starts a new one on the same etcd and address. */
  restartAllocator(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** More flags for atoll-allocator (e.g. --history-retention). */
  readonly allocatorArgs?: readonly string[];
}

export function runAtollctlBinary(args: readonly string[], env: Record<string, string>, stdin?: string): Promise<CtlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(ATOLLCTL_BIN, [...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      if (code === null) reject(err);
      else resolve({ code, stdout, stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}

async function waitServing(address: string, child: ChildProcess, output: () => string): Promise<void> {
  const client = connectAllocator(address, { defaultTimeoutMs: 500 });
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`atoll-allocator exited with ${child.exitCode}: ${output()}`);
      const serving = await client.health.check({ service: '' }).then(
        (r) => r.status === 'SERVING',
        () => false,
      );
      if (serving) return;
      if (Date.now() > deadline) throw new Error(`atoll-allocator did not serve on ${address} within 20 s: ${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}

export function stopPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}

async function spawnAllocator(etcd: EtcdCluster, address: string, metricsPort: number, extra: readonly string[]): Promise<ChildProcess> {
  const allocator = spawn(
    ALLOCATOR_BIN,
    ['--etcd-endpoints', etcd.endpoints.join(','), '--listen', address, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--log-level', 'warn', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  allocator.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  allocator.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await waitServing(address, allocator, () => output);
  } catch (err) {
    await stopPid(allocator);
    throw err;
  }
  return allocator;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const etcd = await startEtcdCluster();
  let allocator: ChildProcess | undefined;
  try {
    const port = await freePort();
    const metricsPort = await freePort();
    const address = `127.0.0.1:${port}`;
    const extra = opts.allocatorArgs ?? [];
    allocator = await spawnAllocator(etcd, address, metricsPort, extra);
    return {
      etcd,
      get allocatorPid() {
        return allocator!.pid!;
      },
      address,
      ctl: (args, o = {}) => runAtollctlBinary(args, { ATOLL_ALLOCATOR: address, ...o.env }, o.stdin),
      async restartAllocator() {
        await stopPid(allocator!);
        allocator = await spawnAllocator(etcd, address, metricsPort, extra);
      },
      async stop() {
        await stopPid(allocator!);
        await etcd.stop();
      },
    };
  } catch (err) {
    if (allocator) await stopPid(allocator);
    await etcd.stop();
    throw err;
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { connectAllocator } from '@atoll/api';
import { freePort } from '../etcd/launcher';

// Starting Atoll's binaries as real processes for tests and scripts, and stopping them
// by PID. Binaries come from dist/bin (built by `npm run build` / each app's build target).

export const REPO_ROOT = path.resolve(__dirname, '../..');
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

export function startProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ManagedProcess {
  const child = spawn(command, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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

export interface AllocatorProcess extends ManagedProcess {
  readonly address: string;
  readonly metricsUrl: string;
  readonly args: readonly string[];
}

/** Starts dist/bin/atoll-allocator on free loopback ports and waits until it serves. */
export async function startAllocatorProcess(opts: {
  etcdEndpoints: readonly string[];
  namespace?: string;
  extraArgs?: readonly string[];
  grpcPort?: number;
  metricsPort?: number;
}): Promise<AllocatorProcess> {
  const grpcPort = opts.grpcPort ?? (await freePort());
  const metricsPort = opts.metricsPort ?? (await freePort());
  const args = [
    '--etcd-endpoints', opts.etcdEndpoints.join(','),
    '--listen', `127.0.0.1:${grpcPort}`,
    '--metrics-listen', `127.0.0.1:${metricsPort}`,
    '--log-level', 'warn',
    ...(opts.namespace ? ['--etcd-namespace', opts.namespace] : []),
    ...(opts.extraArgs ?? []),
  ];
  const proc = startProcess(binPath('atoll-allocator'), args);
  const address = `127.0.0.1:${grpcPort}`;
  const client = connectAllocator(address, { defaultTimeoutMs: 500 });
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.child.exitCode !== null) throw new Error(`atoll-allocator exited with ${proc.child.exitCode}: ${proc.output()}`);
      const ok = await client.health.check({ service: '' }).then((r) => r.status === 'SERVING', () => false);
      if (ok) break;
      if (Date.now() > deadline) {
        await proc.stop('SIGKILL');
        throw new Error(`atoll-allocator did not become healthy: ${proc.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    client.close();
  }
  return { ...proc, address, metricsUrl: `http://127.0.0.1:${metricsPort}`, args };
}

/** A fresh etcd key prefix for one test's allocator(s). */
export function testNamespace(): string {
  return `/atoll-test/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}/`;
}

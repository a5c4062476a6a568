import { spawn } from 'node:child_process';
import path from 'node:path';

// Runs the built dist/bin/atoll-ipam as a runtime would: a fresh process, the CNI
// environment, the configuration on stdin. The environment is minimal on purpose (PATH
// for the #! line, nothing else), like a runtime's exec, and so NODE_EXTRA_CA_CERTS from
// this machine does not slow every run down.

export const PLUGIN_BINARY = path.resolve(__dirname, '../../../dist/bin/atoll-ipam');
export const DIST_BIN = path.dirname(PLUGIN_BINARY);

export interface BinaryRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

export function runPluginBinary(env: Record<string, string>, stdin: string, args: readonly string[] = []): Promise<BinaryRun> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(PLUGIN_BINARY, [...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
}

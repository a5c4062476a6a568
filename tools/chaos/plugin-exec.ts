import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildPluginConfig } from '../netns';
import { binPath } from '../src/processes';

// One exec of the real atoll-ipam binary, as a container runtime does it for IPAM (no main
// plugin, no namespace): CNI_* environment, the network configuration on stdin, the result
// or the CNI error on stdout. Bounded: a call still running after `boundMs` is killed and
// reported as hung.

export const CHAOS_NETWORK = 'k8s-pod-network';

export interface IpamCall {
  readonly command: 'ADD' | 'DEL';
  readonly socket: string;
  readonly containerId: string;
  readonly namespace: string;
  readonly pod: string;
  /** DEL: the ADD result, as libcni passes it. */
  readonly prevResult?: unknown;
  readonly boundMs: number;
}

export interface IpamOutcome {
  readonly ok: boolean;
  /** The CNI error code on failure; -1 when the plugin printed no CNI error, 0 on success. */
  readonly code: number;
  readonly msg: string;
  /** Addresses of a successful ADD, without prefix length. */
  readonly ips: readonly string[];
  readonly result?: unknown;
  readonly ms: number;
  readonly hung: boolean;
  readonly stderr: string;
}

/** The environment a runtime gives the plugin: its own, not this process's. */
function pluginEnv(call: IpamCall): Record<string, string> {
  return {
    PATH: PLUGIN_PATH_ENV,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: `/var/run/netns/${call.containerId}`,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${call.namespace};K8S_POD_NAME=${call.pod}`,
    CNI_PATH: path.dirname(binPath('atoll-ipam')),
  };
}

export function ipamConfig(socket: string): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: CHAOS_NETWORK, type: 'bridge', bridge: 'atoll0', ipam: { type: 'atoll-ipam', agent_socket: socket } };
}

export interface RawExec {
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
  readonly boundMs: number;
}

export interface RawOutcome {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly hung: boolean;
  readonly spawnError?: string;
}

/** Runs dist/bin/atoll-ipam with exactly `env` (nothing inherited) and `stdin`; kills it after `boundMs`. */
export function execPluginRaw(call: RawExec): Promise<RawOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(binPath('atoll-ipam'), [], { env: { ...call.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    let settled = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.stdin.end(call.stdin);
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, call.boundMs);
    const settle = (exitCode: number | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr, ms: performance.now() - started, hung, ...(spawnError && { spawnError: spawnError.message }) });
    };
    child.once('error', (err) => settle(null, err));
    child.once('close', (exitCode) => settle(exitCode));
  });
}

/** The PATH a runtime gives plugins, with this Node first (the plugin's shebang needs node). */
export const PLUGIN_PATH_ENV = `${path.dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

export async function execIpam(call: IpamCall): Promise<IpamOutcome> {
  const stdin = buildPluginConfig({
    pluginDir: '',
    plugin: 'atoll-ipam',
    command: call.command,
    config: ipamConfig(call.socket),
    ...(call.prevResult !== undefined && { prevResult: call.prevResult }),
  });
  const raw = await execPluginRaw({ env: pluginEnv(call), stdin, boundMs: call.boundMs });
  let parsed: unknown;
  try {
    parsed = raw.stdout.trim() === '' ? undefined : JSON.parse(raw.stdout);
  } catch {
    parsed = undefined;
  }
  const base = { ms: raw.ms, hung: raw.hung, stderr: raw.stderr };
  if (raw.exitCode === 0 && !raw.hung) {
    const ips = ((parsed as { ips?: { address?: string }[] } | undefined)?.ips ?? []).map((i) => String(i.address ?? '').split('/')[0]!);
    return { ok: true, code: 0, msg: '', ips, ...(parsed !== undefined && { result: parsed }), ...base };
  }
  const err = parsed as { code?: unknown; msg?: unknown } | undefined;
  const code = !raw.hung && typeof err?.code === 'number' ? err.code : -1;
  const msg = raw.hung
    ? `did not finish within ${call.boundMs} ms`
    : (raw.spawnError ?? (typeof err?.msg === 'string' ? err.msg : `exit ${raw.exitCode}, stdout ${JSON.stringify(raw.stdout.slice(0, 200))}`));
  return { ok: false, code, msg, ips: [], ...base };
}

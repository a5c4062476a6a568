// CNI plugin executions as a container runtime makes them (tools/netns/cni-runtime.ts),
// timed from spawn to exit, for Atoll's IPAM plugin and for host-local side by side.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCniPlugin, type CniRunResult, type RunCniPluginOptions } from '../netns';
import { binPath } from '../src/processes';

/** Where the runtime looks for plugins: Debian's reference plugins, then Atoll's dist/bin. */
export const CNI_PATH = `/usr/lib/cni:${path.dirname(binPath('atoll-ipam'))}`;
export const HOST_LOCAL = '/usr/lib/cni/host-local';

export interface IpamVariant {
  /** Name in results: atoll-ipam, atoll-ipam-sea, host-local. */
  name: string;
  /** The network configuration's `ipam` section. */
  ipam: Record<string, unknown>;
  /** The network name (first part of Atoll's handles). */
  network: string;
}

export function atollVariant(binary: 'atoll-ipam' | 'atoll-ipam-sea', agentSocket: string): IpamVariant {
  return { name: binary, network: 'k8s-pod-network', ipam: { type: binary, agent_socket: agentSocket } };
}

export function hostLocalVariant(subnet: string, dataDir: string): IpamVariant {
  return { name: 'host-local', network: 'bench-host-local', ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir } };
}

/** The single-executable plugin, when `npx nx run @atoll/cni-plugin:sea` has built it. */
export function seaAvailable(): boolean {
  return fs.existsSync(binPath('atoll-ipam-sea'));
}

export interface TimedRun extends CniRunResult {
  ms: number;
}

/** One CNI command, timed from spawn to exit; throws when the plugin exits non-zero. */
export async function timedCni(opts: RunCniPluginOptions): Promise<TimedRun> {
  const t0 = performance.now();
  const r = await runCniPlugin(opts);
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${opts.plugin}${opts.plugin === 'bridge' ? `/${String((opts.config['ipam'] as { type?: string })?.type)}` : ''} ${opts.command} ${opts.containerId ?? ''} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return { ...r, ms };
}

/** The IPAM plugin alone, run by the runtime's rules (as bridge would run it). */
export function ipamCall(variant: IpamVariant, command: 'ADD' | 'DEL', containerId: string, pod: string, prevResult?: unknown): RunCniPluginOptions {
  return {
    pluginDir: CNI_PATH,
    plugin: String(variant.ipam['type']),
    command,
    containerId,
    netnsPath: `/var/run/netns/${containerId}`,
    ifname: 'eth0',
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`,
    config: { cniVersion: '1.0.0', name: variant.network, type: 'bridge', ipam: variant.ipam },
    ...(prevResult !== undefined && { prevResult }),
  };
}

/** Addresses of an ADD result (CNI 1.0.0). */
export function resultAddresses(r: CniRunResult): string[] {
  return ((r.json as { ips?: { address: string }[] } | undefined)?.ips ?? []).map((i) => i.address);
}

/** Wall time of `node -e 0` with this environment: the floor of any Node plugin's exec. */
export function timedBareNode(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`node -e 0 exited ${code}`))));
  });
}

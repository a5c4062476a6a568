import fs from 'node:fs';
import path from 'node:path';

// --install-cni: what an init container does on each node — put the plugin binary into the
// CNI bin dir and the network configuration into the CNI config dir. The one binary serves
// under two names, as Calico's does: `atoll`, the main plugin that wires each pod (the agent
// does the work), and `atoll-ipam`, the IPAM plugin for use under another main plugin.
// Everything is written to a temporary name and renamed, so the container runtime never
// reads a half-written file.

export const MAIN_PLUGIN_NAME = 'atoll';
export const IPAM_PLUGIN_NAME = 'atoll-ipam';

export interface InstallCniOptions {
  readonly binDir: string;
  readonly confDir: string;
  readonly confName: string;
  readonly networkName: string;
  readonly pluginPath: string;
  readonly socket: string;
  readonly mtu: number;
  /** Every pod gets an IPv6 address too (Calico's ipam.assign_ipv6). */
  readonly assignIpv6: boolean;
}

export function conflist(opts: Pick<InstallCniOptions, 'networkName' | 'socket' | 'mtu' | 'assignIpv6'>): object {
  return {
    cniVersion: '1.0.0',
    name: opts.networkName,
    plugins: [
      {
        // Each pod: a veth pair, its address as /32 (/128), a default route through
        // 169.254.1.1 (IPv6: the host side's link-local address), a host route to the pod.
        type: MAIN_PLUGIN_NAME,
        mtu: opts.mtu,
        ipam: { type: IPAM_PLUGIN_NAME, agent_socket: opts.socket, ...(opts.assignIpv6 && { assign_ipv6: 'true' }) },
      },
    ],
  };
}

function writeAtomically(target: string, write: (tmp: string) => void, mode: number | undefined): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    write(tmp);
    if (mode !== undefined) fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, target);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export function installCni(opts: InstallCniOptions): { plugin: string; mainPlugin: string; config: string } {
  if (!fs.existsSync(opts.pluginPath)) {
    throw new Error(`--cni-plugin-path: ${opts.pluginPath} does not exist (build it with npm run build, or point the flag at atoll-ipam)`);
  }
  const plugin = path.join(opts.binDir, IPAM_PLUGIN_NAME);
  writeAtomically(plugin, (tmp) => fs.copyFileSync(opts.pluginPath, tmp), 0o755);
  // A relative symlink: the single executable is large, and both names must be the same build.
  const mainPlugin = path.join(opts.binDir, MAIN_PLUGIN_NAME);
  writeAtomically(mainPlugin, (tmp) => fs.symlinkSync(IPAM_PLUGIN_NAME, tmp), undefined);
  const config = path.join(opts.confDir, opts.confName);
  writeAtomically(config, (tmp) => fs.writeFileSync(tmp, `${JSON.stringify(conflist(opts), null, 2)}\n`), 0o644);
  return { plugin, mainPlugin, config };
}

import fs from 'node:fs';
import path from 'node:path';

// --install-cni: what an init container does on each node — put the plugin binary into the
// CNI bin dir and the network configuration (ptp + atoll-ipam) into the CNI config dir.
// Both are written to a temporary name and renamed, so the container runtime never reads a
// half-written file.

export interface InstallCniOptions {
  readonly binDir: string;
  readonly confDir: string;
  readonly confName: string;
  readonly networkName: string;
  readonly pluginPath: string;
  readonly socket: string;
}

export function conflist(opts: Pick<InstallCniOptions, 'networkName' | 'socket'>): object {
  return {
    cniVersion: '1.0.0',
    name: opts.networkName,
    plugins: [
      {
        type: 'ptp',
        mtu: 1500,
        // ptp puts the gateway on the host side of each veth and routes the pod's default
        // route through it; a link-local address never collides with a pod's.
        ipam: { type: 'atoll-ipam', agent_socket: opts.socket, ipv4_gateway: '169.254.1.1' },
      },
    ],
  };
}

function writeAtomically(target: string, write: (tmp: string) => void, mode: number): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    write(tmp);
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, target);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export function installCni(opts: InstallCniOptions): { plugin: string; config: string } {
  if (!fs.existsSync(opts.pluginPath)) {
    throw new Error(`--cni-plugin-path: ${opts.pluginPath} does not exist (build it with npm run build, or point the flag at atoll-ipam)`);
  }
  const plugin = path.join(opts.binDir, 'atoll-ipam');
  writeAtomically(plugin, (tmp) => fs.copyFileSync(opts.pluginPath, tmp), 0o755);
  const config = path.join(opts.confDir, opts.confName);
  writeAtomically(config, (tmp) => fs.writeFileSync(tmp, `${JSON.stringify(conflist(opts), null, 2)}\n`), 0o644);
  return { plugin, config };
}

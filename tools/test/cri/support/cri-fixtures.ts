import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../../../netns/netns';

// Shared pieces of the containerd tests: CNI configurations written to a node's conf dir,
// and probes of what is left on the machine.

/** A bridge + host-local network list; host-local keeps its state in `dataDir`, not /var/lib/cni. */
export function writeBridgeConflist(confDir: string, opts: { name: string; bridge: string; subnet: string; dataDir: string; ipamType?: string }): void {
  fs.mkdirSync(confDir, { recursive: true });
  const conflist = {
    cniVersion: '1.0.0',
    name: opts.name,
    plugins: [
      {
        type: 'bridge',
        bridge: opts.bridge,
        isGateway: true,
        isDefaultGateway: true,
        ipMasq: false,
        ipam: { type: opts.ipamType ?? 'host-local', ranges: [[{ subnet: opts.subnet }]], dataDir: opts.dataDir },
      },
    ],
  };
  fs.writeFileSync(path.join(confDir, `10-${opts.name}.conflist`), JSON.stringify(conflist, null, 2));
}

/** `ping -c1 -W1` from inside the network namespace at `netnsPath`; resolves the exit code. */
export async function pingFrom(netnsPath: string, address: string): Promise<number> {
  const r = await runCommand('nsenter', [`--net=${netnsPath}`, 'ping', '-c1', '-W1', address]);
  return r.code;
}

/** The cgroup directories of `parent` that exist in any hierarchy. */
export function cgroupDirsOf(parent: string): string[] {
  return ['', ...fs.readdirSync('/sys/fs/cgroup')].map((h) => path.join('/sys/fs/cgroup', h, parent)).filter((d) => fs.existsSync(d));
}

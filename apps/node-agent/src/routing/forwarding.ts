import fs from 'node:fs';

// A node that routes other nodes' pod traffic must forward packets. /proc/sys/net shows the
// network namespace of the process that opens it, so the agent sets its own namespace's.
// Only with --routing=host-gw; IPv6 only when this node has an IPv6 address (forwarding
// turns off router advertisements on interfaces that accept them by default).

export const IPV4_FORWARDING = '/proc/sys/net/ipv4/ip_forward';
export const IPV6_FORWARDING = '/proc/sys/net/ipv6/conf/all/forwarding';

export interface SysctlFiles {
  read(path: string): Promise<string>;
  write(path: string, value: string): Promise<void>;
}

export const procSysctls: SysctlFiles = {
  read: (path) => fs.promises.readFile(path, 'utf8'),
  write: (path, value) => fs.promises.writeFile(path, value),
};

/** Turns forwarding on where it is off; returns the files it changed. */
export async function enableForwarding(files: SysctlFiles, opts: { ipv6: boolean }): Promise<string[]> {
  const changed: string[] = [];
  for (const path of opts.ipv6 ? [IPV4_FORWARDING, IPV6_FORWARDING] : [IPV4_FORWARDING]) {
    if ((await files.read(path)).trim() === '1') continue;
    await files.write(path, '1');
    changed.push(path);
  }
  return changed;
}

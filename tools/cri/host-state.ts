import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../netns/netns';

// The machine-wide state a containerd node touches outside its own directory, and the
// narrow ways to remove exactly its own part of it: nothing here lists or deletes by
// pattern beyond ids and paths the caller owns.

export const SHIM_SOCKET_DIR = '/run/containerd/s';
export const CNI_RESULTS_DIR = '/var/lib/cni/results';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a live process ('' when it is gone). */
export function processCommandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** PIDs of other processes whose command line names `dir` or a path below it. */
export function processesMentioningPath(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    if (args.some((a) => a === dir || a.startsWith(`${dir}/`) || a.startsWith(`--net=${dir}/`) || a.startsWith(`unix://${dir}/`))) pids.push(Number(entry));
  }
  return pids;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminateProcess(pid: number, graceMs = 5000): Promise<void> {
  const gone = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!isProcessAlive(pid) || isZombie(pid)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return !isProcessAlive(pid) || isZombie(pid);
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await gone(graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone(5000);
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Where containerd 1.6's runc v2 shim puts its socket: sha256(<grpc address>/<namespace>/<id>). */
export function shimSocketPath(grpcAddress: string, namespace: string, id: string): string {
  return path.join(SHIM_SOCKET_DIR, createHash('sha256').update(path.join(grpcAddress, namespace, id)).digest('hex'));
}

/** libcni's cached results for these container ids (`<network>-<id>-<ifname>`). */
export function cniResultFiles(ids: readonly string[]): string[] {
  if (!ids.length || !fs.existsSync(CNI_RESULTS_DIR)) return [];
  return fs.readdirSync(CNI_RESULTS_DIR)
    .filter((f) => ids.some((id) => f.includes(`-${id}-`)))
    .map((f) => path.join(CNI_RESULTS_DIR, f));
}

/** Mount points at or below `dir` (from this process's mountinfo), deepest first. */
export function mountsUnder(dir: string): string[] {
  const root = path.resolve(dir);
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === root || p.startsWith(`${root}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything below `dir` (lazily when busy). Returns what could not be unmounted. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const failed: string[] = [];
  for (const point of mountsUnder(dir)) {
    const r = await runCommand('umount', [point]);
    if (r.code !== 0 && (await runCommand('umount', ['-l', point])).code !== 0) failed.push(point);
  }
  return failed;
}

/** Mount points of every cgroup hierarchy (v1 controllers and the v2 unified tree). */
function cgroupMountPoints(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(' ')[4]!)
    .filter(Boolean);
}

/** A node's cgroup parent: one plain segment below the hierarchy roots, e.g. /atoll-cri-…-node-1. */
export const PLAIN_CGROUP = /^\/[A-Za-z0-9_.-]+$/;

function cgroupDirs(parent: string): string[] {
  if (!PLAIN_CGROUP.test(parent)) throw new Error(`refusing cgroup ${JSON.stringify(parent)}: expected one plain path segment`);
  return cgroupMountPoints()
    .map((mount) => path.join(mount, parent))
    .filter((dir) => fs.existsSync(dir));
}

/** Names of the cgroups directly below `parent`, in any hierarchy (a node's sandbox ids). */
export function cgroupChildren(parent: string): string[] {
  const names = cgroupDirs(parent).flatMap((dir) => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
  return [...new Set(names)];
}

/** Names of the top-level cgroups in every hierarchy. */
export function topLevelCgroupNames(): string[] {
  const names = cgroupMountPoints().flatMap((mount) => fs.readdirSync(mount, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
  return [...new Set(names)];
}

/** PIDs of the processes in `parent` or any cgroup below it, in any hierarchy. */
export function processesInCgroup(parent: string): number[] {
  const pids = new Set<number>();
  const visit = (dir: string) => {
    const procs = path.join(dir, 'cgroup.procs');
    if (fs.existsSync(procs)) for (const line of fs.readFileSync(procs, 'utf8').split('\n')) if (line) pids.add(Number(line));
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) visit(path.join(dir, e.name));
  };
  for (const dir of cgroupDirs(parent)) visit(dir);
  pids.delete(process.pid);
  return [...pids];
}

/**
 * Removes the cgroup `parent` (e.g. "/atoll-cri-…-node-1") and every cgroup below it in
 * every hierarchy, deepest first. Cgroups still holding processes stay (and are returned).
 */
export function removeCgroupTree(parent: string): string[] {
  const left: string[] = [];
  const removeTree = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(path.join(dir, entry.name));
    try {
      fs.rmdirSync(dir);
    } catch {
      left.push(dir);
    }
  };
  for (const dir of cgroupDirs(parent)) removeTree(dir);
  return left;
}

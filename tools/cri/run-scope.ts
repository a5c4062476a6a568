import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listNetnsWithPrefix, NETNS_DIR, runCommand } from '../netns/netns';
import { cleanupCgroupParent, cleanupNodeState, type NodeRecord } from './containerd-node';
import { isProcessAlive, processesMentioningPath, terminateProcess, topLevelCgroupNames, unmountUnder } from './host-state';

// One name prefix per run, carrying the PID of the process that owns the run:
// `<base><pid>x<random>-`. Everything a run creates on the machine (network namespaces,
// its temporary directory) starts with it, so a later run can sweep what a crashed run
// left — and only that: a prefix whose owner still runs is never touched.

export const DEFAULT_RUN_BASE = 'atoll-cri-';

export function createRunPrefix(base = DEFAULT_RUN_BASE): string {
  return `${base}${process.pid}x${randomBytes(3).toString('hex')}-`;
}

/** The owner PID in a name made from createRunPrefix(base), or null when it is not one. */
export function runOwnerPid(name: string, base = DEFAULT_RUN_BASE): number | null {
  if (!name.startsWith(base)) return null;
  const m = /^(\d+)x[0-9a-f]+-/.exec(name.slice(base.length));
  return m ? Number(m[1]) : null;
}

/** A fresh directory for the run's files: `<tmp>/<prefix>work`. */
export function createRunWorkDir(prefix: string, tmpRoot = os.tmpdir()): string {
  const dir = path.join(tmpRoot, `${prefix}work`);
  fs.mkdirSync(dir);
  return dir;
}

export interface SweepReport {
  readonly namespaces: readonly string[];
  readonly dirs: readonly string[];
  readonly processes: readonly number[];
  readonly problems: readonly string[];
}

function nodeRecordsUnder(dir: string): NodeRecord[] {
  const records: NodeRecord[] = [];
  const visit = (d: string, depth: number) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isFile() && entry.name === 'node.json') {
        try {
          records.push(JSON.parse(fs.readFileSync(p, 'utf8')) as NodeRecord);
        } catch {
          /* a record cut short by the crash: the process scan below still finds its containerd */
        }
      } else if (entry.isDirectory() && !entry.isSymbolicLink() && depth < 2) visit(p, depth + 1);
    }
  };
  visit(dir, 0);
  return records;
}

/**
 * Removes a run's directory and what runs from it: every containerd node recorded below it
 * (cleanupNodeState), any other process whose command line names a path in it, its mounts.
 * For a test's teardown as much as for sweeps; a directory that is gone is fine.
 */
export async function removeRunDir(dir: string): Promise<{ processes: number[]; problems: string[] }> {
  const processes: number[] = [];
  const problems: string[] = [];
  if (!fs.existsSync(dir)) return { processes, problems };
  for (const record of nodeRecordsUnder(dir)) problems.push(...(await cleanupNodeState(record)).problems);
  for (const pid of processesMentioningPath(dir)) {
    processes.push(pid);
    await terminateProcess(pid, 1000);
  }
  const busy = await unmountUnder(dir);
  problems.push(...busy.map((m) => `still mounted: ${m}`));
  if (!busy.length) fs.rmSync(dir, { recursive: true, force: true });
  return { processes, problems };
}

/**
 * Removes what earlier runs with this base left behind when their owner process is gone:
 * each containerd node recorded in their directories (see cleanupNodeState), any process
 * still running from those directories, the directories, cgroups named after the run (what
 * runs in them, and libcni's cache of their sandboxes), and their network namespaces.
 */
export async function sweepStaleRuns(base = DEFAULT_RUN_BASE, tmpRoot = os.tmpdir()): Promise<SweepReport> {
  if (base.length < 3) throw new Error(`refusing to sweep by the prefix ${JSON.stringify(base)}`);
  const stale = (name: string) => {
    const owner = runOwnerPid(name, base);
    return owner !== null && owner !== process.pid && !isProcessAlive(owner);
  };
  const dirs = fs.existsSync(tmpRoot) ? fs.readdirSync(tmpRoot).filter(stale).map((n) => path.join(tmpRoot, n)) : [];
  const processes: number[] = [];
  const problems: string[] = [];
  for (const dir of dirs) {
    const removed = await removeRunDir(dir);
    processes.push(...removed.processes);
    problems.push(...removed.problems);
  }
  // cgroup parents of nodes whose record was lost with their directory
  for (const name of topLevelCgroupNames().filter(stale)) problems.push(...(await cleanupCgroupParent(`/${name}`)).problems);
  const namespaces = listNetnsWithPrefix(base).filter(stale);
  for (const name of namespaces) {
    const r = await runCommand('ip', ['netns', 'delete', name]);
    if (r.code !== 0 && fs.existsSync(path.join(NETNS_DIR, name))) problems.push(`ip netns delete ${name}: ${r.stderr.trim()}`);
  }
  return { namespaces, dirs, processes, problems };
}

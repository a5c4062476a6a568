// What a benchmark ran on, and what processes cost: the facts every result carries, so
// that a number read later can be judged against the machine (and its other work) that
// produced it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { findEtcdBinary } from '../etcd/launcher';

/** Whether the calling environment had NODE_EXTRA_CA_CERTS before `unsetExtraCaCerts`. */
let extraCaCertsWasSet: boolean | undefined;

/**
 * Removes NODE_EXTRA_CA_CERTS (and NODE_OPTIONS) from this process's environment, so every
 * process a benchmark starts afterwards inherits an environment without them: on these
 * machines NODE_EXTRA_CA_CERTS adds ~70 ms to every Node start, and a container runtime's
 * exec of a CNI plugin does not have it. Call first thing in main().
 */
export function unsetExtraCaCerts(): void {
  // run-all.ts unsets it before starting each benchmark and says so in this variable
  extraCaCertsWasSet ??= process.env['NODE_EXTRA_CA_CERTS'] !== undefined || process.env[WAS_SET_MARK] === '1';
  if (extraCaCertsWasSet) process.env[WAS_SET_MARK] = '1';
  delete process.env['NODE_EXTRA_CA_CERTS'];
  delete process.env['NODE_OPTIONS'];
}

const WAS_SET_MARK = 'ATOLL_BENCH_NODE_EXTRA_CA_CERTS_WAS_SET';

export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  nodeVersion: string;
  etcdVersion: string;
  /** The note every process-start figure depends on. */
  nodeExtraCaCerts: string;
  /** Share of both cores busy (any process) during the second before the benchmark started. */
  cpuBusyBeforeStartPct: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  /** Share of both cores busy from start to end, every process counted (this benchmark's own too). */
  cpuBusyDuringRunPct?: number;
  startedAt: string;
}

let cpuAtStart: { busy: number; total: number } | undefined;

/** The machine facts, sampling how busy the machine is for `sampleMs` first. */
export async function machineFacts(sampleMs = 1000): Promise<MachineFacts> {
  const cpus = os.cpus();
  const busyBefore = await cpuBusyPct(sampleMs);
  cpuAtStart = cpuTimes();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    nodeVersion: process.version,
    etcdVersion: etcdVersion(),
    nodeExtraCaCerts: `unset for every process this benchmark starts (the calling environment ${extraCaCertsWasSet ? 'had it set' : 'did not set it'})`,
    cpuBusyBeforeStartPct: busyBefore,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    startedAt: new Date().toISOString(),
  };
}

/** Adds the load average at the end (other work on the machine shows up here too). */
export function finishMachineFacts(facts: MachineFacts): MachineFacts {
  const now = cpuTimes();
  const busy = cpuAtStart && now.total > cpuAtStart.total ? Math.round(((now.busy - cpuAtStart.busy) / (now.total - cpuAtStart.total)) * 1000) / 10 : undefined;
  return { ...facts, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100), ...(busy !== undefined && { cpuBusyDuringRunPct: busy }) };
}

function etcdVersion(): string {
  try {
    const out = execFileSync(findEtcdBinary(), ['--version'], { encoding: 'utf8' });
    return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? out.split('\n')[0]!.trim();
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

/** Machine-wide CPU counters (all cores, all processes) from /proc/stat, in clock ticks. */
export function cpuTimes(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!; // "cpu  user nice system idle iowait irq softirq steal …"
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** How busy all cores were over the next `ms` milliseconds, in percent. */
export async function cpuBusyPct(ms: number): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  const total = b.total - a.total;
  return total > 0 ? Math.round(((b.busy - a.busy) / total) * 1000) / 10 : 0;
}

/** Core-seconds the whole machine (every process, ours and others') was busy between two cpuTimes(). */
export function machineBusyCoreSeconds(a: { busy: number }, b: { busy: number }): number {
  return (b.busy - a.busy) / CLOCK_TICKS;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function statFields(pid: number | 'self'): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name may contain spaces; fields after it start at field 3 (state)
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) a live process has used so far. */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS; // fields 14 utime, 15 stime
}

/**
 * CPU seconds used by this process's children (and their descendants) that have exited
 * and been waited for: the cost of every plugin process a benchmark ran, as the kernel
 * counted it. Long-running children (etcd, allocator) count only once they exit.
 */
export function exitedChildrenCpuSeconds(): number {
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) / CLOCK_TICKS; // fields 16 cutime, 17 cstime
}

/** Resident memory of a live process (VmRSS) and its peak (VmHWM), in MiB. */
export function residentMemoryMiB(pid: number): { rssMiB: number; peakRssMiB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round((kib('VmRSS') / 1024) * 10) / 10, peakRssMiB: Math.round((kib('VmHWM') / 1024) * 10) / 10 };
}

/** Bytes under a directory (files only), like `du -b`. */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${entry.name}`;
    if (entry.isDirectory()) total += directoryBytes(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

import type { IpamOutcome } from './plugin-exec';

// Counts of what the load did: operations, failures by CNI code, the failures that were not
// "try again later" (each one a defect), calls that hit the time bound, and latencies.

export interface BadFailure {
  readonly command: string;
  readonly pod: string;
  readonly code: number;
  readonly msg: string;
  readonly atMs: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export class OpStats {
  readonly ops = { ADD: 0, DEL: 0 };
  probes = 0;
  readonly failuresByCode = new Map<string, number>();
  readonly badFailures: BadFailure[] = [];
  hangs = 0;
  private readonly latencies = { ADD: [] as number[], DEL: [] as number[] };

  constructor(private readonly t0 = performance.now()) {}

  get total(): number {
    return this.ops.ADD + this.ops.DEL;
  }

  record(command: 'ADD' | 'DEL', pod: string, r: IpamOutcome, probe = false): void {
    this.ops[command]++;
    if (probe) this.probes++;
    this.latencies[command].push(r.ms);
    if (r.hung) this.hangs++;
    if (r.ok) return;
    const key = r.hung ? 'hung' : String(r.code);
    this.failuresByCode.set(key, (this.failuresByCode.get(key) ?? 0) + 1);
    if (r.code !== 11 || r.hung) {
      this.badFailures.push({ command, pod, code: r.code, msg: r.msg, atMs: Math.round(performance.now() - this.t0) });
    }
  }

  failures(): number {
    return [...this.failuresByCode.values()].reduce((a, b) => a + b, 0);
  }

  latency(command: 'ADD' | 'DEL'): LatencySummary {
    const xs = [...this.latencies[command]].sort((a, b) => a - b);
    const at = (q: number) => (xs.length === 0 ? 0 : Math.round(xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!));
    return { count: xs.length, p50: at(0.5), p99: at(0.99), max: Math.round(xs.at(-1) ?? 0) };
  }
}

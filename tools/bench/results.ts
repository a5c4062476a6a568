// Summaries, targets and result files: every benchmark writes .bench/<name>.json (the
// directory is gitignored) and prints the same summary on stdout.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/processes';
import { finishMachineFacts, type MachineFacts } from './machine';
import { median, percentile, round } from './stats';

export interface LatencySummary {
  n: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  return {
    n: samplesMs.length,
    medianMs: round(median(samplesMs), 2),
    p90Ms: round(percentile(samplesMs, 90), 2),
    p99Ms: round(percentile(samplesMs, 99), 2),
    minMs: round(samplesMs.reduce((a, b) => Math.min(a, b), Infinity), 2),
    maxMs: round(samplesMs.reduce((a, b) => Math.max(a, b), -Infinity), 2),
  };
}

/** a / b, rounded; what a "×" in the tables means. */
export function ratio(a: number, b: number, digits = 2): number {
  return round(a / b, digits);
}

export interface Target {
  what: string;
  target: string;
  measured: number;
  unit: string;
  met: boolean;
}

export function target(what: string, measured: number, op: '<' | '<=' | '>=', threshold: number, unit: string): Target {
  const met = op === '<' ? measured < threshold : op === '<=' ? measured <= threshold : measured >= threshold;
  return { what, target: `${op} ${threshold}${unit ? ` ${unit}` : ''}`, measured: round(measured, 2), unit, met: Number.isFinite(measured) && met };
}

export const BENCH_DIR = path.join(REPO_ROOT, '.bench');

/** Writes .bench/<name>.json (and a copy in .bench/history/) and prints it (without `raw`) on stdout, targets last. */
export function writeResult(name: string, facts: MachineFacts, result: { targets: Target[]; raw?: unknown } & Record<string, unknown>): void {
  const full = { benchmark: name, machine: finishMachineFacts(facts), ...result, finishedAt: new Date().toISOString() };
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  const file = path.join(BENCH_DIR, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  // every run is also kept, so runs under different machine load can be compared
  fs.mkdirSync(path.join(BENCH_DIR, 'history'), { recursive: true });
  fs.writeFileSync(path.join(BENCH_DIR, 'history', `${name}-${full.finishedAt.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(full, null, 2)}\n`);
  const { raw: _raw, ...summary } = full;
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  for (const t of result.targets) process.stdout.write(`${t.met ? 'MET   ' : 'MISSED'}  ${t.what}: ${t.measured} ${t.unit} (target ${t.target})\n`);
  process.stdout.write(`wrote ${path.relative(REPO_ROOT, file)}\n`);
}

/** A number from the environment, or `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** Progress on stderr, so stdout stays the summary. */
export function progress(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Runs `fn` over `items` with at most `concurrency` at once; per-item latencies (ms) in item order. */
export async function boundedMap<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<{ results: R[]; latenciesMs: number[]; wallMs: number }> {
  const results = new Array<R>(items.length);
  const latenciesMs = new Array<number>(items.length);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        const t0 = performance.now();
        results[i] = await fn(items[i]!, i);
        latenciesMs[i] = performance.now() - t0;
      }
    }),
  );
  return { results, latenciesMs, wallMs: performance.now() - start };
}

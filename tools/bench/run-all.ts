// `npm run bench`: every benchmark, one after another (each starts and stops its own etcd
// and processes), at sizes that finish in a few minutes on a 2-core machine; then a
// summary of every target in .bench/summary.json. Sizes set in the environment win over
// the reduced defaults below (e.g. BENCH_SCALE_NODES=5000 BENCH_SCALE_ADDRESSES=150000).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/processes';
import { machineFacts, unsetExtraCaCerts } from './machine';
import { BENCH_DIR, progress, type Target } from './results';

const BENCHMARKS: { name: string; script: string; reduced: Record<string, string> }[] = [
  { name: 'engine', script: 'engine-bench.ts', reduced: { BENCH_TRIALS: '3' } },
  { name: 'cni', script: 'cni-bench.ts', reduced: { BENCH_CNI_PODS: '100', BENCH_CNI_NETNS_PODS: '20' } },
  { name: 'allocator', script: 'allocator-bench.ts', reduced: { BENCH_TRIALS: '1', BENCH_SEQUENTIAL: '100' } },
  { name: 'burst', script: 'burst-bench.ts', reduced: {} },
  { name: 'scale', script: 'scale-bench.ts', reduced: { BENCH_SCALE_NODES: '500', BENCH_SCALE_ADDRESSES: '15000' } },
  { name: 'contention', script: 'contention-bench.ts', reduced: {} },
  { name: 'pod-start', script: 'pod-start-bench.ts', reduced: { BENCH_POD_START_PODS: '30' } },
  { name: 'routes', script: 'routes-bench.ts', reduced: {} },
  { name: 'ui', script: 'ui-bench.ts', reduced: { BENCH_UI_RUNS: '3' } },
  { name: 'migrate', script: 'migrate-bench.ts', reduced: { BENCH_TRIALS: '1' } },
];

function run(script: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'tools/run-ts.js'), path.join(REPO_ROOT, 'tools/bench', script)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
    });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<void> {
  unsetExtraCaCerts();
  const only = process.argv.slice(2);
  const selected = BENCHMARKS.filter((b) => only.length === 0 || only.includes(b.name));
  const facts = await machineFacts();
  const started = Date.now();
  const outcomes: { name: string; exitCode: number; seconds: number; targets?: Target[] }[] = [];
  for (const b of selected) {
    progress(`=== ${b.name} (${b.script}) ===`);
    const reduced = Object.fromEntries(Object.entries(b.reduced).filter(([k]) => process.env[k] === undefined));
    const t0 = Date.now();
    const exitCode = await run(b.script, reduced);
    const file = path.join(BENCH_DIR, `${b.name}.json`);
    const fresh = fs.existsSync(file) && fs.statSync(file).mtimeMs >= t0;
    const targets = fresh ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { targets?: Target[] }).targets : undefined;
    outcomes.push({ name: b.name, exitCode, seconds: Math.round((Date.now() - t0) / 1000), ...(targets && { targets }) });
  }
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  fs.writeFileSync(path.join(BENCH_DIR, 'summary.json'), `${JSON.stringify({ machine: facts, totalSeconds: Math.round((Date.now() - started) / 1000), outcomes }, null, 2)}\n`);
  process.stdout.write('\n=== targets ===\n');
  for (const o of outcomes) {
    if (o.exitCode !== 0) process.stdout.write(`FAILED  ${o.name} (exit ${o.exitCode})\n`);
    for (const t of o.targets ?? []) process.stdout.write(`${t.met ? 'MET   ' : 'MISSED'}  ${o.name}: ${t.what}: ${t.measured} ${t.unit} (target ${t.target})\n`);
  }
  process.stdout.write(`total ${Math.round((Date.now() - started) / 1000)} s; results in .bench/\n`);
  if (outcomes.some((o) => o.exitCode !== 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

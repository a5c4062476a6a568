import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/processes';
import { parseFaultGroups } from './faults';
import { fromEnv, LONG_FORM, parseStickyPods } from './options';
import { formatReportLines } from './report';
import { runChaos } from './run-chaos';

// npm run chaos: the long form. Settings come from ATOLL_CHAOS_* variables (options.ts);
// progress goes to stderr, the summary lines and the JSON report to stdout, and the JSON
// to .bench/chaos.json (or ATOLL_CHAOS_OUT). Exit 0 only when every check passed.
// Ctrl-C stops the load early; the pods are still deleted and every process stopped.

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const faultsArg = args.find((a) => a.startsWith('--faults='));
  const stickyArg = args.find((a) => a.startsWith('--sticky-pods='));
  const unknown = args.filter((a) => a !== faultsArg && a !== stickyArg);
  if (unknown.length > 0) throw new Error(`unknown argument ${JSON.stringify(unknown[0])}; the only ones are --faults=<groups> and --sticky-pods=<n>`);
  const options = {
    ...fromEnv(LONG_FORM, process.env),
    ...(faultsArg && { faults: parseFaultGroups(faultsArg.slice('--faults='.length)) }),
    ...(stickyArg && { stickyPods: parseStickyPods(stickyArg.slice('--sticky-pods='.length)) }),
  };
  const out = process.env['ATOLL_CHAOS_OUT'] || path.join(REPO_ROOT, '.bench', 'chaos.json');
  const abort = new AbortController();
  const interrupt = () => {
    if (abort.signal.aborted) return;
    process.stderr.write('chaos: interrupted; deleting the pods and stopping every process\n');
    abort.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const started = Date.now();
  const log = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  log(`chaos long form: ${options.operations} operations, at least ${options.minFaults} faults (${options.faults.join(', ')}), ${options.concurrency} workers, ${options.stickyPods} sticky pods, seed ${options.seed}`);
  const report = await runChaos({ ...options, log, signal: abort.signal });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatReportLines(report).join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ operations: report.operations.total, faults: report.faults.byKind, failuresByCode: report.failures.byCode, duplicates: report.duplicates, leaks: report.leaks, lost: report.lost, hangs: report.hangs, verdict: report.verdict })}\n`);
  process.stdout.write(`report written to ${path.relative(process.cwd(), out) || out}\n`);
  return report.verdict === 'pass' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);

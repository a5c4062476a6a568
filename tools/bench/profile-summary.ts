// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. the allocator under
// BENCH_CPU_PROF_DIR): self time by package / area and the top functions, so a missed
// target can name what dominates.
// Usage: node tools/run-ts.js tools/bench/profile-summary.ts FILE.cpuprofile [top=25]
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** For a bundle file: the source module of each line, from esbuild's `// path` comments. */
const bundleMaps = new Map<string, { line: number; module: string }[]>();
function moduleAt(url: string, line: number): string | undefined {
  if (!url.startsWith('file://')) return undefined;
  let map = bundleMaps.get(url);
  if (!map) {
    map = [];
    try {
      fs.readFileSync(new URL(url), 'utf8')
        .split('\n')
        .forEach((text, i) => {
          const m = /^\/\/ (\S+\.(?:[cm]?js|ts|json))$/.exec(text);
          if (m) map!.push({ line: i, module: m[1]!.replace(/^(\.\.\/)+/, '') });
        });
    } catch {
      // not readable: fall back to the url
    }
    bundleMaps.set(url, map);
  }
  let found: string | undefined;
  for (const entry of map) {
    if (entry.line > line) break;
    found = entry.module;
  }
  return found;
}

/** Where code lives: an npm package, a workspace lib/app, Node's internals, or V8 itself. */
function area(url: string, line: number, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const source = moduleAt(url, line) ?? url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (pkg) return pkg[1]!;
  const workspace = /((?:libs|apps)\/[^/]+)\//.exec(source);
  return workspace ? workspace[1]! : source;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const sampled = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  const total = sampled - idle; // percentages are of the time the process was on a CPU
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    const a = area(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
    const module = moduleAt(n.callFrame.url, n.callFrame.lineNumber);
    const where = n.callFrame.url ? `${module ?? n.callFrame.url.replace(/^.*node_modules\//, '')}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const wallS = (profile.endTime - profile.startTime) / 1e6;
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s on CPU (main thread) of ${wallS.toFixed(1)} s profiled; percentages of CPU time\n\nself time by area:\n`);
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) process.stdout.write(`  ${pct(us)}  ${a}\n`);
  process.stdout.write(`\ntop ${top} functions by self time:\n`);
  for (const [f, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${f}\n`);
}

main();

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The architecture allows apps → libs and, among libs, ipam → store, model → ipmath only.
// Nx's project graph is the record of who imports whom; this keeps it honest.
const ALLOWED: Record<string, readonly string[]> = {
  '@atoll/ipmath': [],
  '@atoll/model': ['@atoll/ipmath'],
  '@atoll/store': [],
  '@atoll/ipam': ['@atoll/ipmath', '@atoll/model', '@atoll/store'],
  '@atoll/api': ['@atoll/ipmath', '@atoll/model'],
};
const LIBS = new Set(Object.keys(ALLOWED));

interface Graph {
  graph: { nodes: Record<string, { type: string; data: { root: string } }>; dependencies: Record<string, { target: string }[]> };
}

describe('project dependency graph', () => {
  it('has only the allowed dependency directions', () => {
    const root = path.resolve(__dirname, '../..');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-graph-')), 'graph.json');
    execFileSync('npx', ['nx', 'graph', `--file=${out}`], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      stdio: 'pipe',
    });
    const { graph } = JSON.parse(fs.readFileSync(out, 'utf8')) as Graph;
    fs.rmSync(path.dirname(out), { recursive: true, force: true });

    const apps = new Set(Object.entries(graph.nodes).filter(([, n]) => n.data.root.startsWith('apps/')).map(([name]) => name));
    const violations: string[] = [];
    for (const [from, deps] of Object.entries(graph.dependencies)) {
      for (const { target } of deps) {
        if (target.startsWith('npm:')) continue;
        if (apps.has(target)) violations.push(`${from} imports the app ${target}`);
        // tests of apps may use the tooling (processes, namespaces); libs never do
        else if (target === '@atoll/test-tools' && LIBS.has(from)) violations.push(`${from} imports tools`);
        else if (LIBS.has(from) && !ALLOWED[from]!.includes(target)) violations.push(`${from} → ${target} is not an allowed direction`);
      }
    }
    expect(violations).toEqual([]);
    // and no shipped source of an app does (tests under src/ end in .test.ts)
    const shipped = spawnSync('grep', ['-rlE', "from '(@atoll/test-tools|(\\.\\./)+tools/)", 'apps', '--include=*.ts', '--exclude=*.test.ts', '--exclude-dir=test', '--exclude-dir=testing'], { cwd: root, encoding: 'utf8' });
    expect(shipped.stdout).toBe('');
    expect(graph.dependencies['@atoll/ipam']?.map((d) => d.target)).toEqual(expect.arrayContaining(['@atoll/store', '@atoll/model']));
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, startProcess } from '../../src/processes';
import { request } from './support/raw-http';

// tools/k8s-api/main.ts as the quickstart runs it: through tools/run-ts.js, as a process.

async function waitForOutput(output: () => string, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = output().match(pattern);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('k8s-api CLI', () => {
  it('prints the URL and kubeconfig path, serves, and on SIGTERM stops and removes the kubeconfig', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'atoll-k8s-cli-'));
    const kubeconfig = path.join(dir, 'nested', 'kubeconfig');
    const proc = startProcess(process.execPath, [
      path.join(REPO_ROOT, 'tools/run-ts.js'),
      path.join(REPO_ROOT, 'tools/k8s-api/main.ts'),
      '--port', '0',
      '--kubeconfig-out', kubeconfig,
    ]);
    try {
      const [, url, printedPath] = await waitForOutput(proc.output, /KUBE_API_URL=(\S+)\nKUBECONFIG=(\S+)\n/);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(printedPath).toBe(kubeconfig);
      expect(readFileSync(kubeconfig, 'utf8')).toContain(`server: "${url}"`);
      expect((await request(url!, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'a' } } })).status).toBe(201);
      expect((await request(url!, 'GET', '/api/v1/namespaces/a')).json.metadata.name).toBe('a');

      expect(await proc.stop('SIGTERM')).toBe(0);
      expect(existsSync(kubeconfig)).toBe(false);
    } finally {
      await proc.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with usage on an unknown flag', async () => {
    const proc = startProcess(process.execPath, [
      path.join(REPO_ROOT, 'tools/run-ts.js'),
      path.join(REPO_ROOT, 'tools/k8s-api/main.ts'),
      '--bogus',
    ]);
    try {
      expect(await proc.exited).toBe(2);
      expect(proc.output()).toContain('unknown argument --bogus');
    } finally {
      await proc.stop('SIGKILL');
    }
  });
});

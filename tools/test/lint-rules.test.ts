import { execFileSync } from 'node:child_process';
import path from 'node:path';

// The lint rules that guard the architecture, checked on sample code. ESLint runs in a
// child process: its config is an ES module, which jest's CommonJS sandbox cannot load.
const root = path.resolve(__dirname, '../..');

const SAMPLES: Record<string, [file: string, code: string]> = {
  etcdInIpam: ['libs/ipam/src/sample.ts', "import { Etcd3 } from 'etcd3';\nexport const c = Etcd3;\n"],
  etcdInApp: ['apps/allocator/src/sample.ts', "import { Etcd3 } from 'etcd3';\nexport const c = Etcd3;\n"],
  etcdInMemoryStore: ['libs/store/src/memory/sample.ts', "import { Etcd3 } from 'etcd3';\nexport const c = Etcd3;\n"],
  etcdInEtcdAdapter: ['libs/store/src/etcd/sample.ts', "import { Etcd3 } from 'etcd3';\nexport const c = Etcd3;\n"],
  deepImport: ['libs/ipam/src/sample.ts', "import { x } from '@atoll/model/src/keys';\nexport const y = x;\n"],
  defaultExport: ['libs/ipam/src/sample.ts', 'export default 1;\n'],
};

function lintAll(): Record<string, string[]> {
  const script = `
    const { ESLint } = require('eslint');
    const path = require('node:path');
    const samples = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = {};
      for (const [name, [file, code]] of Object.entries(samples)) {
        const [r] = await eslint.lintText(code, { filePath: path.join(process.cwd(), file) });
        out[name] = r.messages.map((m) => m.message);
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(SAMPLES)], { cwd: root, encoding: 'utf8' }));
}

describe('lint rules', () => {
  const messages = lintAll();
  const ETCD = 'Only libs/store talks to etcd; use the store port';
  const text = (name: string) => messages[name]!.join('\n');

  it.each([['etcdInIpam'], ['etcdInApp'], ['etcdInMemoryStore']])('refuses an etcd3 import outside the etcd adapter (%s)', (name) => {
    expect(text(name)).toContain(ETCD);
  });

  it('allows the etcd adapter to import etcd3', () => {
    expect(messages['etcdInEtcdAdapter']).toEqual([]);
  });

  it('refuses deep imports into another lib and default exports', () => {
    expect(text('deepImport')).toContain('Import a lib through its public index');
    expect(text('defaultExport')).toContain('Named exports only');
  });
});

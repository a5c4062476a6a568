#!/usr/bin/env node
// Usage: node tools/build/bundle.js ENTRY.ts BINARY_NAME
// Bundles an app into one executable file dist/bin/BINARY_NAME (run from the app's
// folder, as its `build` script does). etcd3 loads its .proto files at run time from
// `<bundle dir>/../proto`, so they are copied to dist/proto beside dist/bin.
'use strict';

const { build } = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const [entry, name] = process.argv.slice(2);
  if (!entry || !name) throw new Error('usage: bundle.js ENTRY.ts BINARY_NAME');
  const root = path.resolve(__dirname, '../..');
  const outfile = path.join(root, 'dist/bin', name);
  await build({
    entryPoints: [path.resolve(entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  fs.chmodSync(outfile, 0o755);
  const etcdProto = path.join(root, 'node_modules/etcd3/proto');
  if (fs.readFileSync(outfile, 'utf8').includes('rpc.proto') && fs.existsSync(etcdProto)) {
    fs.cpSync(etcdProto, path.join(root, 'dist/proto'), { recursive: true });
  }
  process.stdout.write(`built ${path.relative(root, outfile)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});

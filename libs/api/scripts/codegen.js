#!/usr/bin/env node
// Generates TypeScript (ts-proto, grpc-js services) from proto/ into src/generated with
// buf, offline (buf's binary ships in its npm package). Usage:
//   node scripts/codegen.js            write src/generated
//   node scripts/codegen.js --check    fail if src/generated differs from what the protos give
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');
const protoDir = path.join(root, 'proto');
const target = path.resolve(__dirname, '../src/generated');
const buf = path.join(root, 'node_modules/.bin/buf');
const plugin = path.join(root, 'node_modules/.bin/protoc-gen-ts_proto');

function generate(outDir) {
  const template = {
    version: 'v2',
    plugins: [
      {
        local: plugin,
        out: outDir,
        opt: ['outputServices=grpc-js', 'esModuleInterop=true', 'useOptionals=none', 'env=node', 'stringEnums=true', 'useDate=false'],
      },
    ],
  };
  execFileSync(buf, ['generate', '--template', JSON.stringify(template)], { cwd: protoDir, stdio: 'inherit' });
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

if (process.argv.includes('--check')) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-codegen-'));
  try {
    generate(tmp);
    const want = listFiles(tmp);
    const have = listFiles(target);
    const stale = want.filter((f) => !have.includes(f) || fs.readFileSync(path.join(tmp, f), 'utf8') !== fs.readFileSync(path.join(target, f), 'utf8'));
    const extra = have.filter((f) => !want.includes(f));
    if (stale.length || extra.length) {
      console.error(`src/generated is out of date (changed: ${stale.join(', ') || '-'}; extra: ${extra.join(', ') || '-'}); run: npm run codegen -w @atoll/api`);
      process.exit(1);
    }
    console.log('src/generated matches proto/');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
} else {
  fs.rmSync(target, { recursive: true, force: true });
  generate(target);
  console.log(`generated ${listFiles(target).length} files in ${path.relative(root, target)}`);
}

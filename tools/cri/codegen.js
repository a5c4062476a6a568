#!/usr/bin/env node
// Regenerates generated/runtime/v1/api.ts (ts-proto, grpc-js client) from the CRI subset in
// proto/, offline: buf's binary ships in its npm package. `--check` only compares.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const bin = (name) => path.resolve(__dirname, '../../node_modules/.bin', name);
const OUTPUT = 'runtime/v1/api.ts';
// int64 as string: CRI timestamps are nanoseconds, beyond Number.MAX_SAFE_INTEGER.
const OPTIONS = ['outputServices=grpc-js', 'esModuleInterop=true', 'useOptionals=none', 'env=node', 'stringEnums=true', 'useDate=false', 'forceLong=string'];

function generateInto(outDir) {
  const template = { version: 'v2', plugins: [{ local: bin('protoc-gen-ts_proto'), out: outDir, opt: OPTIONS }] };
  execFileSync(bin('buf'), ['generate', '--template', JSON.stringify(template)], { cwd: path.join(__dirname, 'proto'), stdio: 'inherit' });
  return fs.readFileSync(path.join(outDir, OUTPUT), 'utf8');
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-cri-codegen-'));
try {
  const fresh = generateInto(scratch);
  const target = path.join(__dirname, 'generated', OUTPUT);
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (current !== fresh) {
      console.error('tools/cri/generated is out of date: run node tools/cri/codegen.js');
      process.exitCode = 1;
    }
  } else {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, fresh);
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

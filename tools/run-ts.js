#!/usr/bin/env node
// Usage: node tools/run-ts.js path/to/script.ts [args...]
// Bundles a TypeScript development script with esbuild (workspace libs included, npm
// packages left to node_modules) and runs it with Node — no ts-node start-up cost.
'use strict';

const { build } = require('esbuild');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

async function main() {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) throw new Error('usage: node tools/run-ts.js SCRIPT.ts [args...]');
  const root = path.resolve(__dirname, '..');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-run-'));
  const outfile = path.join(outDir, 'script.js');
  await build({
    entryPoints: [path.resolve(entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    // npm packages stay where they are (etcd3 loads its .proto files from its own folder)
    external: ['etcd3', 'pino', '@grpc/*', '@kubernetes/*', 'esbuild'],
    logLevel: 'warning',
  });
  const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...args], {
    stdio: 'inherit',
    env: { ...process.env, NODE_PATH: path.join(root, 'node_modules'), ATOLL_REPO_ROOT: root },
  });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    fs.rmSync(outDir, { recursive: true, force: true });
    process.exit(code ?? (signal ? 1 : 0));
  });
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});

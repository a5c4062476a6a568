#!/usr/bin/env node
// Builds dist/bin/atoll-ipam-sea: the atoll-ipam bundle as a Node 20 single executable
// application (node --experimental-sea-config with a V8 code cache, injected into a copy
// of this node binary by postject), so a node needs no Node install and the plugin skips
// compiling its own source on every exec. Run after `build` (the Nx `sea` target does).
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../..');
const BUNDLE = path.join(ROOT, 'dist/bin/atoll-ipam');
const WORK = path.join(ROOT, 'dist/sea');
const OUTPUT = path.join(ROOT, 'dist/bin/atoll-ipam-sea');
// The fuse string Node's single-executable support looks for (Node 20 docs).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function fail(message) {
  process.stderr.write(`build-sea: ${message}\n`);
  process.exit(1);
}

/** postject's CLI script, or undefined: it is a devDependency this workspace may not have. */
function findPostject() {
  try {
    const pkgPath = require.resolve('postject/package.json', { paths: [ROOT] });
    const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin && pkg.bin.postject;
    return bin ? path.join(path.dirname(pkgPath), bin) : undefined;
  } catch {
    return undefined;
  }
}

function main() {
  const postject = findPostject();
  if (!postject) {
    fail(
      'postject is not installed, and it is needed to inject the plugin into a node binary.\n' +
        '  Install it once at the workspace root:  npm i -D postject\n' +
        '  then run:                               npx nx run @atoll/cni-plugin:sea',
    );
  }
  if (!fs.existsSync(BUNDLE)) fail(`${path.relative(ROOT, BUNDLE)} is missing; run \`npx nx build @atoll/cni-plugin\` first`);

  fs.mkdirSync(WORK, { recursive: true });
  // The SEA main script is compiled as a CommonJS body, where a "#!" line is a syntax error.
  const source = fs.readFileSync(BUNDLE, 'utf8').replace(/^#!.*\n/, '');
  const mainScript = path.join(WORK, 'atoll-ipam.js');
  const blob = path.join(WORK, 'atoll-ipam.blob');
  fs.writeFileSync(mainScript, source);
  const config = path.join(WORK, 'sea-config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({ main: mainScript, output: blob, useCodeCache: true, disableExperimentalSEAWarning: true }, null, 2),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });

  const tmp = `${OUTPUT}.tmp`;
  fs.copyFileSync(process.execPath, tmp);
  fs.chmodSync(tmp, 0o755);
  execFileSync(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'inherit' });
  fs.renameSync(tmp, OUTPUT);

  const version = execFileSync(OUTPUT, ['-v'], { encoding: 'utf8' }).trim();
  process.stdout.write(`built ${path.relative(ROOT, OUTPUT)} (${version})\n`);
}

main();

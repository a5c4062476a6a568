#!/usr/bin/env node
// Measures what one exec of atoll-ipam costs: the median wall time of N ADDs of the built
// dist/bin/atoll-ipam (or the binary given with --bin) against an in-process fake agent,
// next to `node -e 0`, interleaved so that machine noise hits both alike. Runs with
// NODE_EXTRA_CA_CERTS removed from the children's environment: on these machines it adds
// ~70 ms to every Node start, and a runtime's exec does not have it.
// Usage: node apps/cni-plugin/scripts/measure-exec.js [--runs 30] [--bin PATH]
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const RUNS = Number(opt('--runs', '30'));
const BIN = path.resolve(opt('--bin', path.join(__dirname, '../../../dist/bin/atoll-ipam')));

const RESULT = JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: '10.99.0.5/24', gateway: '10.99.0.1' }], routes: [{ dst: '0.0.0.0/0' }] });

function startAgent(socketPath) {
  const server = net.createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) s.end(`${JSON.stringify({ result: RESULT })}\n`);
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

function timed(cmd, args, env, stdin) {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stdin.end(stdin);
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out }));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-bench-'));
  const socketPath = path.join(dir, 'agent.sock');
  const server = await startAgent(socketPath);
  const base = { ...process.env };
  delete base.NODE_EXTRA_CA_CERTS;
  delete base.NODE_OPTIONS;
  const pluginEnv = { ...base, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bench1', CNI_NETNS: '/var/run/netns/bench', CNI_IFNAME: 'eth0', CNI_ARGS: '', CNI_PATH: path.dirname(BIN) };
  const stdin = JSON.stringify({ cniVersion: '1.0.0', name: 'bench', type: 'bridge', ipam: { type: 'atoll-ipam', agent_socket: socketPath } });
  const plugin = [];
  const bare = [];
  try {
    for (let i = 0; i < 3; i++) await timed(BIN, [], pluginEnv, stdin); // warm the page cache
    for (let i = 0; i < RUNS; i++) {
      const r = await timed(BIN, [], pluginEnv, stdin);
      if (r.code !== 0 || r.out !== RESULT) throw new Error(`atoll-ipam ADD failed (${r.code}): ${r.out}`);
      plugin.push(r.ms);
      bare.push((await timed(process.execPath, ['-e', '0'], base, '')).ms);
    }
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (xs) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;
  process.stdout.write(`${RUNS} runs each, NODE_EXTRA_CA_CERTS unset\n`);
  process.stdout.write(`  ${path.basename(BIN)} ADD: ${fmt(plugin)}\n`);
  process.stdout.write(`  node -e 0:        ${fmt(bare)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});

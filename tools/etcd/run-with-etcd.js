#!/usr/bin/env node
// Usage: node tools/etcd/run-with-etcd.js [--members N] -- COMMAND ARGS...
// Starts a private etcd on free loopback ports, runs COMMAND with ATOLL_TEST_ETCD_ENDPOINTS
// set to its client URLs, then stops etcd by PID and removes its data dir. Exits with
// COMMAND's exit code. Without a command it serves until interrupted.
'use strict';

const { spawn } = require('node:child_process');
const { startEtcdCluster } = require('./launcher');

async function main() {
  const argv = process.argv.slice(2);
  const sep = argv.indexOf('--');
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  const command = sep >= 0 ? argv.slice(sep + 1) : [];
  const mi = own.indexOf('--members');
  const members = mi >= 0 ? Number(own[mi + 1]) : 1;

  const cluster = await startEtcdCluster({ members });
  const endpoints = cluster.endpoints.join(',');
  process.stderr.write(`etcd ready at ${endpoints} (pids ${cluster.members.map((m) => m.pid).join(',')})\n`);

  let child;
  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    if (child && child.exitCode === null) child.kill('SIGTERM');
    await cluster.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => shutdown(130));
  process.on('SIGTERM', () => shutdown(143));

  if (command.length === 0) {
    process.stdout.write(`ATOLL_TEST_ETCD_ENDPOINTS=${endpoints}\n`);
    setInterval(() => undefined, 1 << 30); // serve until interrupted
    return;
  }
  child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ATOLL_TEST_ETCD_ENDPOINTS: endpoints },
  });
  child.on('exit', (code, signal) => shutdown(code ?? (signal ? 1 : 0)));
}

main().catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});

// Starts and stops private etcd members on loopback for tests, benchmarks and the local
// stack. Plain CommonJS so that shell scripts, jest's global setup and TypeScript tests can
// all use the same code without a build step (types in launcher.d.ts).
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');

const HEALTH_TIMEOUT_MS = 15000;

/**
 * etcd keeps every revision until something compacts it, and a benchmark that rewrites
 * blocks for half an hour grows its database to many times the live data. Compacting what
 * is older than 5 minutes (as Kubernetes' apiserver does for its etcd) keeps benchmarks'
 * history bounded while every test, which watches from revisions seconds old, still finds
 * its history. Tests that exercise compaction compact explicitly; `extraArgs` can override
 * these flags (etcd takes the last value given).
 */
const AUTO_COMPACTION_ARGS = ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '5m'];

/** Finds the etcd binary, or explains how to get one. */
function findEtcdBinary() {
  const candidates = [process.env.ATOLL_ETCD_BIN, '/usr/bin/etcd', '/usr/local/bin/etcd'].filter(Boolean);
  for (const c of candidates) if (fs.existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('etcd not found: install it with `apt-get install -y etcd-server` or set ATOLL_ETCD_BIN');
  }
}

/** Asks the kernel for a free loopback TCP port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The https options of a health check against a TLS member: its CA and a client certificate. */
function healthTlsOptions(tls) {
  if (!tls) return {};
  return {
    ca: fs.readFileSync(tls.caFile),
    cert: fs.readFileSync(tls.clientCertFile || tls.certFile),
    key: fs.readFileSync(tls.clientKeyFile || tls.keyFile),
  };
}

function checkHealth(clientUrl, tlsOptions = {}) {
  return new Promise((resolve) => {
    const get = clientUrl.startsWith('https://') ? https.get : http.get;
    const req = get(`${clientUrl}/health`, { timeout: 500, ...tlsOptions }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(/"health"\s*:\s*"true"/.test(body)));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

async function waitHealthy(clientUrl, child, timeoutMs, tlsOptions) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited with code ${child.exitCode} before becoming healthy`);
    if (await checkHealth(clientUrl, tlsOptions)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd at ${clientUrl} not healthy after ${timeoutMs} ms`);
}

function defaultBaseDir() {
  // /dev/shm avoids fsync cost; tests do not need durability across machine crashes.
  return fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
}

/**
 * Starts an etcd cluster of `members` members (default 1) on loopback ports.
 * With `tls` ({ certFile, keyFile, caFile, clientCertFile?, clientKeyFile? }) clients speak
 * https and must present a certificate signed by caFile (--client-cert-auth); the health
 * check uses clientCertFile/clientKeyFile, else the server's own pair. Peers stay http.
 * Returns { endpoints, members: [{ name, clientUrl, pid, kill, start, stop }], stop }.
 */
async function startEtcdCluster(options = {}) {
  const size = options.members || 1;
  const bin = findEtcdBinary();
  const tls = options.tls;
  if (tls && !(tls.certFile && tls.keyFile && tls.caFile)) throw new Error('startEtcdCluster: tls needs certFile, keyFile and caFile');
  const scheme = tls ? 'https' : 'http';
  const tlsArgs = tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth'] : [];
  const healthTls = healthTlsOptions(tls);
  const baseDir = fs.mkdtempSync(path.join(options.baseDir || defaultBaseDir(), 'atoll-etcd-'));
  const token = `atoll-${process.pid}-${Date.now()}`;
  const specs = [];
  for (let i = 0; i < size; i++) {
    specs.push({
      name: `m${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      dataDir: path.join(baseDir, `m${i}`),
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const logStream = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';

  const members = specs.map((spec) => {
    const clientUrl = `${scheme}://127.0.0.1:${spec.clientPort}`;
    const member = {
      name: spec.name,
      clientUrl,
      dataDir: spec.dataDir,
      pid: undefined,
      child: undefined,
      /** Starts (or restarts, with the same data dir) this member. */
      start() {
        const args = [
          '--name', spec.name,
          '--data-dir', spec.dataDir,
          '--listen-client-urls', clientUrl,
          '--advertise-client-urls', clientUrl,
          '--listen-peer-urls', `http://127.0.0.1:${spec.peerPort}`,
          '--initial-advertise-peer-urls', `http://127.0.0.1:${spec.peerPort}`,
          '--initial-cluster', initialCluster,
          '--initial-cluster-token', token,
          '--initial-cluster-state', 'new',
          '--heartbeat-interval', String(options.heartbeatMs || 10),
          '--election-timeout', String(options.electionMs || 100),
          '--log-level', 'error',
          ...AUTO_COMPACTION_ARGS,
          ...tlsArgs,
          ...(options.extraArgs || []),
        ];
        const child = spawn(bin, args, { stdio: ['ignore', logStream, logStream] });
        member.child = child;
        member.pid = child.pid;
        return child;
      },
      /** SIGKILLs this member (a crash); its data dir stays for a restart. */
      kill() {
        return stopChild(member.child, 'SIGKILL');
      },
      /** Stops this member with SIGTERM and waits for it to exit. */
      stop() {
        return stopChild(member.child, 'SIGTERM');
      },
      waitHealthy(timeoutMs = HEALTH_TIMEOUT_MS) {
        return waitHealthy(clientUrl, member.child, timeoutMs, healthTls);
      },
    };
    return member;
  });

  for (const m of members) m.start();
  try {
    await Promise.all(members.map((m) => m.waitHealthy()));
  } catch (err) {
    await Promise.all(members.map((m) => m.kill()));
    fs.rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }

  return {
    endpoints: members.map((m) => m.clientUrl),
    members,
    baseDir,
    /** Stops every member by its PID and removes the data dirs. */
    async stop() {
      for (const m of members) await m.stop(); // one at a time: a member that loses its peers mid-shutdown waits for them
      if (typeof logStream === 'number') fs.closeSync(logStream);
      fs.rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

function stopChild(child, signal) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

module.exports = { startEtcdCluster, findEtcdBinary, freePort };

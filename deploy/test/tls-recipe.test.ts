import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { DEPLOY_DIR } from './support/manifests';

// deploy/tls/make-certs.sh, the recipe deploy/README.md gives operators, makes certificates
// that do what the manifests need: the allocator's server certificate is accepted under the
// name the node agents and atollctl dial, it accepts the admin certificate and a kubelet's
// client certificate (node agents), and refuses the etcd client certificate; etcd accepts the
// allocator's etcd client certificate and refuses everything the Atoll CA signed.

const SCRIPT = path.join(DEPLOY_DIR, 'tls/make-certs.sh');
const OPENSSL = process.env['ATOLL_OPENSSL_BIN'] ?? 'openssl';
const ETCD = [process.env['ATOLL_ETCD_BIN'], '/usr/bin/etcd', '/usr/local/bin/etcd'].find((p): p is string => !!p && existsSync(p));
const ALLOCATOR_NAME = 'atoll-allocator.atoll-system.svc';

let dir: string;
const file = (name: string) => readFileSync(path.join(dir, name));

/** A stand-in for the cluster CA and one kubelet client certificate it signed (cert and key in one file, as kubeadm keeps them). */
function makeKubeletCertificate(): void {
  const run = (...args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(path.join(dir, 'kube-ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
  run('req', '-new', ...ec, '-keyout', 'kube-ca.key', '-subj', '/CN=kubernetes', '-out', 'kube-ca.csr');
  run('x509', '-req', '-in', 'kube-ca.csr', '-signkey', 'kube-ca.key', '-days', '2', '-extfile', 'kube-ca.ext', '-out', 'kube-ca.crt');
  writeFileSync(path.join(dir, 'kubelet.ext'), 'extendedKeyUsage=clientAuth\n');
  run('req', '-new', ...ec, '-keyout', 'kubelet.key', '-subj', '/O=system:nodes/CN=system:node:node-a', '-out', 'kubelet.csr');
  run('x509', '-req', '-in', 'kubelet.csr', '-CA', 'kube-ca.crt', '-CAkey', 'kube-ca.key', '-set_serial', '7', '-days', '2', '-extfile', 'kubelet.ext', '-out', 'kubelet.crt');
  writeFileSync(path.join(dir, 'kubelet-client-current.pem'), Buffer.concat([file('kubelet.crt'), file('kubelet.key')]));
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'atoll-tls-'));
  makeKubeletCertificate();
  execFileSync('bash', [SCRIPT, path.join(dir, 'out'), path.join(dir, 'kube-ca.crt')], { stdio: ['ignore', 'pipe', 'pipe'] });
  dir = path.join(dir, 'out');
});

afterAll(() => {
  rmSync(path.dirname(dir), { recursive: true, force: true });
});

describe('make-certs.sh', () => {
  it('writes every file the Secrets are made from, keys readable by the owner only', () => {
    for (const name of ['atoll-ca.crt', 'etcd-ca.crt', 'etcd-member.crt', 'allocator-etcd-client.crt', 'allocator.crt', 'admin.crt', 'allocator-client-ca.crt']) {
      expect({ name, exists: existsSync(path.join(dir, name)) }).toEqual({ name, exists: true });
    }
    for (const name of ['atoll-ca.key', 'etcd-ca.key', 'etcd-member.key', 'allocator-etcd-client.key', 'allocator.key', 'admin.key']) {
      const mode = execFileSync('stat', ['-c', '%a', path.join(dir, name)], { encoding: 'utf8' }).trim();
      expect({ name, mode }).toEqual({ name, mode: '600' });
    }
  });

  it('makes the admin certificate an Atoll admin (O=atoll:admins)', () => {
    const subject = execFileSync(OPENSSL, ['x509', '-in', path.join(dir, 'admin.crt'), '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' });
    expect(subject).toMatch(/O=atoll:admins/);
  });
});

// --- the allocator's gRPC TLS (grpc-js uses Node's TLS) ----------------------------------

interface Handshake {
  readonly authorized: boolean;
  readonly peer?: string;
  readonly error?: string;
}

async function withAllocatorServer<T>(fn: (port: number, seen: Handshake[]) => Promise<T>): Promise<T> {
  const seen: Handshake[] = [];
  const server = tls.createServer({ cert: file('allocator.crt'), key: file('allocator.key'), ca: file('allocator-client-ca.crt'), requestCert: true, rejectUnauthorized: true }, (socket) => {
    const cert = socket.getPeerCertificate();
    seen.push({ authorized: socket.authorized, peer: `${cert.subject?.O ?? ''}/${cert.subject?.CN ?? ''}` });
    socket.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn((server.address() as net.AddressInfo).port, seen);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Connects and waits for the server's "ok", which it sends only after accepting the client certificate. */
function dial(port: number, opts: { servername: string; cert: Buffer; key: Buffer }): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: file('atoll-ca.crt'), ...opts });
    const done = (result: Handshake) => {
      resolve(result);
      socket.destroy();
    };
    socket.setTimeout(5000, () => done({ authorized: false, error: 'timeout' }));
    socket.once('data', () => done({ authorized: socket.authorized }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ authorized: false, error: err.code ?? err.message }));
    socket.once('close', () => done({ authorized: false, error: 'closed by the server' }));
  });
}

describe('the allocator’s certificates', () => {
  it('let a node agent with its kubelet client certificate in, as that node', async () => {
    await withAllocatorServer(async (port, seen) => {
      const pem = readFileSync(path.join(path.dirname(dir), 'kubelet-client-current.pem'));
      expect(await dial(port, { servername: ALLOCATOR_NAME, cert: pem, key: pem })).toEqual({ authorized: true });
      expect(seen).toEqual([{ authorized: true, peer: 'system:nodes/system:node:node-a' }]);
    });
  });

  it('let atollctl in with the admin certificate, under every name the certificate lists', async () => {
    await withAllocatorServer(async (port, seen) => {
      for (const servername of [ALLOCATOR_NAME, `${ALLOCATOR_NAME}.cluster.local`, 'localhost']) {
        expect(await dial(port, { servername, cert: file('admin.crt'), key: file('admin.key') })).toEqual({ authorized: true });
      }
      expect(seen.map((s) => s.peer)).toEqual(['atoll:admins/atoll-admin', 'atoll:admins/atoll-admin', 'atoll:admins/atoll-admin']);
    });
  });

  it('are refused under a name the certificate does not list', async () => {
    await withAllocatorServer(async (port) => {
      const result = await dial(port, { servername: 'atoll-allocator.elsewhere.svc', cert: file('admin.crt'), key: file('admin.key') });
      expect(result).toEqual({ authorized: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    });
  });

  it('refuse a client certificate the etcd CA signed', async () => {
    await withAllocatorServer(async (port, seen) => {
      const result = await dial(port, { servername: ALLOCATOR_NAME, cert: file('allocator-etcd-client.crt'), key: file('allocator-etcd-client.key') });
      expect(result.authorized).toBe(false);
      expect(seen).toEqual([]);
    });
  });
});

// --- etcd -----------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function health(port: number, cert: Buffer, key: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', servername: 'localhost', port, path: '/health', ca: file('etcd-ca.crt'), cert, key, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('the etcd certificates, with a real etcd member', () => {
  let etcd: ChildProcess | undefined;
  let clientPort = 0;
  let data: string;

  beforeAll(async () => {
    if (!ETCD) throw new Error('etcd not found: install it with `apt-get install -y etcd-server` or set ATOLL_ETCD_BIN');
    const peerPort = await freePort();
    clientPort = await freePort();
    data = mkdtempSync(path.join(os.tmpdir(), 'atoll-etcd-tls-'));
    const t = (name: string) => path.join(dir, name);
    etcd = spawn(
      ETCD,
      [
        '--name=atoll-etcd-0',
        `--data-dir=${path.join(data, 'data')}`,
        `--listen-client-urls=https://127.0.0.1:${clientPort}`,
        `--advertise-client-urls=https://localhost:${clientPort}`,
        `--listen-peer-urls=https://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=https://127.0.0.1:${peerPort}`,
        `--initial-cluster=atoll-etcd-0=https://127.0.0.1:${peerPort}`,
        '--heartbeat-interval=10',
        '--election-timeout=100',
        '--client-cert-auth=true',
        `--trusted-ca-file=${t('etcd-ca.crt')}`,
        `--cert-file=${t('etcd-member.crt')}`,
        `--key-file=${t('etcd-member.key')}`,
        '--peer-client-cert-auth=true',
        `--peer-trusted-ca-file=${t('etcd-ca.crt')}`,
        `--peer-cert-file=${t('etcd-member.crt')}`,
        `--peer-key-file=${t('etcd-member.key')}`,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      if ((await health(clientPort, file('allocator-etcd-client.crt'), file('allocator-etcd-client.key'))).startsWith('200')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('etcd did not become healthy with the recipe’s certificates within 20 s');
  });

  afterAll(async () => {
    if (etcd && etcd.exitCode === null) {
      const exited = new Promise((r) => etcd!.once('exit', r));
      etcd.kill('SIGTERM');
      await exited;
    }
    if (data) rmSync(data, { recursive: true, force: true });
  });

  it('accept the allocator’s etcd client certificate', async () => {
    expect(await health(clientPort, file('allocator-etcd-client.crt'), file('allocator-etcd-client.key'))).toMatch(/^200 .*"health":"true"/);
  });

  it('refuse certificates the Atoll CA signed (admin), so nothing but the allocator reaches etcd', async () => {
    expect(await health(clientPort, file('admin.crt'), file('admin.key'))).toMatch(/^error /);
  });
});

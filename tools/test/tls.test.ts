import fs from 'node:fs';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { Server, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  channelCredentialsFromFiles,
  connectAllocator,
  diagnoseConnection,
  HealthCheckResponse_ServingStatus,
  HealthServiceDefinition,
  readTlsFiles,
  serverCredentialsFromFiles,
  TlsConfigError,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type TlsFiles,
} from '@atoll/api';
import { startEtcdCluster } from '../etcd/launcher';
import { createTestPki, type CertFiles, type TestPki } from '../pki/test-pki';

// tools/pki's throwaway CA, @atoll/api's TLS helpers over a real grpc-js server, and the
// etcd launcher's TLS mode.

const files = (pair: CertFiles, ca?: string): TlsFiles => ({
  ...(ca && { ca: { flag: '--allocator-ca-file', path: ca } }),
  cert: { flag: '--cert-file', path: pair.cert },
  key: { flag: '--key-file', path: pair.key },
});

describe('the test PKI', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki({ nodes: ['node-a', 'node-b'] });
  });
  afterAll(() => pki.remove());

  it('issues node, admin and server certificates signed by its CA', () => {
    const ca = new X509Certificate(fs.readFileSync(pki.ca.cert));
    const subject = (c: CertFiles) => new X509Certificate(fs.readFileSync(c.cert)).subject;
    expect(subject(pki.nodes['node-a']!)).toBe('O=atoll:nodes\nCN=system:node:node-a');
    expect(subject(pki.admin)).toBe('O=atoll:admins\nCN=atoll-admin');
    const server = new X509Certificate(fs.readFileSync(pki.server.cert));
    expect(server.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    for (const c of [pki.server, pki.admin, pki.nodes['node-b']!]) expect(new X509Certificate(fs.readFileSync(c.cert)).checkIssued(ca)).toBe(true);
  });

  it('issues the wrong-CA certificate from a CA of its own', () => {
    const foreign = new X509Certificate(fs.readFileSync(pki.foreign.cert));
    expect(foreign.checkIssued(new X509Certificate(fs.readFileSync(pki.ca.cert)))).toBe(false);
    expect(foreign.checkIssued(new X509Certificate(fs.readFileSync(pki.otherCa.cert)))).toBe(true);
  });

  it('removes its directory with every key', () => {
    const other = createTestPki();
    expect(fs.existsSync(other.ca.key)).toBe(true);
    other.remove();
    expect(fs.existsSync(other.dir)).toBe(false);
  });

  it('reads a matching certificate and key, and names both flags when the key belongs to another certificate', () => {
    expect(readTlsFiles(files(pki.admin, pki.ca.cert))).toEqual({ ca: expect.any(Buffer), cert: expect.any(Buffer), key: expect.any(Buffer) });
    const mismatched = () => readTlsFiles({ cert: { flag: '--tls-cert-file', path: pki.admin.cert }, key: { flag: '--tls-key-file', path: pki.nodes['node-a']!.key } });
    expect(mismatched).toThrow(TlsConfigError);
    expect(mismatched).toThrow(`--tls-key-file: ${JSON.stringify(pki.nodes['node-a']!.key)} is not the private key of the certificate in --tls-cert-file ${JSON.stringify(pki.admin.cert)}`);
  });

  it("reads a certificate and its key from one file, as kubelet's client certificate comes", () => {
    const both = `${pki.dir}/kubelet-client-current.pem`;
    fs.writeFileSync(both, Buffer.concat([fs.readFileSync(pki.nodes['node-a']!.cert), fs.readFileSync(pki.nodes['node-a']!.key)]));
    expect(() => channelCredentialsFromFiles({ cert: { flag: '--tls-cert-file', path: both }, key: { flag: '--tls-key-file', path: both } })).not.toThrow();
  });

  it('reads a CA bundle of several certificates', () => {
    const bundle = `${pki.dir}/bundle.crt`;
    fs.writeFileSync(bundle, Buffer.concat([fs.readFileSync(pki.ca.cert), fs.readFileSync(pki.otherCa.cert)]));
    expect(readTlsFiles({ ca: { flag: '--tls-client-ca-file', path: bundle } }).ca!.toString()).toContain(fs.readFileSync(pki.otherCa.cert, 'utf8'));
  });

  it('refuses a certificate file given as a key, naming the flag', () => {
    expect(() => readTlsFiles({ cert: { flag: '--cert-file', path: pki.admin.cert }, key: { flag: '--key-file', path: pki.admin.cert } })).toThrow(
      `--key-file: ${JSON.stringify(pki.admin.cert)} is not a PEM private key`,
    );
  });
});

describe('gRPC over mTLS with the @atoll/api helpers', () => {
  let pki: TestPki;
  let server: Server;
  let port: number;
  const seen: unknown[] = [];

  beforeAll(async () => {
    pki = createTestPki({ nodes: ['node-a'] });
    server = new Server();
    server.addService(HealthServiceDefinition, {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, cb: sendUnaryData<HealthCheckResponse>) => {
        seen.push(call.getAuthContext().sslPeerCertificate?.subject);
        cb(null, { status: HealthCheckResponse_ServingStatus.SERVING });
      },
      watch: () => undefined,
    });
    const creds = serverCredentialsFromFiles({
      cert: { flag: '--tls-cert-file', path: pki.server.cert },
      key: { flag: '--tls-key-file', path: pki.server.key },
      clientCa: { flag: '--tls-client-ca-file', path: pki.ca.cert },
    });
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  });
  afterAll(() => {
    server.forceShutdown();
    pki.remove();
  });

  const check = async (tls: TlsFiles | undefined) => {
    const c = connectAllocator(`127.0.0.1:${port}`, { defaultTimeoutMs: 3000, ...(tls && { credentials: channelCredentialsFromFiles(tls) }) });
    try {
      return await c.health.check({ service: '' }).then(
        (r) => r.status,
        (e: { code: string }) => e.code,
      );
    } finally {
      c.close();
    }
  };

  it('serves a client with a certificate from the CA, and shows the handler its subject', async () => {
    expect(await check(files(pki.nodes['node-a']!, pki.ca.cert))).toBe('SERVING');
    expect(seen.at(-1)).toMatchObject({ CN: 'system:node:node-a', O: 'atoll:nodes' });
  });

  it.each<[string, (p: TestPki) => TlsFiles | undefined]>([
    ['without a client certificate', (p) => ({ ca: { flag: '--allocator-ca-file', path: p.ca.cert } })],
    ['with a certificate from another CA', (p) => files(p.foreign, p.ca.cert)],
    ['in plaintext', () => undefined],
    ['when the client does not trust the server', (p) => files(p.admin, p.otherCa.cert)],
  ])('fails the handshake %s: the client sees unavailable', async (_how, tls) => {
    expect(await check(tls(pki))).toBe('unavailable');
  });

  it.each<[string, (p: TestPki) => Parameters<typeof diagnoseConnection>[1], string]>([
    ['a good client certificate', (p) => readTlsFiles(files(p.admin, p.ca.cert)), 'ok'],
    ['no client certificate', (p) => readTlsFiles({ ca: { flag: '--allocator-ca-file', path: p.ca.cert } }), 'client-certificate-required'],
    ['a certificate from another CA', (p) => readTlsFiles(files(p.foreign, p.ca.cert)), 'client-certificate-refused'],
    ['an untrusted server', (p) => readTlsFiles(files(p.admin, p.otherCa.cert)), 'untrusted-server'],
    ['plaintext against TLS', () => undefined, 'requires-tls'],
  ])('tells %s apart after a failure', async (_what, material, kind) => {
    expect((await diagnoseConnection(`127.0.0.1:${port}`, material(pki))).kind).toBe(kind);
  });

  it('tells TLS against a plaintext server and a closed port apart', async () => {
    const plain = new Server();
    plain.addService(HealthServiceDefinition, { check: (_c: unknown, cb: sendUnaryData<HealthCheckResponse>) => cb(null, { status: HealthCheckResponse_ServingStatus.SERVING }), watch: () => undefined });
    const { ServerCredentials } = await import('@grpc/grpc-js');
    const plainPort = await new Promise<number>((resolve, reject) => plain.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    try {
      expect((await diagnoseConnection(`127.0.0.1:${plainPort}`, readTlsFiles(files(pki.admin, pki.ca.cert)))).kind).toBe('not-tls');
      expect((await diagnoseConnection(`127.0.0.1:${plainPort}`, undefined)).kind).toBe('ok');
    } finally {
      plain.forceShutdown();
    }
    expect((await diagnoseConnection('127.0.0.1:1', undefined)).kind).toBe('unreachable');
  });
});

describe('the etcd launcher with TLS', () => {
  it('starts etcd on https with client certificate auth, checks its health over TLS and stops it', async () => {
    const pki = createTestPki();
    const client = pki.issue('etcd-client', { subject: '/CN=atoll-allocator' });
    const cluster = await startEtcdCluster({ tls: { certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.ca.cert, clientCertFile: client.cert, clientKeyFile: client.key } });
    const health = (opts: https.RequestOptions) =>
      new Promise<string>((resolve) => {
        https
          .get(`${cluster.endpoints[0]}/health`, { ca: fs.readFileSync(pki.ca.cert), ...opts }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
          })
          .on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
      });
    try {
      expect(cluster.endpoints[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await health({ cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) })).toContain('"health":"true"');
      expect(await health({})).toMatch(/^error /);
    } finally {
      await cluster.stop();
      pki.remove();
    }
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { channelCredentialsFromFiles } from '@atoll/api';
import { createTestPki, startAllocatorProcess, testNamespace, type AllocatorProcess, type CertFiles, type TestPki } from '@atoll/test-tools';
import { runAtollctlBinary } from './stack';

// dist/bin/atollctl against an allocator that requires client certificates (mTLS).
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: tls-pool
spec:
  cidr: 10.80.0.0/16
`;

describe('atollctl with mTLS', () => {
  let pki: TestPki;
  let allocator: AllocatorProcess;
  let poolFile: string;

  beforeAll(async () => {
    pki = createTestPki({ nodes: ['node-a'] });
    poolFile = path.join(pki.dir, 'pool.yaml');
    fs.writeFileSync(poolFile, POOL);
    allocator = await startAllocatorProcess({
      etcdEndpoints: endpoints,
      namespace: testNamespace(),
      extraArgs: ['--tls-cert-file', pki.server.cert, '--tls-key-file', pki.server.key, '--tls-client-ca-file', pki.ca.cert],
      credentials: channelCredentialsFromFiles({ ca: { flag: '--ca', path: pki.ca.cert }, cert: { flag: '--cert', path: pki.admin.cert }, key: { flag: '--key', path: pki.admin.key } }),
    });
  }, 60_000);

  afterAll(async () => {
    await allocator?.stop('SIGTERM');
    pki?.remove();
  });

  const ctl = (args: string[], pair?: CertFiles, ca = pki.ca.cert) =>
    runAtollctlBinary([...args, '--allocator', allocator.address, ...(ca ? ['--allocator-ca-file', ca] : []), ...(pair ? ['--cert-file', pair.cert, '--key-file', pair.key] : [])], {});

  it('applies and lists pools with an admin certificate', async () => {
    expect(await ctl(['apply', '-f', poolFile], pki.admin)).toEqual({ code: 0, stdout: "Successfully applied 1 'IPPool' resource(s)\n", stderr: '' });
    const get = await ctl(['get', 'ippools'], pki.admin);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('tls-pool');
  });

  it('takes the TLS files from ATOLL_* variables too', async () => {
    const r = await runAtollctlBinary(['get', 'ippools'], { ATOLL_ALLOCATOR: allocator.address, ATOLL_ALLOCATOR_CA_FILE: pki.ca.cert, ATOLL_CERT_FILE: pki.admin.cert, ATOLL_KEY_FILE: pki.admin.key });
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });

  it('refuses to apply an IPPool with a node certificate, in one line', async () => {
    const r = await ctl(['apply', '-f', poolFile], pki.nodes['node-a']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: "atollctl: Failed to apply 'IPPool' resource: node node-a may not apply IPPool(tls-pool)\n" });
  });

  it.each<[string, (p: TestPki) => [CertFiles | undefined, string], string]>([
    ['without a client certificate', (p) => [undefined, p.ca.cert], `requires a client certificate; pass --cert-file and --key-file`],
    ['with a certificate from another CA', (p) => [p.foreign, p.ca.cert], 'refused the client certificate'],
    ['in plaintext', () => [undefined, ''], 'closed the connection without answering: it requires TLS; pass --allocator-ca-file, --cert-file and --key-file'],
    ['when it does not trust the allocator', (p) => [p.admin, p.otherCa.cert], 'cannot verify the allocator at'],
  ])('says what is wrong %s in one line', async (_how, setup, message) => {
    const [pair, ca] = setup(pki);
    const r = await ctl(['get', 'ippools'], pair, ca);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^atollctl: /), '']);
  });

  it('names the flag of a certificate file it cannot read', async () => {
    const r = await ctl(['get', 'ippools'], { cert: path.join(pki.dir, 'missing.crt'), key: pki.admin.key });
    expect(r).toEqual({ code: 1, stdout: '', stderr: `atollctl: --cert-file: cannot read ${JSON.stringify(path.join(pki.dir, 'missing.crt'))}: no such file\n` });
  });
});

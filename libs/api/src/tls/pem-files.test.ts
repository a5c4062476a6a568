import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { channelCredentialsFromFiles, readTlsFiles, serverCredentialsFromFiles, TlsConfigError } from './index';

// The file checks that need no real certificate; tools/test/tls.test.ts covers real ones
// (made by tools/pki, which a lib may not import).
describe('TLS files named by flags', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-pem-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const SECRET = 'MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAsecretmaterial';

  it.each<[string, () => unknown, string]>([
    ['names the flag and the path of a missing file', () => readTlsFiles({ ca: { flag: '--allocator-ca-file', path: '/nonexistent/ca.crt' } }), '--allocator-ca-file: cannot read "/nonexistent/ca.crt": no such file'],
    ['says when the path is a directory', () => readTlsFiles({ ca: { flag: '--etcd-ca-file', path: os.tmpdir() } }), `--etcd-ca-file: cannot read ${JSON.stringify(os.tmpdir())}: it is a directory`],
    ['refuses an empty path', () => readTlsFiles({ ca: { flag: '--tls-client-ca-file', path: '' } }), '--tls-client-ca-file: expected a file path, got an empty value'],
    ['says a certificate file is not PEM', () => readTlsFiles({ ca: { flag: '--allocator-ca-file', path: file('der.crt', '0\x82\x01\x22') } }), 'is not a PEM CA certificate (it has no PEM certificate block)'],
    ['says a PEM certificate block does not parse', () => readTlsFiles({ ca: { flag: '--allocator-ca-file', path: file('bad.crt', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') } }), 'holds a PEM block that is not a valid CA certificate'],
    ['wants the key with the certificate', () => readTlsFiles({ cert: { flag: '--cert-file', path: '/x.crt' } }), '--cert-file needs a private key: pass the key file too'],
    ['wants the certificate with the key', () => readTlsFiles({ key: { flag: '--key-file', path: '/x.key' } }), '--key-file needs a certificate: pass the certificate file too'],
    ['refuses to build client credentials from nothing', () => channelCredentialsFromFiles({}), 'no TLS files given'],
    ['names the server certificate flag', () => serverCredentialsFromFiles({ cert: { flag: '--tls-cert-file', path: '/nope.crt' }, key: { flag: '--tls-key-file', path: '/nope.key' } }), '--tls-cert-file: cannot read "/nope.crt": no such file'],
  ])('%s', (_sentence, act, message) => {
    expect(act).toThrow(TlsConfigError);
    expect(act).toThrow(message);
  });

  it('never quotes the content of a file it refuses', () => {
    const p = file('garbage.key', `-----BEGIN PRIVATE KEY-----\n${SECRET}\n-----END PRIVATE KEY-----\n`);
    const cert = file('garbage.crt', `-----BEGIN CERTIFICATE-----\n${SECRET}\n-----END CERTIFICATE-----\n`);
    for (const files of [{ ca: { flag: '--x', path: cert } }, { cert: { flag: '--c', path: cert }, key: { flag: '--k', path: p } }]) {
      let message = '';
      try {
        readTlsFiles(files);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(SECRET.slice(-20));
      expect(message).not.toContain('BEGIN');
    }
  });
});

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// A throwaway certificate authority for tests, made with the openssl command line in a
// temporary directory that `remove()` deletes. Keys are P-256 (fast to make), certificates
// live one day. The same recipe, by hand, is in apps/allocator/README.md (SECURITY).

export interface CertFiles {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
}

export interface IssueOptions {
  /** openssl -subj form, e.g. "/O=atoll:nodes/CN=system:node:node-a". */
  readonly subject: string;
  /** subjectAltName entries, e.g. ["IP:127.0.0.1", "DNS:localhost"]. */
  readonly san?: readonly string[];
  /** The signing CA; the PKI's own CA by default. */
  readonly by?: CertFiles;
}

export interface TestPki {
  readonly dir: string;
  /** The CA every component trusts (allocator client CA, agent and atollctl allocator CA, etcd). */
  readonly ca: CertFiles;
  /** Server certificate for 127.0.0.1 / localhost (allocator, etcd); also usable as a client. */
  readonly server: CertFiles;
  /** O=atoll:admins, CN=atoll-admin. */
  readonly admin: CertFiles;
  /** CN=system:node:<name>, O=atoll:nodes, for every name in `nodes`. */
  readonly nodes: Readonly<Record<string, CertFiles>>;
  /** A second, unrelated CA. */
  readonly otherCa: CertFiles;
  /** An admin certificate (O=atoll:admins) signed by `otherCa`: the wrong CA. */
  readonly foreign: CertFiles;
  /** Issues one more certificate (client and server use) into the PKI's directory. */
  issue(name: string, opts: IssueOptions): CertFiles;
  /** Deletes the directory with every key. */
  remove(): void;
}

const OPENSSL = process.env['ATOLL_OPENSSL_BIN'] ?? 'openssl';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync(OPENSSL, [...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer; message: string };
    if (e.code === 'ENOENT') throw new Error('openssl not found: install it with `apt-get install -y openssl` or set ATOLL_OPENSSL_BIN');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

function makeCa(dir: string, name: string, subject: string): CertFiles {
  const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', files.key, '-out', files.cert, '-subj', subject, '-days', '1',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return files;
}

function issueLeaf(dir: string, name: string, ca: CertFiles, opts: IssueOptions): CertFiles {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`certificate name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`);
  const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(opts.san && opts.san.length > 0 ? [`subjectAltName=${opts.san.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  openssl(['req', '-new', ...EC_KEY, '-keyout', files.key, '-out', csr, '-subj', opts.subject], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', files.cert, '-days', '1', '-sha256', '-extfile', ext], dir);
  fs.rmSync(csr);
  fs.rmSync(ext);
  return files;
}

/** Makes a CA, a server certificate, an admin, one certificate per node and a wrong-CA certificate. */
export function createTestPki(opts: { nodes?: readonly string[]; baseDir?: string } = {}): TestPki {
  const dir = fs.mkdtempSync(path.join(opts.baseDir ?? os.tmpdir(), 'atoll-pki-'));
  fs.chmodSync(dir, 0o700);
  try {
    const ca = makeCa(dir, 'ca', '/CN=atoll-test-ca');
    const server = issueLeaf(dir, 'server', ca, { subject: '/CN=atoll-allocator', san: ['IP:127.0.0.1', 'DNS:localhost'] });
    const admin = issueLeaf(dir, 'admin', ca, { subject: '/O=atoll:admins/CN=atoll-admin' });
    const nodes: Record<string, CertFiles> = {};
    for (const n of opts.nodes ?? []) nodes[n] = issueLeaf(dir, `node-${n}`, ca, { subject: `/O=atoll:nodes/CN=system:node:${n}` });
    const otherCa = makeCa(dir, 'other-ca', '/CN=atoll-other-ca');
    const foreign = issueLeaf(dir, 'foreign-admin', otherCa, { subject: '/O=atoll:admins/CN=atoll-admin' });
    return {
      dir,
      ca,
      server,
      admin,
      nodes,
      otherCa,
      foreign,
      issue: (name, o) => issueLeaf(dir, name, o.by ?? ca, o),
      remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

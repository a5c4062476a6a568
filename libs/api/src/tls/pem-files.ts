import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

// Reading certificate material from the files the flags name. Every error names the flag
// and the path, and says what is wrong; none ever quotes the file's content.

/** A file given by a flag, e.g. { flag: '--tls-cert-file', path: '/etc/atoll/tls.crt' }. */
export interface PemFile {
  readonly flag: string;
  readonly path: string;
}

/** CA bundle, certificate chain and private key, each optional (mTLS needs cert and key together). */
export interface TlsFiles {
  readonly ca?: PemFile;
  readonly cert?: PemFile;
  readonly key?: PemFile;
}

/** The PEM bytes of TlsFiles, checked. */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** A flag names a file that cannot serve as what the flag asks for. */
export class TlsConfigError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
};

function readFile(file: PemFile): Buffer {
  if (file.path.trim() === '') throw new TlsConfigError(file.flag, `${file.flag}: expected a file path, got an empty value`);
  try {
    return readFileSync(file.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new TlsConfigError(file.flag, `${file.flag}: cannot read ${JSON.stringify(file.path)}: ${READ_ERRORS[code] ?? code}`);
  }
}

const CERTIFICATE_BEGIN = /-----BEGIN CERTIFICATE-----/;
const KEY_BEGIN = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/** One or more PEM certificates (a chain or a CA bundle); each must parse. */
export function readCertificates(file: PemFile, what: 'certificate' | 'CA certificate'): Buffer {
  const pem = readFile(file);
  const text = pem.toString('latin1');
  if (!CERTIFICATE_BEGIN.test(text)) {
    throw new TlsConfigError(file.flag, `${file.flag}: ${JSON.stringify(file.path)} is not a PEM ${what} (it has no PEM certificate block)`);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  for (const block of blocks.length > 0 ? blocks : [text]) {
    try {
      new X509Certificate(block);
    } catch {
      throw new TlsConfigError(file.flag, `${file.flag}: ${JSON.stringify(file.path)} holds a PEM block that is not a valid ${what}`);
    }
  }
  return pem;
}

/** One unencrypted PEM private key. */
export function readPrivateKey(file: PemFile): { pem: Buffer; key: KeyObject } {
  const pem = readFile(file);
  const text = pem.toString('latin1');
  if (!KEY_BEGIN.test(text)) {
    throw new TlsConfigError(file.flag, `${file.flag}: ${JSON.stringify(file.path)} is not a PEM private key (it has no PEM private key block)`);
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new TlsConfigError(file.flag, `${file.flag}: ${JSON.stringify(file.path)} is an encrypted private key; give an unencrypted one`);
  }
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch {
    throw new TlsConfigError(file.flag, `${file.flag}: ${JSON.stringify(file.path)} is not a valid PEM private key`);
  }
}

/**
 * Reads and checks TLS files: each is PEM of the right kind, a certificate comes with its
 * key, and the key belongs to the certificate.
 */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  if (files.cert && !files.key) throw new TlsConfigError(files.cert.flag, `${files.cert.flag} needs a private key: pass the key file too`);
  if (files.key && !files.cert) throw new TlsConfigError(files.key.flag, `${files.key.flag} needs a certificate: pass the certificate file too`);
  const ca = files.ca && readCertificates(files.ca, 'CA certificate');
  const cert = files.cert && readCertificates(files.cert, 'certificate');
  let key: Buffer | undefined;
  if (files.key && files.cert && cert) {
    const k = readPrivateKey(files.key);
    const leaf = new X509Certificate(cert);
    if (!leaf.checkPrivateKey(k.key)) {
      throw new TlsConfigError(
        files.key.flag,
        `${files.key.flag}: ${JSON.stringify(files.key.path)} is not the private key of the certificate in ${files.cert.flag} ${JSON.stringify(files.cert.path)}`,
      );
    }
    key = k.pem;
  }
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

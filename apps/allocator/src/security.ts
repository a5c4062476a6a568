import { readTlsFiles, serverCredentialsFromFiles } from '@atoll/api';
import type { EtcdTlsOptions } from '@atoll/store';
import { ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AllocatorConfig } from './config';

// TLS material for the allocator, read once at start from the files its flags name (errors
// name the flag; no certificate or key content is ever logged).

export interface AllocatorSecurity {
  readonly serverCredentials: ServerCredentials;
  /** Callers are identified by client certificates (and authorized by authz/). */
  readonly mtls: boolean;
  readonly etcdTls?: EtcdTlsOptions;
}

export function loadAllocatorSecurity(config: AllocatorConfig, log: Logger): AllocatorSecurity {
  const t = config.tls;
  const serverCredentials = t
    ? serverCredentialsFromFiles({
        cert: { flag: '--tls-cert-file', path: t.certFile },
        key: { flag: '--tls-key-file', path: t.keyFile },
        ...(t.clientCaFile && { clientCa: { flag: '--tls-client-ca-file', path: t.clientCaFile } }),
      })
    : ServerCredentials.createInsecure();
  const e = config.etcdTls;
  const etcdTls = e
    ? readTlsFiles({
        ...(e.caFile && { ca: { flag: '--etcd-ca-file', path: e.caFile } }),
        ...(e.certFile && { cert: { flag: '--etcd-cert-file', path: e.certFile } }),
        ...(e.keyFile && { key: { flag: '--etcd-key-file', path: e.keyFile } }),
      })
    : undefined;
  const mtls = Boolean(t?.clientCaFile);
  if (!mtls) {
    log.warn(
      { transport: t ? 'TLS without client certificates' : 'plaintext' },
      'mTLS is off (no --tls-client-ca-file): every caller is treated as an admin. Development mode; see SECURITY in the allocator README',
    );
  }
  return { serverCredentials, mtls, ...(etcdTls && { etcdTls: { ...etcdTls } }) };
}

// The allocator's TLS flags: gRPC over TLS (and mTLS with a client CA), and etcd over TLS.
// Only paths are checked here; the files are read at start (errors name the flag there too).

export interface AllocatorTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** Clients must present a certificate signed by this CA; it identifies nodes and admins. */
  readonly clientCaFile?: string;
}

export interface EtcdTlsConfig {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export const SECURITY_FLAGS = {
  'tls-cert-file': { env: 'ATOLL_TLS_CERT_FILE', default: '', help: 'server certificate (PEM) for gRPC over TLS' },
  'tls-key-file': { env: 'ATOLL_TLS_KEY_FILE', default: '', help: 'private key (PEM) of --tls-cert-file' },
  'tls-client-ca-file': { env: 'ATOLL_TLS_CLIENT_CA_FILE', default: '', help: 'mTLS: clients must present a certificate signed by this CA' },
  'etcd-ca-file': { env: 'ATOLL_ETCD_CA_FILE', default: '', help: 'CA (PEM) that signed the etcd server certificates (https:// endpoints)' },
  'etcd-cert-file': { env: 'ATOLL_ETCD_CERT_FILE', default: '', help: 'client certificate (PEM) for etcd' },
  'etcd-key-file': { env: 'ATOLL_ETCD_KEY_FILE', default: '', help: 'private key (PEM) of --etcd-cert-file' },
} as const;

export const INSECURE_FLAG = { env: 'ATOLL_INSECURE', help: 'allow listening on a non-loopback address without mTLS (every caller is admin)' } as const;

type SecurityFlag = keyof typeof SECURITY_FLAGS;

export interface SecurityConfig {
  readonly tls?: AllocatorTlsConfig;
  readonly etcdTls?: EtcdTlsConfig;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** Validates the TLS flags together with where the allocator listens and which etcd it uses. */
export function parseSecurityFlags(
  get: (flag: SecurityFlag) => string,
  /** listenHost: undefined for a unix socket, which only this machine's root can reach. */
  ctx: { listen: string; listenHost: string | undefined; etcdEndpoints: readonly string[]; insecure: boolean },
  fail: (message: string) => Error,
): SecurityConfig {
  const certFile = get('tls-cert-file');
  const keyFile = get('tls-key-file');
  const clientCaFile = get('tls-client-ca-file');
  if ((certFile === '') !== (keyFile === '')) throw fail('--tls-cert-file and --tls-key-file must be given together');
  if (clientCaFile !== '' && certFile === '') throw fail('--tls-client-ca-file needs --tls-cert-file and --tls-key-file (mTLS runs over TLS)');
  const mtls = clientCaFile !== '';
  if (!mtls && !ctx.insecure && ctx.listenHost !== undefined && !isLoopback(ctx.listenHost)) {
    throw fail(
      `--listen ${ctx.listen} is not a loopback address and mTLS is off: every caller would be an admin. ` +
        'Pass --tls-cert-file, --tls-key-file and --tls-client-ca-file, or --insecure to listen there anyway',
    );
  }

  const etcd = { caFile: get('etcd-ca-file'), certFile: get('etcd-cert-file'), keyFile: get('etcd-key-file') };
  if ((etcd.certFile === '') !== (etcd.keyFile === '')) throw fail('--etcd-cert-file and --etcd-key-file must be given together');
  const etcdTlsGiven = etcd.caFile !== '' || etcd.certFile !== '';
  if (etcdTlsGiven) {
    const plain = ctx.etcdEndpoints.find((e) => !e.startsWith('https://'));
    if (plain) throw fail(`--etcd-endpoints: ${JSON.stringify(plain)} is not https://, but etcd TLS files were given (--etcd-ca-file, --etcd-cert-file, --etcd-key-file)`);
  }
  return {
    ...(certFile !== '' && { tls: { certFile, keyFile, ...(mtls && { clientCaFile }) } }),
    ...(etcdTlsGiven && {
      etcdTls: { ...(etcd.caFile !== '' && { caFile: etcd.caFile }), ...(etcd.certFile !== '' && { certFile: etcd.certFile, keyFile: etcd.keyFile }) },
    }),
  };
}

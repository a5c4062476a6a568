import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { readTlsFiles, TlsConfigError, type PemFile, type TlsFiles } from './pem-files';

// gRPC credentials from the files the flags name. With a client CA the server asks every
// client for a certificate and refuses the handshake without one signed by that CA (mTLS);
// the certificate then identifies the caller (see the allocator's authz/).

export interface ServerTlsFiles {
  readonly cert: PemFile;
  readonly key: PemFile;
  /** Clients must present a certificate signed by this CA. */
  readonly clientCa?: PemFile;
}

export function serverCredentialsFromFiles(files: ServerTlsFiles): ServerCredentials {
  const own = readTlsFiles({ cert: files.cert, key: files.key });
  const clientCa = files.clientCa && readTlsFiles({ ca: files.clientCa }).ca;
  return ServerCredentials.createSsl(clientCa ?? null, [{ cert_chain: own.cert!, private_key: own.key! }], clientCa !== undefined);
}

/**
 * Client credentials: `ca` verifies the server (system roots when omitted), `cert` and
 * `key` are the client's own identity for mTLS.
 */
export function channelCredentialsFromFiles(files: TlsFiles): ChannelCredentials {
  if (!files.ca && !files.cert && !files.key) throw new TlsConfigError('', 'no TLS files given');
  const m = readTlsFiles(files);
  return credentials.createSsl(m.ca ?? null, m.key ?? null, m.cert ?? null);
}

import net from 'node:net';
import tls from 'node:tls';
import type { TlsMaterial } from './pem-files';

// Why a connection to the allocator failed, told from Node's TLS error codes. grpc-js
// reports every handshake failure as UNAVAILABLE with a free-text message (often just
// "Failed to connect"), so after a failed call a client can ask here, once, what went
// wrong: it opens one connection itself, sends the HTTP/2 preface and sees how the server
// answers. A server that refuses a client certificate after the TLS 1.3 handshake simply
// closes the connection; that is told apart from a plaintext server by the handshake.

export type ConnectionDiagnosis =
  /** The server answered HTTP/2: the transport is not the problem. */
  | { readonly kind: 'ok' }
  /** No TCP connection (refused, timed out, unknown host). */
  | { readonly kind: 'unreachable'; readonly detail: string }
  /** Plaintext was closed without an answer: the server expects TLS. */
  | { readonly kind: 'requires-tls' }
  /** TLS was configured but the server does not speak it. */
  | { readonly kind: 'not-tls' }
  /** The server's certificate did not verify against the CA given (or the system roots). */
  | { readonly kind: 'untrusted-server'; readonly detail: string }
  /** The server asked for a client certificate and none was given. */
  | { readonly kind: 'client-certificate-required' }
  /** The server refused the client certificate (not signed by a CA it trusts, or not for client use). */
  | { readonly kind: 'client-certificate-refused' }
  | { readonly kind: 'unknown'; readonly detail: string };

const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

const SERVER_VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const CLIENT_CERT_REFUSED_CODES = new Set([
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
]);

function splitAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(?:dns:(?:\/\/\/)?)?(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})$/.exec(address);
  return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : undefined;
}

function classify(err: NodeJS.ErrnoException, handshakeDone: boolean, secure: boolean): ConnectionDiagnosis {
  const code = err.code ?? '';
  if (!handshakeDone && /^E(CONNREFUSED|HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN|TIMEDOUT|ADDRNOTAVAIL)$/.test(code)) {
    return { kind: 'unreachable', detail: `${code} ${err.message}`.trim() };
  }
  if (!secure) return { kind: 'unknown', detail: code || err.message };
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') return { kind: 'not-tls' };
  if (SERVER_VERIFY_CODES.has(code)) return { kind: 'untrusted-server', detail: err.message };
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') return { kind: 'client-certificate-required' };
  if (CLIENT_CERT_REFUSED_CODES.has(code)) return { kind: 'client-certificate-refused' };
  if (handshakeDone && code === 'ECONNRESET') return { kind: 'client-certificate-refused' };
  return { kind: 'unknown', detail: code || err.message };
}

/**
 * Connects to `address` (host:port) once, with TLS when `material` is given, and says
 * what the server made of it. Never throws.
 */
export function diagnoseConnection(address: string, material: TlsMaterial | undefined, timeoutMs = 3000): Promise<ConnectionDiagnosis> {
  const target = splitAddress(address);
  if (!target) return Promise.resolve({ kind: 'unknown', detail: `cannot probe ${JSON.stringify(address)}: not host:port` });
  const secure = material !== undefined;
  return new Promise((resolve) => {
    let handshakeDone = false;
    let settled = false;
    const finish = (d: ConnectionDiagnosis) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(d);
    };
    const onConnected = () => {
      handshakeDone = true;
      socket.write(HTTP2_PREFACE);
    };
    const socket: net.Socket = secure
      ? tls.connect(
          {
            host: target.host,
            port: target.port,
            // An IP address is no server name (RFC 6066); Node checks it against the IP SANs.
            ...(net.isIP(target.host) === 0 && { servername: target.host }),
            ALPNProtocols: ['h2'],
            ...(material.ca && { ca: material.ca }),
            ...(material.cert && { cert: material.cert }),
            ...(material.key && { key: material.key }),
          },
          onConnected,
        )
      : net.connect({ host: target.host, port: target.port }, onConnected);
    socket.setTimeout(timeoutMs, () => finish({ kind: handshakeDone ? 'unknown' : 'unreachable', detail: `no answer within ${timeoutMs} ms` }));
    socket.once('data', () => finish({ kind: 'ok' }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(classify(err, handshakeDone, secure)));
    socket.once('close', () => {
      if (!handshakeDone) finish({ kind: 'unknown', detail: 'the connection closed during the handshake' });
      else finish(secure ? { kind: 'client-certificate-refused' } : { kind: 'requires-tls' });
    });
  });
}

import type { PeerCertificate } from 'node:tls';

// Who is calling, from the client certificate the TLS handshake verified (mTLS).
//
//   CN "system:node:<name>" (kubelet's convention)     → node <name>
//   O  "atoll:nodes" and CN "<name>"                    → node <name>
//   O  "atoll:admins" (any CN)                          → admin (takes precedence)
//   any other certificate signed by the client CA       → unrecognised: refused everything
//
// Without mTLS (no client CA) nobody is identified and every caller is an admin: the
// development mode, announced with a warning at start.

export const NODE_CN_PREFIX = 'system:node:';
export const NODES_ORGANIZATION = 'atoll:nodes';
export const ADMINS_ORGANIZATION = 'atoll:admins';

export type Identity =
  | { readonly kind: 'admin'; readonly name: string }
  | { readonly kind: 'node'; readonly node: string }
  /** A verified certificate that names neither a node nor an admin. */
  | { readonly kind: 'unrecognised'; readonly subject: string }
  /** mTLS is on but the call carries no verified certificate (should not pass the handshake). */
  | { readonly kind: 'anonymous' };

export const DEVELOPMENT_ADMIN: Identity = { kind: 'admin', name: 'anyone (mTLS off)' };

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function values(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The subject as a short text for messages, e.g. "CN=foo, O=bar". */
function subjectText(cert: PeerCertificate): string {
  const parts = [...values(cert.subject?.CN).map((v) => `CN=${v}`), ...values(cert.subject?.O).map((v) => `O=${v}`)];
  return parts.length > 0 ? parts.join(', ') : '(empty subject)';
}

/** The identity a verified client certificate carries (undefined: no certificate). */
export function identityOf(cert: PeerCertificate | undefined): Identity {
  if (!cert || !cert.subject) return { kind: 'anonymous' };
  const cns = values(cert.subject.CN);
  const orgs = values(cert.subject.O);
  const cn = cns.length === 1 ? cns[0]! : undefined;
  if (orgs.includes(ADMINS_ORGANIZATION)) return { kind: 'admin', name: cn ?? subjectText(cert) };
  if (cn !== undefined) {
    const node = cn.startsWith(NODE_CN_PREFIX) ? cn.slice(NODE_CN_PREFIX.length) : orgs.includes(NODES_ORGANIZATION) ? cn : undefined;
    if (node !== undefined && NODE_NAME.test(node)) return { kind: 'node', node };
  }
  return { kind: 'unrecognised', subject: subjectText(cert) };
}

/** How an identity is named in refusals and logs: "node node-a", "admin atoll-admin". */
export function describeIdentity(id: Identity): string {
  switch (id.kind) {
    case 'admin':
      return `admin ${id.name}`;
    case 'node':
      return `node ${id.node}`;
    case 'unrecognised':
      return `the client ${id.subject}`;
    case 'anonymous':
      return 'a client without a certificate';
  }
}

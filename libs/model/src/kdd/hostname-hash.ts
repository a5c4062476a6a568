import { createHash } from 'node:crypto';

// Calico's Kubernetes datastore lists a node's block affinities by the label
// `projectcalico.org/hostname-hash`: the SHA3-256 of the node name in RFC 4648 base32
// without padding (Go's base32.StdEncoding.WithPadding(NoPadding)).

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32NoPad(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The value of Calico's `projectcalico.org/hostname-hash` label for `node`. */
export function calicoHostnameHash(node: string): string {
  return base32NoPad(createHash('sha3-256').update(node).digest());
}

import { parseCidr } from '@atoll/ipmath';
import type { CniVersion } from './netconf';

/**
 * The CNI result in the version the runtime asked for. 0.3.x and 0.4.0 carry each IP's
 * "version"; 1.0.0 and later dropped it. Addresses keep the prefix the allocator gave
 * (the block's for automatic assignment, /32 or /128 for specific ones).
 */
export function cniResult(version: CniVersion, addresses: readonly string[]): Record<string, unknown> {
  const legacy = version === '0.3.0' || version === '0.3.1' || version === '0.4.0';
  return {
    cniVersion: version,
    ips: addresses.map((address) => (legacy ? { version: String(parseCidr(address).version), address } : { address })),
    dns: {},
  };
}

/** A specific address as a host route: 10.0.0.5 → 10.0.0.5/32, fd00::5 → fd00::5/128. */
export function hostPrefix(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

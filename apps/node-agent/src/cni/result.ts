import { parseCidr } from '@atoll/ipmath';
import type { AttachedPod } from '../dataplane';
import type { CniVersion } from './netconf';

/**
 * The CNI result in the version the runtime asked for. 0.3.x and 0.4.0 carry each IP's
 * "version"; 1.0.0 and later dropped it. Addresses keep the prefix the allocator gave
 * (the block's for automatic assignment, /32 or /128 for specific ones).
 */
export function cniResult(version: CniVersion, addresses: readonly string[], gateways: { readonly 4?: string; readonly 6?: string } = {}): Record<string, unknown> {
  const legacy = version === '0.3.0' || version === '0.3.1' || version === '0.4.0';
  // No routes: a gateway outside the pod's prefix (169.254.1.1) is not reachable when the
  // main plugin installs result routes, so a default route via it would fail the ADD.
  // ptp routes the pod's block through the gateway itself.
  const ips = addresses.map((address) => {
    const family = parseCidr(address).version;
    const gw = gateways[family];
    return { ...(legacy && { version: String(family) }), address, ...(gw && { gateway: gw }) };
  });
  return { cniVersion: version, ips, dns: {} };
}

/** A specific address as a host route: 10.0.0.5 → 10.0.0.5/32, fd00::5 → fd00::5/128. */
export function hostPrefix(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

/**
 * The main plugin's result: the host and pod interfaces, each address as configured on the
 * pod (/32, /128) with its gateway, and the default routes through those gateways.
 */
export function mainPluginResult(version: CniVersion, pod: AttachedPod): Record<string, unknown> {
  const legacy = version === '0.3.0' || version === '0.3.1' || version === '0.4.0';
  const podInterface = 1;
  return {
    cniVersion: version,
    interfaces: [
      { name: pod.hostLink.name, mac: pod.hostLink.mac },
      { name: pod.podLink.name, mac: pod.podLink.mac, sandbox: pod.podLink.sandbox },
    ],
    ips: pod.addresses.map((a) => ({ ...(legacy && { version: String(a.version) }), address: a.cidr, interface: podInterface, gateway: pod.gateways[a.version] })),
    routes: [
      ...(pod.gateways[4] ? [{ dst: '0.0.0.0/0', gw: pod.gateways[4] }] : []),
      ...(pod.gateways[6] ? [{ dst: '::/0', gw: pod.gateways[6] }] : []),
    ],
    dns: {},
  };
}

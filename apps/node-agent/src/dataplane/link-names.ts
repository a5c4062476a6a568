import { createHash } from 'node:crypto';

// Names and link-layer addresses of a pod's veth pair, derived from the attachment
// (container ID and interface name) alone, so that a DEL — even one with no network
// namespace and no prevResult — finds exactly what its ADD made.

/** Linux interface names are at most 15 bytes: "atl" and 12 hex characters. */
export const HOST_LINK_PREFIX = 'atl';

/**
 * The MAC of every host-side veth, as Calico uses: a pod's gateway (169.254.1.1, and for
 * IPv6 the link-local fe80::ecee:eeff:feee:eeee derived from it) answers from this address.
 */
export const HOST_LINK_MAC = 'ee:ee:ee:ee:ee:ee';
export const IPV4_GATEWAY = '169.254.1.1';
export const IPV6_GATEWAY = 'fe80::ecee:eeff:feee:eeee';

function digest(containerId: string, ifname: string): Buffer {
  return createHash('sha256').update(`${containerId}\0${ifname}`).digest();
}

/** The host side of the pod's veth: "atl" + 12 hex characters of the attachment's hash. */
export function hostLinkName(containerId: string, ifname: string): string {
  return `${HOST_LINK_PREFIX}${digest(containerId, ifname).toString('hex').slice(0, 12)}`;
}

/**
 * The pod side's MAC: fixed per attachment (no read-back needed for the CNI result),
 * locally administered and unicast. Only the veth pair shares its segment, so it need not be
 * unique beyond that.
 */
export function podLinkMac(containerId: string, ifname: string): string {
  const b = digest(containerId, ifname).subarray(12, 18);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

import { createHash } from 'node:crypto';
import { Cidr, formatCidr } from '@atoll/ipmath';
import { calicoHostnameHash } from '@atoll/model';

// How Calico's Kubernetes datastore names its IPAM objects (libcalico-go names.CIDRToName
// and the affinity/handle clients), and the labels it puts on affinities for listing.

/** `10.0.0.0/26` → `10-0-0-0-26`; `fd00::/122` → `fd00---122`. */
export function cidrToName(cidr: Cidr): string {
  return formatCidr(cidr).replace(/[.:/]/g, '-');
}

const AFFINITY_NAME_LIMIT = 253;

/** `<node>-<cidr name>`, shortened with an 11-hex sha256 suffix at 253 characters or more. */
export function affinityName(node: string, cidr: Cidr): string {
  const cidrName = cidrToName(cidr);
  const name = `${node}-${cidrName}`;
  if (name.length < AFFINITY_NAME_LIMIT) return name;
  const kept = node.slice(0, 252 - cidrName.length - 13);
  const hash = createHash('sha256').update(`${node}+${cidrName}`).digest('hex').slice(0, 11);
  return `${kept}-${cidrName}-${hash}`;
}

/** The object name of a handle: its ID lowercased (the ID itself is in spec.handleID). */
export function handleName(handleId: string): string {
  return handleId.toLowerCase();
}

export const AFFINITY_LABELS = {
  hostnameHash: 'projectcalico.org/hostname-hash',
  affinityType: 'projectcalico.org/affinity-type',
  ipVersion: 'projectcalico.org/ip-version',
} as const;

/** The labels Calico lists a host's affinities by (EnsureBlockAffinityLabels). */
export function affinityLabels(node: string, type: string, cidr: Cidr): Record<string, string> {
  return {
    [AFFINITY_LABELS.hostnameHash]: calicoHostnameHash(node),
    [AFFINITY_LABELS.affinityType]: type,
    [AFFINITY_LABELS.ipVersion]: String(cidr.version),
  };
}

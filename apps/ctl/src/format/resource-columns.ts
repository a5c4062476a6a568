import type { IPAMConfiguration, IPPool, IPReservation, Node, Resource, ResourceKind } from '@atoll/model';

// The columns of `get -o table|wide` per kind, as calicoctl's resourcemgr registers them
// (NAME, CIDR, SELECTOR for pools; wide adds NAT, IPIPMODE, VXLANMODE, DISABLED,
// DISABLEBGPEXPORT). Values print like Go templates print them: booleans as true/false,
// missing booleans as false.

interface Columns<R> {
  readonly narrow: readonly string[];
  readonly wide: readonly string[];
  readonly cell: Readonly<Record<string, (r: R) => string>>;
}

const bool = (v: boolean | undefined) => String(v === true);

/** calicoctl's joinAndTruncate: joined, cut to `max` characters ending in "..." when longer. */
export function joinAndTruncate(items: readonly string[], separator: string, max: number): string {
  const joined = items.join(separator);
  return joined.length > max ? `${joined.slice(0, max - 3)}...` : joined;
}

const IPPOOL: Columns<IPPool> = {
  narrow: ['NAME', 'CIDR', 'SELECTOR'],
  wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR'],
  cell: {
    NAME: (p) => p.metadata.name,
    CIDR: (p) => p.spec.cidr,
    NAT: (p) => bool(p.spec.natOutgoing),
    IPIPMODE: (p) => p.spec.ipipMode || 'Never',
    VXLANMODE: (p) => p.spec.vxlanMode || 'Never',
    DISABLED: (p) => bool(p.spec.disabled),
    DISABLEBGPEXPORT: (p) => bool(p.spec.disableBGPExport),
    SELECTOR: (p) => p.spec.nodeSelector ?? '',
  },
};

const IPRESERVATION: Columns<IPReservation> = {
  narrow: ['NAME'],
  wide: ['NAME', 'CIDRS'],
  cell: {
    NAME: (r) => r.metadata.name,
    CIDRS: (r) => joinAndTruncate(r.spec.reservedCIDRs ?? [], ',', 80),
  },
};

const IPAMCONFIGURATION: Columns<IPAMConfiguration> = {
  narrow: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
  wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
  cell: {
    NAME: (c) => c.metadata.name,
    STRICTAFFINITY: (c) => bool(c.spec.strictAffinity),
    AUTOALLOCATEBLOCKS: (c) => bool(c.spec.autoAllocateBlocks),
    MAXBLOCKSPERHOST: (c) => String(c.spec.maxBlocksPerHost ?? 0),
  },
};

// Without a BGPConfiguration resource the AS number in effect is Calico's default, 64512,
// which calicoctl shows in parentheses for nodes that do not set their own.
const NODE: Columns<Node> = {
  narrow: ['NAME'],
  wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
  cell: {
    NAME: (n) => n.metadata.name,
    ASN: (n) => (n.spec.bgp ? (n.spec.bgp.asNumber !== undefined && n.spec.bgp.asNumber !== '' ? String(n.spec.bgp.asNumber) : '(64512)') : ''),
    IPV4: (n) => n.spec.bgp?.ipv4Address ?? '',
    IPV6: (n) => n.spec.bgp?.ipv6Address ?? '',
  },
};

const BY_KIND: Readonly<Record<ResourceKind, Columns<never>>> = {
  IPPool: IPPOOL,
  IPReservation: IPRESERVATION,
  IPAMConfiguration: IPAMCONFIGURATION,
  Node: NODE,
};

/** Headings and one row per resource, all of `kind`. */
export function resourceTable(kind: ResourceKind, resources: readonly Resource[], wide: boolean): { headings: readonly string[]; rows: string[][] } {
  const columns = BY_KIND[kind] as unknown as Columns<Resource>;
  const headings = wide ? columns.wide : columns.narrow;
  return { headings, rows: resources.map((r) => headings.map((h) => columns.cell[h]!(r))) };
}

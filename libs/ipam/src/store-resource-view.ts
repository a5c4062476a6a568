import { parseCidr, formatCidr } from '@atoll/ipmath';
import {
  applyIPPoolDefaults,
  DEFAULT_IPAM_CONFIG,
  decodeIpamConfig,
  ipamConfigKey,
  IPPool,
  IPReservation,
  Node,
  parseJsonLossless,
  parseSelector,
  resourceKey,
  resourcePrefix,
} from '@atoll/model';
import { Datastore } from '@atoll/store';
import { io } from './io';
import { ReservedAddresses } from './pools/reservations';
import type { IpamContext, ResourceView } from './resource-view';
import type { NodeView, PoolView } from './types';

/** An IPPool as the engine sees it. Pools that cannot be parsed are left out (validated on write). */
export function poolViewOf(pool: IPPool): PoolView | undefined {
  try {
    const p = applyIPPoolDefaults(pool);
    const cidr = parseCidr(p.spec.cidr);
    // A pool smaller than its block size cannot be carved (validation refuses it unless
    // the pool is disabled): the engine must never try.
    if (p.spec.blockSize < cidr.prefix) return undefined;
    const conditions = (p.status?.['conditions'] ?? []) as { type?: string; status?: string }[];
    const unallocatable = Array.isArray(conditions) && conditions.some((c) => c.type === 'Allocatable' && c.status === 'False');
    return {
      name: p.metadata.name,
      cidr,
      cidrText: formatCidr(cidr),
      blockSize: p.spec.blockSize,
      enabled: !p.spec.disabled && !p.metadata.deletionTimestamp && !unallocatable,
      nodeSelector: parseSelector(p.spec.nodeSelector),
      namespaceSelector: p.spec.namespaceSelector ? parseSelector(p.spec.namespaceSelector) : undefined,
      allowedUses: p.spec.allowedUses,
      assignmentMode: p.spec.assignmentMode,
      ipipMode: p.spec.ipipMode,
      vxlanMode: p.spec.vxlanMode,
    };
  } catch {
    return undefined;
  }
}

export function nodeViewOf(node: Node): NodeView {
  return { name: node.metadata.name, labels: { ...(node.metadata.labels ?? {}) } };
}

/** Reads pools, reservations, config and nodes from the datastore on every call. */
export class StoreResourceView implements ResourceView {
  constructor(private readonly ds: Datastore) {}

  async context(): Promise<IpamContext> {
    const [pools, reservations, config] = await Promise.all([
      io(() => this.ds.list(resourcePrefix('ippools'))),
      io(() => this.ds.list(resourcePrefix('ipreservations'))),
      io(() => this.ds.get(ipamConfigKey())),
    ]);
    return {
      pools: pools.items.flatMap((kv) => {
        const view = poolViewOf(parseJsonLossless(kv.value) as unknown as IPPool);
        return view ? [view] : [];
      }),
      reservations: new ReservedAddresses(
        reservations.items.flatMap((kv) => (parseJsonLossless(kv.value) as unknown as IPReservation).spec?.reservedCIDRs ?? []),
      ),
      config: config ? decodeIpamConfig(config.value) : DEFAULT_IPAM_CONFIG,
    };
  }

  async node(name: string): Promise<NodeView | undefined> {
    const kv = await io(() => this.ds.get(resourceKey('nodes', name)));
    return kv ? nodeViewOf(parseJsonLossless(kv.value) as unknown as Node) : undefined;
  }
}

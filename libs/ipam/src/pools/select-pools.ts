import { Cidr, cidrEquals, formatCidr, IpVersion } from '@atoll/ipmath';
import { IpamError, Messages } from '../errors';
import type { IntendedUse, PoolView } from '../types';

export interface PoolSelection {
  /** Every pool, in name order (etcd key order). */
  readonly pools: readonly PoolView[];
  readonly version: IpVersion;
  /** Pools the caller asked for (CNI ipv4_pools, annotations), already resolved to CIDRs. */
  readonly requested?: readonly Cidr[];
  readonly host: string;
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Undefined is evaluated as a namespace without labels. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  readonly use: IntendedUse;
}

/**
 * Calico's pool choice for automatic assignment (determinePools): requested pools are
 * used exactly as given and in the given order, ignoring selectors and assignment mode;
 * otherwise every enabled Automatic pool whose selectors match. allowedUses always
 * applies. Errors carry Calico's messages.
 */
export function selectPools(sel: PoolSelection): PoolView[] {
  const enabled = sel.pools.filter((p) => p.enabled && p.cidr.version === sel.version);
  if (enabled.length === 0) throw new IpamError('no-qualified-pool', Messages.noQualifiedPool);

  let chosen: PoolView[];
  if (sel.requested && sel.requested.length > 0) {
    if (sel.requested.some((c) => c.version !== sel.version)) {
      throw new IpamError('invalid-argument', Messages.wrongFamilyPools(sel.version));
    }
    chosen = sel.requested.map((cidr) => {
      const pool = enabled.find((p) => cidrEquals(p.cidr, cidr));
      if (!pool) throw new IpamError('pool-not-found', Messages.poolNotEnabled(formatCidr(cidr)));
      return pool;
    });
  } else {
    const nsLabels = sel.namespaceLabels ?? {};
    chosen = enabled.filter(
      (p) =>
        p.assignmentMode === 'Automatic' &&
        p.nodeSelector.matches(sel.nodeLabels) &&
        (p.namespaceSelector === undefined || p.namespaceSelector.matches(nsLabels)),
    );
    if (chosen.length === 0) throw new IpamError('no-pools-for-node', Messages.noPoolsForNode(sel.host));
  }

  const usable = chosen.filter((p) => p.allowedUses.includes(sel.use));
  if (usable.length === 0) throw new IpamError('no-qualified-pool', Messages.noPoolsForUse(sel.use));
  return usable;
}

/** The enabled pool of the address's family that contains it (specific-address assignment). */
export function poolContaining(pools: readonly PoolView[], contains: (p: PoolView) => boolean): PoolView | undefined {
  return pools.find((p) => p.enabled && contains(p));
}

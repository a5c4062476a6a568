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

/** Why a pool of the family takes no part in an automatic assignment. */
export type PoolSkipReason = 'disabled' | 'not-requested' | 'manual-assignment' | 'node-selector' | 'namespace-selector' | 'allowed-uses';

export interface PoolJudgement {
  readonly pool: PoolView;
  /** Undefined: the pool is one the assignment may use. */
  readonly skipped?: { readonly reason: PoolSkipReason; readonly detail: string };
}

export interface PoolJudgements {
  /** Every pool of the family, in name order, with why it is skipped if it is. */
  readonly judgements: readonly PoolJudgement[];
  /** The pools to use, in the order they are tried; or why there are none. */
  readonly outcome: { readonly pools: readonly PoolView[] } | { readonly error: IpamError };
}

function skip(pool: PoolView, reason: PoolSkipReason, detail: string): PoolJudgement {
  return { pool, skipped: { reason, detail } };
}

/**
 * Calico's pool choice for automatic assignment (determinePools), pool by pool: requested
 * pools are used exactly as given and in the given order, ignoring selectors and
 * assignment mode; otherwise every enabled Automatic pool whose selectors match.
 * allowedUses always applies. Errors carry Calico's messages. The same judgement serves
 * an assignment (selectPools) and its explanation.
 */
export function judgePools(sel: PoolSelection): PoolJudgements {
  const family = sel.pools.filter((p) => p.cidr.version === sel.version);
  const enabled = family.filter((p) => p.enabled);
  const judged = new Map<PoolView, PoolJudgement>(family.filter((p) => !p.enabled).map((p) => [p, skip(p, 'disabled', 'the pool is disabled')]));
  const done = (outcome: PoolJudgements['outcome']): PoolJudgements => ({ judgements: family.map((p) => judged.get(p) ?? { pool: p }), outcome });
  if (enabled.length === 0) return done({ error: new IpamError('no-qualified-pool', Messages.noQualifiedPool) });

  let chosen: PoolView[];
  if (sel.requested && sel.requested.length > 0) {
    if (sel.requested.some((c) => c.version !== sel.version)) {
      return done({ error: new IpamError('invalid-argument', Messages.wrongFamilyPools(sel.version)) });
    }
    const missing = sel.requested.find((cidr) => !enabled.some((p) => cidrEquals(p.cidr, cidr)));
    if (missing) return done({ error: new IpamError('pool-not-found', Messages.poolNotEnabled(formatCidr(missing))) });
    chosen = sel.requested.map((cidr) => enabled.find((p) => cidrEquals(p.cidr, cidr))!);
    const names = chosen.map((p) => p.name).join(', ');
    for (const p of enabled) if (!chosen.includes(p)) judged.set(p, skip(p, 'not-requested', `the request names other pools (${names})`));
  } else {
    const nsLabels = sel.namespaceLabels ?? {};
    chosen = [];
    for (const p of enabled) {
      if (p.assignmentMode !== 'Automatic') judged.set(p, skip(p, 'manual-assignment', 'assignmentMode is Manual: only used when asked for by name'));
      else if (!p.nodeSelector.matches(sel.nodeLabels)) judged.set(p, skip(p, 'node-selector', `nodeSelector ${JSON.stringify(p.nodeSelector.source)} does not match node ${sel.host}`));
      else if (p.namespaceSelector !== undefined && !p.namespaceSelector.matches(nsLabels)) judged.set(p, skip(p, 'namespace-selector', `namespaceSelector ${JSON.stringify(p.namespaceSelector.source)} does not match the pod's namespace`));
      else chosen.push(p);
    }
    if (chosen.length === 0) return done({ error: new IpamError('no-pools-for-node', Messages.noPoolsForNode(sel.host)) });
  }

  const usable = chosen.filter((p) => p.allowedUses.includes(sel.use));
  for (const p of chosen) if (!usable.includes(p)) judged.set(p, skip(p, 'allowed-uses', `allowedUses is ${p.allowedUses.join(', ')}, not ${sel.use}`));
  if (usable.length === 0) return done({ error: new IpamError('no-qualified-pool', Messages.noPoolsForUse(sel.use)) });
  return done({ pools: usable });
}

/** The pools an automatic assignment uses, in order; throws Calico's error when there are none. */
export function selectPools(sel: PoolSelection): PoolView[] {
  const { outcome } = judgePools(sel);
  if ('error' in outcome) throw outcome.error;
  return [...outcome.pools];
}

/** The enabled pool of the address's family that contains it (specific-address assignment). */
export function poolContaining(pools: readonly PoolView[], contains: (p: PoolView) => boolean): PoolView | undefined {
  return pools.find((p) => p.enabled && contains(p));
}

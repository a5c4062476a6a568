import { Cidr, cidrContainsCidr, IpVersion, parseCidr } from '@atoll/ipmath';
import { Datastore } from '@atoll/store';
import { IpamError, Messages } from '../errors';
import type { AutoAssignRequest, AutoAssignResult, FamilyAssignment } from '../ipam';
import { commitChanges, IpamRecords, type BlockRecord, type HandleRecord } from '../io';
import { historyCause } from '../history/history-cause';
import { selectPools, type PoolSelection } from '../pools/select-pools';
import { retryOnConflict, RetryPolicy } from '../retry';
import type { IpamContext } from '../resource-view';
import type { NodeView, PoolView } from '../types';
import { BlockSearch } from './block-search';
import { HostAffinityCache } from './affinity-cache';
import { BlockCache } from './block-cache';
import { WorkingSet } from './working-set';

/** What the allocation history records for the addresses this writes. */
const AUTO_CAUSE = historyCause('auto');

/** Calico's built-in per-host block limit when neither the request nor the config sets one. */
export const DEFAULT_MAX_BLOCKS_PER_HOST = 20;

export function effectiveBlockLimit(requestLimit: number | undefined, configLimit: number): number {
  const r = requestLimit ?? 0;
  if (r > 0 && configLimit > 0) return Math.min(r, configLimit);
  if (r > 0) return r;
  if (configLimit > 0) return configLimit;
  return DEFAULT_MAX_BLOCKS_PER_HOST;
}

interface FamilyPlan {
  readonly version: IpVersion;
  readonly num: number;
  readonly pools: readonly PoolView[];
}

/**
 * What pool selection weighs for one family of a request: the pools, the node, the
 * namespace and the use. The assignment and `explain` judge pools from this one description.
 */
export function poolSelectionFor(req: AutoAssignRequest, pools: readonly PoolView[], node: NodeView, version: IpVersion, requested: readonly Cidr[] | undefined): PoolSelection {
  return {
    pools,
    version,
    ...(requested && { requested }),
    host: req.hostname,
    nodeLabels: node.labels,
    ...(req.namespaceLabels && { namespaceLabels: req.namespaceLabels }),
    use: req.intendedUse,
  };
}

/** A request with its pools chosen, or the error that refuses it before any write. */
type Plan = { readonly req: AutoAssignRequest; readonly families: readonly FamilyPlan[] } | { readonly req: AutoAssignRequest; readonly error: IpamError };

export function resolvePoolRefs(refs: readonly string[] | undefined, pools: readonly PoolView[]): Cidr[] | undefined {
  if (!refs || refs.length === 0) return undefined;
  return refs.map((ref) => {
    const byName = pools.find((p) => p.name === ref);
    if (byName) return byName.cidr;
    try {
      return parseCidr(ref);
    } catch (err) {
      throw new IpamError('invalid-argument', `error parsing pool "${ref}": ${(err as Error).message}`);
    }
  });
}

function planRequest(req: AutoAssignRequest, ctx: IpamContext, node: NodeView): Plan {
  try {
    if (!req.intendedUse) throw new IpamError('invalid-argument', Messages.mustSpecifyUse);
    const families: FamilyPlan[] = [];
    for (const [version, num, refs] of [
      [4, req.num4, req.ipv4Pools],
      [6, req.num6, req.ipv6Pools],
    ] as const) {
      if (num <= 0) continue;
      const pools = selectPools(poolSelectionFor(req, ctx.pools, node, version, resolvePoolRefs(refs, ctx.pools)));
      families.push({ version, num, pools });
    }
    return { req, families };
  } catch (err) {
    if (err instanceof IpamError) return { req, error: err };
    throw err;
  }
}

function emptyFamily(requested: number): FamilyAssignment {
  return { requested, ips: [], msgs: [] };
}

export interface AutoAssignDeps {
  readonly ds: Datastore;
  readonly affinityCache: HostAffinityCache;
  readonly blockCache: BlockCache;
  readonly now: () => Date;
  readonly retry?: RetryPolicy;
}

/**
 * Serves several automatic-assignment requests of ONE host together: one read of the
 * host's blocks and the requests' handles, assignment in memory, and one transaction for
 * all of them. Requests that fail validation are answered on their own and never touch
 * the datastore. Returns one entry per request, in order.
 */
export async function autoAssignBatch(
  deps: AutoAssignDeps,
  host: string,
  ctx: IpamContext,
  node: NodeView,
  reqs: readonly AutoAssignRequest[],
): Promise<(AutoAssignResult | IpamError)[]> {
  const plans = reqs.map((r) => planRequest(r, ctx, node));
  const runnable = plans.filter((p): p is Extract<Plan, { families: unknown }> => 'families' in p);
  const records = new IpamRecords(deps.ds);

  const versions = new Set(runnable.flatMap((p) => p.families.map((f) => f.version)));
  const outcomes = await retryOnConflict(async (attempt) => {
    const now = deps.now();
    const ws = new WorkingSet({ now, cooldownSeconds: ctx.config.ipCooldownSeconds });
    const handleIds = runnable.map((p) => p.req.handleId);
    const known = [...versions].flatMap((v) => deps.affinityCache.get(host, v) ?? []);
    const cached = known.map((c) => deps.blockCache.get(c));
    let preloaded: Map<string, BlockRecord>;
    let handles: Map<string, HandleRecord>;
    const optimistic = attempt === 1 && known.length > 0 && cached.every((b) => b !== undefined);
    if (optimistic) {
      // Plan from what this engine last saw, assuming the (per-container) handles are new;
      // the transaction's compares catch anything stale and the next attempt reads.
      preloaded = new Map(cached.map((b) => [b!.cidrText, b!]));
      handles = new Map();
    } else {
      // One read for the requests' handles and the blocks the host is known to own.
      ({ blocks: preloaded, handles } = await records.getBlocksAndHandles(known.map((c) => parseCidr(c)), handleIds));
      deps.blockCache.remember(preloaded.values());
    }
    ws.addHandles(handleIds, handles);
    const search = new BlockSearch({ ds: deps.ds, records, ws, host, ctx, now, affinityCache: deps.affinityCache, blockCache: deps.blockCache, preloaded, optimistic });
    const results: AutoAssignResult[] = [];
    for (const plan of runnable) results.push(await assignRequest(search, ws, ctx, plan));
    const changes = ws.changes();
    deps.blockCache.recordCommit(changes, await commitChanges(deps.ds, changes, AUTO_CAUSE));
    return results;
  }, deps.retry);

  let i = 0;
  return plans.map((p) => ('error' in p ? p.error : outcomes[i++]!));
}

async function assignRequest(
  search: BlockSearch,
  ws: WorkingSet,
  ctx: IpamContext,
  plan: { req: AutoAssignRequest; families: readonly FamilyPlan[] },
): Promise<AutoAssignResult> {
  const out: Record<'ipv4' | 'ipv6', FamilyAssignment> = {
    ipv4: emptyFamily(plan.req.num4),
    ipv6: emptyFamily(plan.req.num6),
  };
  for (const fam of plan.families) {
    const result = await assignFamily(search, ws, ctx, plan.req, fam);
    out[fam.version === 4 ? 'ipv4' : 'ipv6'] = result;
    if (result.error) break; // Calico: an IPv4 error means IPv6 is not attempted
  }
  return out;
}

async function assignFamily(
  search: BlockSearch,
  ws: WorkingSet,
  ctx: IpamContext,
  req: AutoAssignRequest,
  fam: FamilyPlan,
): Promise<FamilyAssignment> {
  const ips: string[] = [];
  const msgs: string[] = [];
  const take = (cidrText: string, block: Cidr) => {
    const got = ws.assign(cidrText, {
      num: fam.num - ips.length,
      handleId: req.handleId,
      attributes: req.attributes,
      isReserved: search.reservedPredicate(block),
    });
    for (const ip of got) ips.push(`${ip}/${block.prefix}`);
  };
  const inPools = (c: Cidr) => fam.pools.some((p) => cidrContainsCidr(p.cidr, c));

  // 1. The host's own blocks, each tried once, in key order; claim new ones as needed.
  const affine = (await search.affineBlocks(fam.version)).filter((b) => inPools(b.value.cidr));
  const limit = effectiveBlockLimit(req.maxBlocksPerHost, ctx.config.maxBlocksPerHost);
  let owned = affine.length;
  const tried = new Set<string>();
  while (ips.length < fam.num) {
    let next: BlockRecord | undefined = affine.find((b) => !tried.has(b.cidrText) && search.hasFree(b.cidrText));
    if (!next) {
      const discovered = (await search.refreshAffine(fam.version, affine)).filter((b) => inPools(b.value.cidr));
      if (discovered.length > 0) {
        affine.push(...discovered);
        owned += discovered.length;
        continue;
      }
      if (limit > 0 && owned >= limit) {
        msgs.push(Messages.blockLimitMsg(limit));
        return { requested: fam.num, ips, msgs, error: new IpamError('block-limit', Messages.blockLimit) };
      }
      if (!ctx.config.autoAllocateBlocks) {
        return { requested: fam.num, ips, msgs, error: new IpamError('no-free-block', Messages.failedToClaim) };
      }
      next = await search.claimNewBlock(fam.pools, fam.version);
      if (!next) {
        if (ctx.config.strictAffinity) msgs.push(Messages.strictAffinityMsg);
        break;
      }
      affine.push(next);
      owned++;
    }
    tried.add(next.cidrText);
    take(next.cidrText, next.value.cidr);
  }

  // 2. Borrow from any block of the pools (other hosts' or nobody's) unless strict.
  if (ips.length < fam.num && !ctx.config.strictAffinity) {
    const exhausted: string[] = [];
    for (const pool of fam.pools) {
      // Blocks are read a page at a time, only as far as this loop goes.
      for await (const block of search.blocksToBorrow(pool)) {
        if (ips.length >= fam.num) break;
        take(block.cidrText, block.value.cidr);
      }
      if (ips.length < fam.num) exhausted.push(pool.cidrText);
      else break;
    }
    if (exhausted.length > 0) msgs.push(Messages.noIpsInPools(exhausted));
  }
  return { requested: fam.num, ips, msgs };
}



import { cidrContains, cidrFromAddress, formatCidr, IpVersion, parseIp } from '@atoll/ipmath';
import { affinityString, blockKey, decodeBlock } from '@atoll/model';
import type { Datastore } from '@atoll/store';
import { partialFulfillmentError } from '../all-or-nothing';
import { poolSelectionFor, resolvePoolRefs } from '../assign/auto-assign';
import { IpamEngine } from '../engine';
import { IpamError, Messages } from '../errors';
import type { AutoAssignRequest } from '../ipam';
import { ReservedAddresses } from '../pools/reservations';
import { judgePools, type PoolSkipReason } from '../pools/select-pools';
import type { ResourceView } from '../resource-view';
import type { PoolView } from '../types';
import { SandboxDatastore } from './sandbox-datastore';

// Explaining an automatic assignment without making it: the pools are judged by the same
// function the assignment uses (judgePools), and the assignment itself is run for real by
// an engine whose writes stay in a sandbox (SandboxDatastore), so the block it would use
// and the error it would give are the ones the real request gets — not a second copy of
// the rules that could drift from them.

/** How the address would be found: in a block the node holds, a block it would claim, or one it would borrow from. */
export type BlockChoice = 'affine' | 'new' | 'borrowed';

export type PoolVerdict =
  | { readonly verdict: 'selected' }
  /** Usable, with room; the selected pool comes before it. */
  | { readonly verdict: 'eligible' }
  | { readonly verdict: 'skipped'; readonly reason: PoolSkipReason | 'full' | 'block-limit' | 'reservation'; readonly detail: string };

export interface PoolExplanation {
  readonly pool: PoolView;
  readonly verdict: PoolVerdict;
}

export interface AddressExplanation {
  readonly ip: string;
  readonly pool: string;
  readonly block: string;
  readonly blockChoice: BlockChoice;
}

export interface FamilyExplanation {
  readonly version: IpVersion;
  readonly pools: readonly PoolExplanation[];
  readonly addresses: readonly AddressExplanation[];
}

export interface AssignmentExplanation {
  readonly families: readonly FamilyExplanation[];
  /** The error the assignment would fail with (all or nothing, as the node agent asks). */
  readonly error?: IpamError;
}

export interface ExplainDeps {
  readonly datastore: Datastore;
  readonly resources: ResourceView;
}

interface DryRun {
  readonly addresses: readonly AddressExplanation[];
  readonly error?: IpamError;
}

/** The real assignment, with its writes kept in a sandbox. */
async function dryRun(deps: ExplainDeps, req: AutoAssignRequest, resources: ResourceView = deps.resources): Promise<DryRun> {
  const sandbox = new SandboxDatastore(deps.datastore);
  const engine = new IpamEngine({ datastore: sandbox, resources });
  const ctx = await resources.context();
  try {
    const result = await engine.autoAssign(req);
    const cidrs = [...result.ipv4.ips, ...result.ipv6.ips];
    const addresses = await Promise.all(cidrs.map((text) => describeAddress(deps.datastore, sandbox, ctx.pools, req.hostname, text)));
    const error = partialFulfillmentError(result);
    return { addresses, ...(error && { error }) };
  } catch (err) {
    if (err instanceof IpamError) return { addresses: [], error: err };
    throw err;
  }
}

async function describeAddress(base: Datastore, sandbox: SandboxDatastore, pools: readonly PoolView[], host: string, text: string): Promise<AddressExplanation> {
  const [ipText, prefix] = text.split('/');
  const ip = parseIp(ipText!);
  const block = cidrFromAddress(ip, Number(prefix));
  const key = blockKey(block);
  const [now, before] = await Promise.all([sandbox.get(key), base.get(key)]);
  const ours = affinityString('host', host);
  const affinityNow = now ? decodeBlock(now.value).affinity : null;
  const affinityBefore = before ? decodeBlock(before.value).affinity : null;
  const blockChoice: BlockChoice = affinityNow !== ours ? 'borrowed' : affinityBefore === ours ? 'affine' : 'new';
  const pool = pools.find((p) => p.enabled && cidrContains(p.cidr, ip));
  return { ip: ipText!, pool: pool?.name ?? '', block: formatCidr(block), blockChoice };
}

/** A resource view whose reservations are empty: would the pool have room without them? */
function withoutReservations(resources: ResourceView): ResourceView {
  return {
    context: async () => ({ ...(await resources.context()), reservations: new ReservedAddresses([]) }),
    node: (name) => resources.node(name),
  };
}

/** Why a usable pool could not give this request an address on its own. */
async function capacityVerdict(deps: ExplainDeps, req: AutoAssignRequest, version: IpVersion, pool: PoolView): Promise<PoolVerdict> {
  const one: AutoAssignRequest = {
    ...req,
    num4: version === 4 ? Math.max(1, req.num4) : 0,
    num6: version === 6 ? Math.max(1, req.num6) : 0,
    ipv4Pools: version === 4 ? [pool.name] : [],
    ipv6Pools: version === 6 ? [pool.name] : [],
  };
  const run = await dryRun(deps, one);
  if (!run.error) return { verdict: 'eligible' };
  if (run.error.code === 'block-limit') return { verdict: 'skipped', reason: 'block-limit', detail: run.error.message };
  const unreserved = await dryRun(deps, one, withoutReservations(deps.resources));
  if (!unreserved.error) return { verdict: 'skipped', reason: 'reservation', detail: `every free address is reserved by an IPReservation (${run.error.message})` };
  return { verdict: 'skipped', reason: 'full', detail: run.error.message };
}

/**
 * What an automatic assignment of `req` would do now, without doing it: every pool of each
 * family requested with `selected` (the address comes from it), `eligible`, or why it is
 * skipped; the block the address would come from; or the error the request would get.
 */
export async function explainAutoAssign(deps: ExplainDeps, req: AutoAssignRequest): Promise<AssignmentExplanation> {
  const ctx = await deps.resources.context();
  const node = await deps.resources.node(req.hostname);
  if (!node) return { families: [], error: new IpamError('node-not-found', Messages.nodeNotFound(req.hostname)) };
  const full = await dryRun(deps, req);
  const families: FamilyExplanation[] = [];
  for (const [version, num, refs] of [
    [4, req.num4, req.ipv4Pools],
    [6, req.num6, req.ipv6Pools],
  ] as const) {
    if (num <= 0) continue;
    let requested;
    try {
      requested = resolvePoolRefs(refs, ctx.pools);
    } catch (err) {
      if (err instanceof IpamError) return { families, error: err };
      throw err;
    }
    const { judgements } = judgePools(poolSelectionFor(req, ctx.pools, node, version, requested));
    const addresses = full.addresses.filter((a) => parseIp(a.ip).version === version);
    const used = new Set(addresses.map((a) => a.pool));
    const pools: PoolExplanation[] = [];
    for (const j of judgements) {
      if (j.skipped) pools.push({ pool: j.pool, verdict: { verdict: 'skipped', ...j.skipped } });
      else if (used.has(j.pool.name)) pools.push({ pool: j.pool, verdict: { verdict: 'selected' } });
      else pools.push({ pool: j.pool, verdict: await capacityVerdict(deps, req, version, j.pool) });
    }
    families.push({ version, pools, addresses });
  }
  return { families, ...(full.error && { error: full.error }) };
}

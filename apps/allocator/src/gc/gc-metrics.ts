import { cidrContainsCidr, parseCidr } from '@atoll/ipmath';
import type { AllocationVerdict, PoolView } from '@atoll/ipam';
import { Counter, Gauge, type Registry } from 'prom-client';

// The collector's metrics, named and labelled as kube-controllers' (ippool = pool name or
// "no_ippool", node = the allocation's node attribute or "unknown_node"), plus whether this
// replica is the elected collector.

export const NO_POOL_LABEL = 'no_ippool';
export const UNKNOWN_NODE_LABEL = 'unknown_node';

export function createGcMetrics(registry: Registry) {
  return {
    leader: new Gauge({
      name: 'atoll_gc_leader',
      help: '1 while this allocator replica holds the lease that makes it the one running the leak collector, else 0.',
      registers: [registry],
    }),
    candidates: new Gauge({
      name: 'ipam_allocations_gc_candidates',
      help:
        'Allocations that are currently marked by the garbage collector as potential candidates to reclaim. Under normal ' +
        'operation, this metric should return to zero after the garbage collector confirms that this allocation can be ' +
        'reclaimed and reclaims it, or the allocation is confirmed as valid.',
      labelNames: ['ippool', 'node'] as const,
      registers: [registry],
    }),
    reclamations: new Counter({
      name: 'ipam_allocations_gc_reclamations',
      help:
        'The total allocations that have been reclaimed by the garbage collector over time. Under normal operation, this ' +
        'counter should increase, and increases of this counter should align to a return to zero for the candidate gauge.',
      labelNames: ['ippool', 'node'] as const,
      registers: [registry],
    }),
    stickyReleases: new Counter({
      name: 'atoll_sticky_releases_total',
      help: 'Sticky StatefulSet addresses released because their pod identity ended, by reason (statefulset-deleted, scaled-down, not-sticky)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type GcMetrics = ReturnType<typeof createGcMetrics>;

/** Names the pool of a block CIDR for metric labels. */
export function poolLabeller(pools: readonly PoolView[]): (block: string) => string {
  const cache = new Map<string, string>();
  return (block) => {
    let name = cache.get(block);
    if (name === undefined) {
      const cidr = parseCidr(block);
      name = pools.find((p) => cidrContainsCidr(p.cidr, cidr))?.name ?? NO_POOL_LABEL;
      cache.set(block, name);
    }
    return name;
  };
}

/**
 * Sets the candidate gauge from a pass's verdicts (candidates and confirmed leaks not yet
 * released, as Calico counts them), with explicit zeros for every pool × known node.
 */
export function publishCandidates(metrics: GcMetrics, verdicts: readonly AllocationVerdict[], pools: readonly PoolView[], nodes: Iterable<string>): void {
  const poolOf = poolLabeller(pools);
  const counts = new Map<string, { ippool: string; node: string; n: number }>();
  const add = (ippool: string, node: string, n: number) => {
    const k = `${ippool}\u0000${node}`;
    const c = counts.get(k) ?? { ippool, node, n: 0 };
    c.n += n;
    counts.set(k, c);
  };
  for (const p of pools) for (const node of nodes) add(p.name, node, 0);
  for (const v of verdicts) {
    if (v.state === 'candidate' || v.state === 'confirmed') add(poolOf(v.allocation.block), v.node ?? UNKNOWN_NODE_LABEL, 1);
  }
  metrics.candidates.reset();
  for (const c of counts.values()) metrics.candidates.set({ ippool: c.ippool, node: c.node }, c.n);
}

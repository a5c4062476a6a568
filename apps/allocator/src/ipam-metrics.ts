import { cidrContainsCidr, parseCidr } from '@atoll/ipmath';
import type { Allocation, Utilization } from '@atoll/ipam';
import { Gauge, type Registry } from 'prom-client';

// Calico's IPAM metrics (kube-controllers' names and labels), recomputed from scratch on a
// timer: one walk over every block, no incremental state, so the numbers are also a
// consistency check of their own.

const NO_POOL = 'no_ippool';
const NO_AFFINITY = 'no_affinity';

export interface IpamMetricRows {
  /** [ippool, node] → count */
  readonly inUse: Map<string, number>;
  readonly borrowed: Map<string, number>;
  readonly blocks: Map<string, number>;
  /** ippool → addresses */
  readonly poolSize: Map<string, number>;
  readonly poolReserved: Map<string, number>;
}

const key = (pool: string, node: string) => `${pool}\u0000${node}`;

function hostOf(affinity: string | null | undefined): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

export function computeIpamMetrics(util: Utilization, allocations: readonly Allocation[]): IpamMetricRows {
  const pools = util.pools.map((p) => ({ name: p.name, cidr: parseCidr(p.cidr) }));
  const poolOfBlock = new Map<string, string>();
  const poolOf = (block: string) => {
    let name = poolOfBlock.get(block);
    if (name === undefined) {
      const cidr = parseCidr(block);
      name = pools.find((p) => cidrContainsCidr(p.cidr, cidr))?.name ?? NO_POOL;
      poolOfBlock.set(block, name);
    }
    return name;
  };
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const rows: IpamMetricRows = { inUse: new Map(), borrowed: new Map(), blocks: new Map(), poolSize: new Map(), poolReserved: new Map() };
  for (const p of util.pools) {
    rows.poolSize.set(p.name, Number(p.capacity));
    rows.poolReserved.set(p.name, Number(p.reserved));
    for (const b of p.blocks) inc(rows.blocks, key(p.name, hostOf(b.affinity) ?? NO_AFFINITY));
  }
  for (const b of util.orphanBlocks) inc(rows.blocks, key(NO_POOL, hostOf(b.affinity) ?? NO_AFFINITY));
  for (const a of allocations) {
    const node = a.attributes['node'] ?? '';
    const pool = poolOf(a.block);
    inc(rows.inUse, key(pool, node));
    const owner = hostOf(a.blockAffinity);
    if (owner !== undefined && owner !== node) inc(rows.borrowed, key(pool, node));
  }
  return rows;
}

export class IpamMetrics {
  private readonly inUse: Gauge<'ippool' | 'node'>;
  private readonly borrowed: Gauge<'ippool' | 'node'>;
  private readonly blocks: Gauge<'ippool' | 'node'>;
  private readonly poolSize: Gauge<'ippool'>;
  private readonly poolReserved: Gauge<'ippool'>;
  private readonly perNode: { allocations: Gauge<'node'>; blocks: Gauge<'node'>; borrowed: Gauge<'node'> };

  constructor(registry: Registry) {
    const g = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers: [registry] });
    this.inUse = g('ipam_allocations_in_use', 'Number of Calico IP allocations currently in use by a workload or interface.', ['ippool', 'node']);
    this.borrowed = g('ipam_allocations_borrowed', 'Number of Calico IP allocations currently in use where the allocation was borrowed from a block affine to another node.', ['ippool', 'node']);
    this.blocks = g('ipam_blocks', 'Number of IPAM blocks.', ['ippool', 'node']);
    this.poolSize = g('ipam_ippool_size', 'Number of IP addresses in the IP Pool CIDR.', ['ippool']);
    this.poolReserved = g('ipam_ippool_reserved', 'Number of IP addresses in the IP Pool CIDR kept out of automatic assignment by IPReservations.', ['ippool']);
    this.perNode = {
      allocations: g('ipam_allocations_per_node', 'Number of Calico IP allocations, indexed by node on which the allocation was made. Prefer ipam_allocations_in_use.', ['node']),
      blocks: g('ipam_blocks_per_node', 'Number of IPAM blocks, indexed by the node to which they have affinity. Prefer ipam_blocks.', ['node']),
      borrowed: g('ipam_allocations_borrowed_per_node', 'Number of Calico IP allocations borrowed from a non-affine block, indexed by node. Prefer ipam_allocations_borrowed.', ['node']),
    };
  }

  update(rows: IpamMetricRows): void {
    const set2 = (gauge: Gauge<'ippool' | 'node'>, m: Map<string, number>, perNode?: Gauge<'node'>) => {
      gauge.reset();
      perNode?.reset();
      const byNode = new Map<string, number>();
      for (const [k, v] of m) {
        const [ippool, node] = k.split('\u0000') as [string, string];
        gauge.set({ ippool, node }, v);
        byNode.set(node, (byNode.get(node) ?? 0) + v);
      }
      for (const [node, v] of byNode) perNode?.set({ node }, v);
    };
    set2(this.inUse, rows.inUse, this.perNode.allocations);
    set2(this.borrowed, rows.borrowed, this.perNode.borrowed);
    set2(this.blocks, rows.blocks, this.perNode.blocks);
    this.poolSize.reset();
    for (const [ippool, v] of rows.poolSize) this.poolSize.set({ ippool }, v);
    this.poolReserved.reset();
    for (const [ippool, v] of rows.poolReserved) this.poolReserved.set({ ippool }, v);
  }
}

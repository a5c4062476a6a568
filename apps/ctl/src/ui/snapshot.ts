import type { Allocation, BlockUtilization, IPAMConfig } from '@atoll/api';
import { bitsOf, cidrContains, formatIp, parseCidrDetailed, tryParseCidr, tryParseIp, type Cidr } from '@atoll/ipmath';
import type { IPReservation } from '@atoll/model';
import type { IpamApi, ResourcesApi } from '../context';
import { gatherFindings, nodeOf, type Findings } from '../commands/ipam-check';

// The data behind `ipam ui`: one snapshot of the address space built from the allocator's
// answers (GetUtilization, ListAllocations, Check, GetIPAMConfig, and the IPPool,
// IPReservation and Node resources), and the three views the page asks for: the summary
// it draws, one block's allocations, and search. Everything here is pure once the RPCs
// have answered; counts are the allocator's, never recounted.

export type SnapshotApi = { readonly ipam: Pick<IpamApi, 'check' | 'getUtilization' | 'listAllocations' | 'getIpamConfig'>; readonly resources: Pick<ResourcesApi, 'list'> };

/** Calico's default when IPAMConfiguration.maxBlocksPerHost is 0. */
export const DEFAULT_BLOCK_LIMIT = 20;
/** A node at or above this share of its block limit is "near its limit". */
export const NEAR_LIMIT_SHARE = 0.8;

const TUNNEL_TYPES = new Set(['ipipTunnelAddress', 'vxlanTunnelAddress', 'vxlanV6TunnelAddress', 'wireguardTunnelAddress', 'wireguardV6TunnelAddress']);

export interface PoolView {
  readonly name: string;
  readonly cidr: string;
  readonly version: 4 | 6;
  readonly blockPrefix: number;
  /** Block slots in the pool, decimal (IPv6 pools hold more than 2^53). */
  readonly slots: string;
  readonly disabled: boolean;
  readonly capacity: string;
  readonly inUse: string;
  readonly reserved: string;
  readonly available: string;
}

export interface BlockView {
  readonly cidr: string;
  /** Index into `pools`; -1 for a block inside no pool. */
  readonly pool: number;
  /** The block's slot in its pool, decimal. */
  readonly slot: string;
  /** The affine node, '' when none. */
  readonly node: string;
  readonly affinity: string;
  readonly capacity: number;
  readonly inUse: number;
  readonly reserved: number;
  readonly available: number;
  /** Addresses held for a node other than the block's. */
  readonly borrowed: number;
  /** Node tunnel addresses (IPIP, VXLAN, WireGuard). */
  readonly tunnels: number;
  /** Problems the check found here. */
  readonly problems: number;
}

export interface NodeView {
  readonly name: string;
  readonly blocks: number;
  readonly addresses: number;
  readonly nearLimit: boolean;
}

export interface ReservationView {
  readonly name: string;
  readonly cidr: string;
  /** Index into `pools`; -1 when outside every pool. */
  readonly pool: number;
}

export interface ProblemView {
  readonly kind: string;
  readonly message: string;
  /** The block it sits in, when there is one. */
  readonly block?: string;
  readonly address?: string;
  /** Where `block` lies: its pool and slot (also for a block that does not exist). */
  readonly pool?: number;
  readonly slot?: string;
}

export interface SnapshotSummary {
  readonly takenAt: string;
  readonly config: { readonly strictAffinity: boolean; readonly maxBlocksPerHost: number; readonly blockLimit: number };
  readonly pools: readonly PoolView[];
  readonly blocks: readonly BlockView[];
  readonly nodes: readonly NodeView[];
  readonly reservations: readonly ReservationView[];
  readonly problems: readonly ProblemView[];
  readonly totals: { readonly blocks: number; readonly allocations: number; readonly nodes: number; readonly problems: number };
}

export interface AllocationView {
  readonly address: string;
  readonly handle: string;
  readonly pod: string;
  readonly namespace: string;
  readonly node: string;
  readonly type: string;
  readonly borrowed: boolean;
  readonly tunnel: boolean;
}

export interface AddressSlot {
  readonly address: string;
  /** Index into `allocations`, -1 when free. */
  readonly holder: number;
  readonly reserved: boolean;
}

/** Blocks up to this size list every address; larger ones only their allocations. */
export const ADDRESS_GRID_LIMIT = 1024;

export interface BlockDetail {
  readonly block: BlockView;
  readonly addresses?: readonly AddressSlot[];
  readonly strictAffinity: boolean;
  readonly allocations: readonly AllocationView[];
  readonly reservedCidrs: readonly string[];
  readonly problems: readonly ProblemView[];
}

export interface SearchHit {
  readonly kind: 'address' | 'block' | 'pod' | 'node';
  readonly label: string;
  /** The block to show, when the hit lies in one. */
  readonly block?: string;
  readonly address?: string;
  readonly node?: string;
}

/** A summary plus what the detail and search views need. */
export interface Snapshot {
  readonly summary: SnapshotSummary;
  readonly allocationsByBlock: ReadonlyMap<string, readonly AllocationView[]>;
  readonly blockByCidr: ReadonlyMap<string, BlockView>;
}

const hostOf = (affinity: string) => (affinity.startsWith('host:') ? affinity.slice('host:'.length) : '');

export function isTunnelAllocation(a: Allocation): boolean {
  return TUNNEL_TYPES.has(a.attributes['type'] ?? '') || /^(ipip|vxlan|vxlan-v6|wireguard|wireguard-v6)-tunnel-addr-/.test(a.handleId);
}

function allocationView(a: Allocation): AllocationView {
  const node = nodeOf(a);
  return {
    address: a.address,
    handle: a.handleId,
    pod: a.attributes['pod'] ?? a.attributes['vmi-name'] ?? '',
    namespace: a.attributes['namespace'] ?? '',
    node,
    type: a.attributes['type'] ?? '',
    borrowed: node !== '' && hostOf(a.blockAffinity) !== '' && node !== hostOf(a.blockAffinity),
    tunnel: isTunnelAllocation(a),
  };
}

/** "…/block/10.1.0.0-26" → "10.1.0.0/26" (affinity keys name their block that way). */
function cidrInKey(key: string): string | undefined {
  const m = /([0-9a-fA-F:.]+)-(\d{1,3})$/.exec(key);
  const c = m && tryParseCidr(`${m[1]}/${m[2]}`);
  return c ? `${m[1]}/${m[2]}` : undefined;
}

function problemsOf(f: Findings, blockOfAddress: (ip: string) => string | undefined): ProblemView[] {
  const c = f.check;
  const out: ProblemView[] = [];
  const withAddress = (kind: string, message: string, address: string) => {
    const block = blockOfAddress(address);
    out.push({ kind, message, address, ...(block && { block }) });
  };
  for (const a of c.addressesWithoutHandle) withAddress('leaked-address', `${a.address} is held for handle ${a.handleId}, which does not exist`, a.address);
  for (const h of c.handlesWithoutAddresses) out.push({ kind: 'handle-without-addresses', message: `handle ${h} holds no address` });
  for (const m of c.miscountedHandles) out.push({ kind: 'miscounted-handle', message: `${m.handleId} records ${m.recorded} IPs in block ${m.block}; the block holds ${m.actual}`, block: m.block });
  for (const b of c.invalidBlocks) for (const p of b.problems) out.push({ kind: 'invalid-block', message: p, block: b.block });
  for (const b of c.blocksOutsidePools) out.push({ kind: 'block-outside-pools', message: `${b} is not in any IP pool`, block: b });
  for (const a of c.affinityProblems) {
    const block = cidrInKey(a.key);
    out.push({ kind: 'affinity', message: `${a.key}: ${a.problem}`, ...(block && { block }) });
  }
  for (const p of f.notInActivePools) withAddress('tunnel-outside-pools', `${p.ip} in use by ${p.owner} is not in any active IP pool`, p.ip);
  for (const p of f.withoutAllocation) withAddress('tunnel-without-allocation', `${p.ip} in use by ${p.owner} has no IPAM allocation`, p.ip);
  return out;
}

interface PoolGeometry {
  readonly cidr: Cidr;
  readonly blockPrefix: number;
}

function slotOf(pool: PoolGeometry | undefined, block: Cidr): bigint {
  if (!pool) return 0n;
  return (block.base - pool.cidr.base) >> BigInt(bitsOf(pool.cidr.version) - pool.blockPrefix);
}

/** Builds the snapshot from findings the allocator gave (pure; `takenAt` is passed in). */
export function snapshotFrom(f: Findings, config: IPAMConfig, reservations: readonly IPReservation[], takenAt: Date): Snapshot {
  const blockLimit = config.maxBlocksPerHost > 0 ? config.maxBlocksPerHost : DEFAULT_BLOCK_LIMIT;
  const specs = new Map(f.pools.map((p) => [p.spec.cidr, p]));
  const geometry: PoolGeometry[] = [];
  const pools: PoolView[] = f.usage.pools.map((u) => {
    const cidr = parseCidrDetailed(u.cidr).cidr;
    const spec = specs.get(u.cidr)?.spec;
    const blockPrefix = spec?.blockSize ?? (cidr.version === 4 ? 26 : 122);
    geometry.push({ cidr, blockPrefix });
    return {
      name: u.name,
      cidr: u.cidr,
      version: cidr.version,
      blockPrefix,
      slots: String(1n << BigInt(Math.max(0, blockPrefix - cidr.prefix))),
      disabled: spec?.disabled === true,
      capacity: u.capacity,
      inUse: u.inUse,
      reserved: u.reserved,
      available: u.available,
    };
  });

  const allocationsByBlock = new Map<string, AllocationView[]>();
  const blockOfAllocation = new Map<string, string>();
  for (const a of f.allocations) {
    const list = allocationsByBlock.get(a.block) ?? [];
    list.push(allocationView(a));
    allocationsByBlock.set(a.block, list);
    blockOfAllocation.set(a.address, a.block);
  }
  const parsedBlocks = new Map<string, Cidr>();
  const blockOfAddress = (ip: string): string | undefined => {
    const known = blockOfAllocation.get(ip);
    if (known) return known;
    const addr = tryParseIp(ip);
    if (!addr) return undefined;
    for (const [text, c] of parsedBlocks) if (cidrContains(c, addr)) return text;
    return undefined;
  };
  const entries: { u: BlockUtilization; pool: number }[] = [...f.usage.pools.flatMap((p, i) => p.blocks.map((u) => ({ u, pool: i }))), ...f.usage.orphanBlocks.map((u) => ({ u, pool: -1 }))];
  for (const { u } of entries) parsedBlocks.set(u.cidr, parseCidrDetailed(u.cidr).cidr);

  const locate = (cidr: string): { pool: number; slot: string } | undefined => {
    const c = tryParseCidr(cidr);
    const pool = c ? geometry.findIndex((g) => cidrContains(g.cidr, { version: c.version, value: c.base })) : -1;
    return c && pool >= 0 ? { pool, slot: String(slotOf(geometry[pool], c)) } : undefined;
  };
  const problems = problemsOf(f, blockOfAddress).map((p) => (p.block ? { ...p, ...locate(p.block) } : p));
  const problemsPerBlock = new Map<string, number>();
  for (const p of problems) if (p.block) problemsPerBlock.set(p.block, (problemsPerBlock.get(p.block) ?? 0) + 1);
  const affinityOf = new Map(f.blocks.map((b) => [b.cidr, b.affinity]));

  const blocks: BlockView[] = entries.map(({ u, pool }) => {
    const allocations = allocationsByBlock.get(u.cidr) ?? [];
    const affinity = u.affinity || affinityOf.get(u.cidr) || '';
    return {
      cidr: u.cidr,
      pool,
      slot: String(slotOf(geometry[pool], parsedBlocks.get(u.cidr)!)),
      node: hostOf(affinity),
      affinity,
      capacity: Number(u.capacity),
      inUse: Number(u.inUse),
      reserved: Number(u.reserved),
      available: Number(u.available),
      borrowed: allocations.filter((a) => a.borrowed).length,
      tunnels: allocations.filter((a) => a.tunnel).length,
      problems: problemsPerBlock.get(u.cidr) ?? 0,
    };
  });

  const blocksPerNode = new Map<string, number>();
  for (const b of blocks) if (b.node) blocksPerNode.set(b.node, (blocksPerNode.get(b.node) ?? 0) + 1);
  const addressesPerNode = new Map<string, number>();
  for (const a of f.allocations) {
    const n = nodeOf(a);
    if (n) addressesPerNode.set(n, (addressesPerNode.get(n) ?? 0) + 1);
  }
  const nodeNames = [...new Set([...f.nodes.map((n) => n.metadata.name), ...blocksPerNode.keys(), ...addressesPerNode.keys()])].sort();
  const nodes: NodeView[] = nodeNames.map((name) => {
    const count = blocksPerNode.get(name) ?? 0;
    return { name, blocks: count, addresses: addressesPerNode.get(name) ?? 0, nearLimit: count >= blockLimit * NEAR_LIMIT_SHARE };
  });

  const reservationViews: ReservationView[] = reservations.flatMap((r) =>
    (r.spec.reservedCIDRs ?? []).flatMap((text) => {
      const c = tryParseCidr(text, { allowBareAddress: true });
      if (!c) return [];
      const pool = geometry.findIndex((g) => g.cidr.version === c.version && cidrContains(g.cidr, { version: c.version, value: c.base }));
      return [{ name: r.metadata.name, cidr: text.includes('/') ? text : `${formatIp({ version: c.version, value: c.base })}/${c.prefix}`, pool }];
    }),
  );

  return {
    summary: {
      takenAt: takenAt.toISOString(),
      config: { strictAffinity: config.strictAffinity, maxBlocksPerHost: config.maxBlocksPerHost, blockLimit },
      pools,
      blocks,
      nodes,
      reservations: reservationViews,
      problems,
      totals: { blocks: blocks.length, allocations: f.allocations.length, nodes: nodes.length, problems: f.problems },
    },
    allocationsByBlock: new Map([...allocationsByBlock].map(([k, v]) => [k, v.sort((x, y) => compareAddresses(x.address, y.address))])),
    blockByCidr: new Map(blocks.map((b) => [b.cidr, b])),
  };
}

function compareAddresses(x: string, y: string): number {
  const a = tryParseIp(x)?.value ?? 0n;
  const b = tryParseIp(y)?.value ?? 0n;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Asks the allocator for everything the page shows, in parallel. */
export async function takeSnapshot(api: SnapshotApi, now: () => Date = () => new Date()): Promise<Snapshot> {
  const [findings, config, reservationList] = await Promise.all([gatherFindings(api), api.ipam.getIpamConfig({}), api.resources.list({ kind: 'IPReservation' })]);
  const reservations = reservationList.resourceJson.map((j) => JSON.parse(j) as IPReservation);
  return snapshotFrom(findings, config, reservations, now());
}

/** One block with its allocations; undefined when no such block exists. */
export function blockDetail(s: Snapshot, cidr: string): BlockDetail | undefined {
  const block = s.blockByCidr.get(cidr);
  if (!block) return undefined;
  const c = parseCidrDetailed(cidr).cidr;
  const overlaps = (text: string) => {
    const r = tryParseCidr(text, { allowBareAddress: true });
    return r !== undefined && r.version === c.version && (cidrContains(c, { version: r.version, value: r.base }) || cidrContains(r, { version: c.version, value: c.base }));
  };
  const allocations = s.allocationsByBlock.get(cidr) ?? [];
  const reservedCidrs = s.summary.reservations.filter((r) => overlaps(r.cidr)).map((r) => r.cidr);
  let addresses: AddressSlot[] | undefined;
  const size = 1n << BigInt(bitsOf(c.version) - c.prefix);
  if (size <= BigInt(ADDRESS_GRID_LIMIT)) {
    const reserved = reservedCidrs.map((r) => tryParseCidr(r, { allowBareAddress: true })).filter((r): r is Cidr => r !== undefined);
    const holders = new Map(allocations.map((a, i) => [a.address, i]));
    addresses = [];
    for (let i = 0n; i < size; i++) {
      const ip = { version: c.version, value: c.base + i };
      const address = formatIp(ip);
      addresses.push({ address, holder: holders.get(address) ?? -1, reserved: reserved.some((r) => cidrContains(r, ip)) });
    }
  }
  return {
    block,
    ...(addresses && { addresses }),
    strictAffinity: s.summary.config.strictAffinity,
    allocations,
    reservedCidrs,
    problems: s.summary.problems.filter((p) => p.block === cidr),
  };
}

export const SEARCH_LIMIT = 20;

/** An address, a block CIDR, a pod ("pod" or "namespace/pod") or a node name → where to look. */
export function search(s: Snapshot, query: string): SearchHit[] {
  const q = query.trim();
  if (q === '') return [];
  const ip = tryParseIp(q);
  if (ip) {
    const address = formatIp(ip);
    for (const [block, list] of s.allocationsByBlock) {
      const a = list.find((x) => x.address === address);
      if (a) return [{ kind: 'address', label: `${address}: ${a.pod ? `${a.namespace}/${a.pod}` : a.handle}`, block, address }];
    }
    for (const [cidr] of s.blockByCidr) {
      const c = parseCidrDetailed(cidr).cidr;
      if (cidrContains(c, ip)) return [{ kind: 'address', label: `${address}: free, in block ${cidr}`, block: cidr, address }];
    }
    return [];
  }
  if (q.includes('/') && tryParseCidr(q) && s.blockByCidr.has(q)) return [{ kind: 'block', label: `block ${q}`, block: q }];
  const hits: SearchHit[] = [];
  const node = s.summary.nodes.find((n) => n.name === q);
  if (node) {
    const first = s.summary.blocks.find((b) => b.node === q);
    hits.push({ kind: 'node', label: `node ${q}: ${node.blocks} blocks, ${node.addresses} addresses`, node: q, ...(first && { block: first.cidr }) });
  }
  const needle = q.toLowerCase();
  const exact: SearchHit[] = [];
  const partial: SearchHit[] = [];
  for (const [block, list] of s.allocationsByBlock) {
    for (const a of list) {
      if (!a.pod) continue;
      const full = `${a.namespace}/${a.pod}`;
      const hit: SearchHit = { kind: 'pod', label: `${full} ${a.address}`, block, address: a.address };
      if (a.pod === q || full === q) exact.push(hit);
      else if (partial.length < SEARCH_LIMIT && full.toLowerCase().includes(needle)) partial.push(hit);
    }
  }
  if (!node) {
    for (const n of s.summary.nodes) {
      if (partial.length >= SEARCH_LIMIT) break;
      if (n.name.toLowerCase().includes(needle)) {
        const first = s.summary.blocks.find((b) => b.node === n.name);
        partial.push({ kind: 'node', label: `node ${n.name}`, node: n.name, ...(first && { block: first.cidr }) });
      }
    }
  }
  return [...hits, ...exact, ...partial].slice(0, SEARCH_LIMIT);
}

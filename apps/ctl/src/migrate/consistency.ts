import { addressAt, cidrContainsCidr, formatCidr, formatIp, parseCidrDetailed, tryParseCidr, type Cidr } from '@atoll/ipmath';
import { affinityString, decodeAffinity, decodeBlock, decodeHandle, parseAffinityKey, parseHandleKey, parseJsonLossless, type AllocationBlock } from '@atoll/model';
import { describeRecord, nodeTunnels, type MigrationRecord } from './records';

// The rules a set of records must meet before it is written anywhere — the same ones
// `ipam check` applies (every allocation has a handle whose counts agree with the blocks,
// every affinity has its block, every block lies in a pool and its owner has an
// affinity, every node tunnel address is allocated) plus the block's own structure.
// Each problem names the Calico object it is about.

function blockStructureProblems(b: AllocationBlock): string[] {
  const size = 2 ** ((b.cidr.version === 4 ? 32 : 128) - b.cidr.prefix);
  const out: string[] = [];
  if (b.allocations.length !== size) return [`has ${b.allocations.length} allocation slots, a /${b.cidr.prefix} has ${size}`];
  const free = new Set<number>();
  for (const u of b.unallocated) {
    if (u < 0 || u >= size) out.push(`unallocated lists ordinal ${u}, outside the block`);
    else if (free.has(u)) out.push(`unallocated lists ordinal ${u} twice`);
    else if (b.allocations[u] !== null) out.push(`unallocated lists ordinal ${u}, which is allocated`);
    free.add(u);
  }
  b.allocations.forEach((a, ord) => {
    if (a === null && !free.has(ord)) out.push(`ordinal ${ord} is neither allocated nor in unallocated`);
    if (a !== null && (a < 0 || a >= b.attributes.length)) out.push(`ordinal ${ord} points at attribute ${a}, which does not exist`);
  });
  return out;
}

export function consistencyProblems(records: readonly MigrationRecord[]): string[] {
  const problems: string[] = [];
  const blocks = new Map<string, { rec: MigrationRecord; block: AllocationBlock }>();
  const handles = new Map<string, { rec: MigrationRecord; counts: Readonly<Record<string, number>> }>();
  const pools: Cidr[] = [];
  const affinities: { rec: MigrationRecord; owner: string; cidr: string; state: string }[] = [];
  const tunnels: { node: string; ip: string }[] = [];
  for (const rec of records) {
    switch (rec.kind) {
      case 'IPAMBlock': {
        const block = decodeBlock(rec.value);
        blocks.set(formatCidr(block.cidr), { rec, block });
        break;
      }
      case 'IPAMHandle':
        handles.set(parseHandleKey(rec.key)!, { rec, counts: decodeHandle(rec.value).block });
        break;
      case 'BlockAffinity': {
        const k = parseAffinityKey(rec.key)!;
        affinities.push({ rec, owner: affinityString(k.type, k.host), cidr: formatCidr(k.cidr), state: decodeAffinity(rec.value).state });
        break;
      }
      case 'IPPool': {
        const cidr = tryParseCidr(String((parseJsonLossless(rec.value) as { spec?: { cidr?: unknown } }).spec?.cidr));
        if (cidr) pools.push(cidr);
        break;
      }
      case 'Node': {
        const node = describeRecord(rec).slice('Node '.length);
        for (const ip of Object.values(nodeTunnels(rec.value))) tunnels.push({ node, ip });
        break;
      }
      default:
        break;
    }
  }

  const actual = new Map<string, Map<string, number>>(); // handle → block → count
  const allocated = new Set<string>();
  for (const [cidrText, { rec, block }] of blocks) {
    const what = describeRecord(rec);
    const structure = blockStructureProblems(block);
    for (const p of structure) problems.push(`${what}: ${p}`);
    if (structure.length > 0) continue;
    if (!pools.some((p) => cidrContainsCidr(p, block.cidr))) problems.push(`${what}: ${cidrText} lies in no IPPool`);
    block.allocations.forEach((a, ord) => {
      if (a === null) return;
      const address = formatIp(addressAt(block.cidr, ord));
      allocated.add(address);
      const attr = block.attributes[a];
      // A released address cooling down is not an allocation (as in `ipam check`).
      if (attr?.releasedAt !== undefined) return;
      const handleId = attr?.handleId;
      if (handleId === undefined) return void problems.push(`${what}: address ${address} has no handle`);
      if (!handles.has(handleId)) problems.push(`${what}: address ${address} belongs to handle ${handleId}, which has no IPAMHandle`);
      const perBlock = actual.get(handleId) ?? new Map<string, number>();
      perBlock.set(cidrText, (perBlock.get(cidrText) ?? 0) + 1);
      actual.set(handleId, perBlock);
    });
  }
  for (const [id, { rec, counts }] of handles) {
    const real = actual.get(id);
    const named = new Set([...Object.keys(counts), ...(real?.keys() ?? [])]);
    if (named.size === 0) problems.push(`${describeRecord(rec)}: counts no address in any block`);
    for (const cidr of named) {
      const recorded = counts[cidr] ?? 0;
      const got = real?.get(cidr) ?? 0;
      if (recorded !== got) problems.push(`${describeRecord(rec)}: counts ${recorded} address(es) of ${id} in block ${cidr}, the block holds ${got}`);
    }
  }
  const confirmedOwners = new Set<string>();
  for (const a of affinities) {
    const b = blocks.get(a.cidr);
    if (!b) {
      problems.push(`${describeRecord(a.rec)}: its block ${a.cidr} does not exist`);
      continue;
    }
    if (a.state === 'confirmed') {
      confirmedOwners.add(`${a.owner} ${a.cidr}`);
      if (b.block.affinity !== a.owner) problems.push(`${describeRecord(a.rec)}: block ${a.cidr} belongs to ${b.block.affinity ?? 'no node'}`);
    }
  }
  for (const [cidrText, { rec, block }] of blocks) {
    if (block.affinity !== null && !confirmedOwners.has(`${block.affinity} ${cidrText}`)) {
      problems.push(`${describeRecord(rec)}: affine to ${block.affinity} but no confirmed BlockAffinity says so`);
    }
  }
  for (const t of tunnels) {
    let address: string;
    try {
      address = formatIp(parseCidrDetailed(t.ip, { allowBareAddress: true }).address);
    } catch {
      problems.push(`Node ${t.node}: tunnel address ${JSON.stringify(t.ip)} is not an address`);
      continue;
    }
    if (!allocated.has(address)) problems.push(`Node ${t.node}: tunnel address ${address} has no IPAM allocation`);
  }
  return problems;
}

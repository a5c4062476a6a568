import { cidrsOverlap, formatCidr, formatIp, addressAt, tryParseCidr } from '@atoll/ipmath';
import { decodeBlock, parseBlockKey, parseJsonLossless, stringifyJsonLossless } from '@atoll/model';
import type { PlannedWrite, StoredMigrationRecord } from './atoll-records';
import { canonicalValue, countByKind, describeRecord, firstDifference, nodeTunnels, type KindCounts, type MigrationRecord, type RecordKind } from './records';

// Source records against what the Atoll datastore holds: what to write, what is already
// there, and what stands in the way. A record already present with the same meaning is
// left alone (a second run writes nothing); one present with another meaning is never
// overwritten. Nodes are the exception by design: the node agent owns a node's labels and
// addresses, the migration only its tunnel addresses, so those are merged into a node
// that exists when it has none of its own.

export interface AtollPlan {
  readonly writes: PlannedWrite[];
  readonly alreadyPresent: KindCounts;
  /** Source records the destination holds with another meaning (always refused). */
  readonly conflicts: string[];
  /** Destination records the source does not have (refused without --merge). */
  readonly onlyInAtoll: string[];
}

/** Order of writing: pools last, so nothing allocates from a pool before its blocks exist. */
const WRITE_ORDER: readonly RecordKind[] = ['IPAMHandle', 'IPAMBlock', 'BlockAffinity', 'IPAMConfig', 'IPReservation', 'Node', 'IPPool'];

function mergedNode(existing: StoredMigrationRecord, wanted: MigrationRecord): string | 'conflict' | 'same' {
  const have = nodeTunnels(existing.value);
  const want = nodeTunnels(wanted.value);
  let changed = false;
  for (const k of Object.keys(want) as (keyof typeof want)[]) {
    if (have[k] === undefined) changed = true;
    else if (have[k] !== want[k]) return 'conflict';
  }
  if (!changed) return 'same';
  const node = parseJsonLossless(existing.value) as { spec?: Record<string, unknown> };
  const spec = { ...(node.spec ?? {}) } as { bgp?: Record<string, unknown>; ipv4VXLANTunnelAddr?: string; ipv6VXLANTunnelAddr?: string };
  if (want.ipip) spec.bgp = { ...(spec.bgp ?? {}), ipv4IPIPTunnelAddr: want.ipip };
  if (want.vxlan) spec.ipv4VXLANTunnelAddr = want.vxlan;
  if (want.vxlanV6) spec.ipv6VXLANTunnelAddr = want.vxlanV6;
  return stringifyJsonLossless({ ...node, spec });
}

/** Addresses allocated in both versions of a block to different handles. */
function conflictingAddresses(ours: string, theirs: string): string[] {
  const a = decodeBlock(ours);
  const b = decodeBlock(theirs);
  const out: string[] = [];
  a.allocations.forEach((ia, ord) => {
    const ib = b.allocations[ord];
    if (ia === null || ib === null || ib === undefined) return;
    const ha = a.attributes[ia]?.handleId;
    const hb = b.attributes[ib]?.handleId;
    if (ha !== hb) out.push(`${formatIp(addressAt(a.cidr, ord))} (${ha ?? 'no handle'} in Calico, ${hb ?? 'no handle'} in Atoll)`);
  });
  return out;
}

export function planToAtoll(source: readonly MigrationRecord[], atoll: ReadonlyMap<string, StoredMigrationRecord>): AtollPlan {
  const writes: PlannedWrite[] = [];
  const present: MigrationRecord[] = [];
  const conflicts: string[] = [];
  const sourceKeys = new Set(source.map((r) => r.key));
  for (const r of source) {
    const have = atoll.get(r.key);
    if (!have) {
      writes.push({ kind: r.kind, key: r.key, value: r.value, expectRevision: '0' });
      continue;
    }
    if (r.kind === 'Node') {
      const merged = mergedNode(have, r);
      if (merged === 'same') present.push(r);
      else if (merged === 'conflict') conflicts.push(`${describeRecord(r)}: tunnel addresses differ: ${firstDifference('Node', r.value, have.value)}`);
      else writes.push({ kind: r.kind, key: r.key, value: merged, expectRevision: have.revision });
      continue;
    }
    if (canonicalValue(r.kind, r.value) === canonicalValue(r.kind, have.value)) {
      present.push(r);
      continue;
    }
    const addresses = r.kind === 'IPAMBlock' ? conflictingAddresses(r.value, have.value) : [];
    conflicts.push(
      addresses.length > 0
        ? `${describeRecord(r)}: conflicting addresses ${addresses.slice(0, 5).join(', ')}${addresses.length > 5 ? ` and ${addresses.length - 5} more` : ''}`
        : `${describeRecord(r)} differs: ${firstDifference(r.kind, r.value, have.value)}`,
    );
  }
  // Blocks and pools of another name that overlap the source's take the same addresses.
  const ranges = (kind: RecordKind, recs: Iterable<MigrationRecord>) =>
    [...recs].filter((x) => x.kind === kind).map((x) => ({ rec: x, cidr: kind === 'IPAMBlock' ? parseBlockKey(x.key) : tryParseCidr(String((parseJsonLossless(x.value) as { spec?: { cidr?: unknown } }).spec?.cidr)) }));
  const onlyInAtoll = [...atoll.values()].filter((r) => !sourceKeys.has(r.key) && r.kind !== 'Node');
  for (const kind of ['IPAMBlock', 'IPPool'] as const) {
    const theirs = ranges(kind, onlyInAtoll);
    for (const ours of ranges(kind, source)) {
      for (const t of theirs) {
        if (ours.cidr && t.cidr && cidrsOverlap(ours.cidr, t.cidr)) {
          conflicts.push(`${describeRecord(ours.rec)} (${formatCidr(ours.cidr)}) overlaps ${describeRecord(t.rec)} (${formatCidr(t.cidr)}) in Atoll`);
        }
      }
    }
  }
  const rank = (k: RecordKind) => WRITE_ORDER.indexOf(k);
  writes.sort((a, b) => rank(a.kind) - rank(b.kind));
  return { writes, alreadyPresent: countByKind(present), conflicts, onlyInAtoll: onlyInAtoll.map((r) => `${describeRecord(r)} exists only in Atoll`) };
}

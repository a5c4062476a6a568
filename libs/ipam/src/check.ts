import { addressAt, cidrContainsCidr, formatCidr, formatIp } from '@atoll/ipmath';
import { affinityString } from '@atoll/model';
import { Datastore } from '@atoll/store';
import { blockProblems } from './block';
import { IpamRecords } from './io';
import type { PoolView } from './types';

// A consistency report over the whole datastore, like `calicoctl ipam check` without the
// Kubernetes side: it reads a snapshot and says what does not add up. Atoll writes a
// block and its handles in one transaction, so on Atoll-written data every list below is
// empty; the report finds damage, and leftovers from other writers.

export interface CheckReport {
  readonly blocks: number;
  readonly allocations: number;
  readonly handles: number;
  readonly affinities: number;
  /** Blocks whose structure is broken (indexes, duplicates, counts). */
  readonly invalidBlocks: readonly { readonly block: string; readonly problems: readonly string[] }[];
  /** Handle records that no allocation points at. */
  readonly handlesWithoutAddresses: readonly string[];
  /** Allocations whose handle has no handle record. */
  readonly addressesWithoutHandle: readonly { readonly address: string; readonly handleId: string }[];
  /** Handle counts that differ from what the blocks hold. */
  readonly miscountedHandles: readonly { readonly handleId: string; readonly block: string; readonly recorded: number; readonly actual: number }[];
  /** Blocks inside no pool. */
  readonly blocksOutsidePools: readonly string[];
  /** Affinities whose block is missing or names another owner, and blocks whose owner has no affinity. */
  readonly affinityProblems: readonly { readonly key: string; readonly problem: string }[];
  /** Total number of problems found. */
  readonly problems: number;
}

export async function checkConsistency(ds: Datastore, pools: readonly PoolView[], now: Date): Promise<CheckReport> {
  const records = new IpamRecords(ds);
  // Handles first, blocks second: an allocation racing the check then shows up as a
  // block entry whose handle is newer, never as a handle whose block is missing.
  const handles = await records.listHandles();
  const [blocks, hostAff, virtualAff] = await Promise.all([records.listBlocks(), records.listAffinities('host'), records.listAffinities('virtual')]);

  const invalidBlocks: { block: string; problems: string[] }[] = [];
  const actual = new Map<string, Map<string, number>>(); // handle → block → count
  const addressesWithoutHandle: { address: string; handleId: string }[] = [];
  const handleIds = new Set(handles.map((h) => h.handleId));
  let allocations = 0;

  for (const b of blocks) {
    const problems = blockProblems(b.value, now);
    if (problems.length > 0) invalidBlocks.push({ block: b.cidrText, problems });
    b.value.allocations.forEach((a, ord) => {
      if (a === null) return;
      const attr = b.value.attributes[a];
      if (!attr || attr.releasedAt !== undefined) return;
      allocations++;
      if (attr.handleId === undefined) return;
      const perBlock = actual.get(attr.handleId) ?? new Map<string, number>();
      perBlock.set(b.cidrText, (perBlock.get(b.cidrText) ?? 0) + 1);
      actual.set(attr.handleId, perBlock);
      if (!handleIds.has(attr.handleId)) {
        addressesWithoutHandle.push({ address: formatIp(addressAt(b.value.cidr, ord)), handleId: attr.handleId });
      }
    });
  }

  const handlesWithoutAddresses: string[] = [];
  const miscountedHandles: { handleId: string; block: string; recorded: number; actual: number }[] = [];
  for (const h of handles) {
    const real = actual.get(h.handleId);
    if (!real) handlesWithoutAddresses.push(h.handleId);
    const blocksNamed = new Set([...Object.keys(h.value.block), ...(real?.keys() ?? [])]);
    for (const block of blocksNamed) {
      const recorded = h.value.block[block] ?? 0;
      const got = real?.get(block) ?? 0;
      if (recorded !== got) miscountedHandles.push({ handleId: h.handleId, block, recorded, actual: got });
    }
  }

  const blocksOutsidePools = blocks.filter((b) => !pools.some((p) => cidrContainsCidr(p.cidr, b.value.cidr))).map((b) => b.cidrText);

  const affinityProblems: { key: string; problem: string }[] = [];
  const blockByCidr = new Map(blocks.map((b) => [b.cidrText, b]));
  const affined = new Set<string>();
  for (const a of [...hostAff, ...virtualAff]) {
    if (a.value.state !== 'confirmed') continue;
    const cidr = blockByCidr.get(formatCidr(a.id.cidr));
    const owner = affinityString(a.id.type, a.id.host);
    affined.add(`${owner} ${cidr?.cidrText ?? ''}`);
    if (!cidr) affinityProblems.push({ key: a.key, problem: 'confirmed affinity for a block that does not exist' });
    else if (cidr.value.affinity !== owner) {
      affinityProblems.push({ key: a.key, problem: `block ${cidr.cidrText} belongs to ${cidr.value.affinity ?? 'nobody'}` });
    }
  }
  for (const b of blocks) {
    if (b.value.affinity !== null && !affined.has(`${b.value.affinity} ${b.cidrText}`)) {
      affinityProblems.push({ key: b.key, problem: `block says ${b.value.affinity} but there is no confirmed affinity for it` });
    }
  }

  const problems =
    invalidBlocks.length +
    handlesWithoutAddresses.length +
    addressesWithoutHandle.length +
    miscountedHandles.length +
    blocksOutsidePools.length +
    affinityProblems.length;
  return {
    blocks: blocks.length,
    allocations,
    handles: handles.length,
    affinities: hostAff.length + virtualAff.length,
    invalidBlocks,
    handlesWithoutAddresses,
    addressesWithoutHandle,
    miscountedHandles,
    blocksOutsidePools,
    affinityProblems,
    problems,
  };
}

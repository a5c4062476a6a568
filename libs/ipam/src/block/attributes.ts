import type { AllocationAttribute, AllocationBlock } from '@atoll/model';

// Attribute table upkeep shared by assign and release: entries are shared by every
// ordinal that points at an equal entry, and entries nothing points at are dropped.

function sameMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

export function sameAttribute(a: AllocationAttribute, b: AllocationAttribute): boolean {
  return (
    a.handleId === b.handleId &&
    a.releasedAt === b.releasedAt &&
    sameMap(a.secondary, b.secondary) &&
    sameMap(a.alternateOwnerAttrs, b.alternateOwnerAttrs)
  );
}

/** Index of an equal attribute, appending one when there is none. Returns the new table. */
export function findOrAddAttribute(
  attributes: readonly AllocationAttribute[],
  attr: AllocationAttribute,
): { attributes: readonly AllocationAttribute[]; index: number } {
  const found = attributes.findIndex((a) => sameAttribute(a, attr));
  if (found >= 0) return { attributes, index: found };
  return { attributes: [...attributes, attr], index: attributes.length };
}

/** Drops attribute entries that no allocation references and renumbers the rest. */
export function compactAttributes(
  block: Pick<AllocationBlock, 'allocations' | 'attributes'>,
): Pick<AllocationBlock, 'allocations' | 'attributes'> {
  const used = new Set<number>();
  for (const a of block.allocations) if (a !== null) used.add(a);
  if (used.size === block.attributes.length) return block;
  const renumber = new Map<number, number>();
  const attributes: AllocationAttribute[] = [];
  block.attributes.forEach((attr, i) => {
    if (used.has(i)) {
      renumber.set(i, attributes.length);
      attributes.push(attr);
    }
  });
  return { allocations: block.allocations.map((a) => (a === null ? null : (renumber.get(a) ?? null))), attributes };
}

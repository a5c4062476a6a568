import { blockLength, formatCidr } from '@atoll/ipmath';
import type { AllocationBlock } from '@atoll/model';

/**
 * The structural invariants of a block (what `calicoctl ipam check` calls an invalid
 * IPAMBlock). Returns the problems found; an empty list means the block is sound.
 */
export function blockProblems(block: AllocationBlock, now: Date = new Date()): string[] {
  const problems: string[] = [];
  const name = formatCidr(block.cidr);
  let size: number;
  try {
    size = blockLength(block.cidr);
  } catch {
    return [`block ${name}: CIDR too large for a block`];
  }
  if (block.allocations.length !== size) {
    problems.push(`block ${name}: ${block.allocations.length} allocation entries for ${size} addresses`);
  }
  const referenced = new Set<number>();
  let allocated = 0;
  block.allocations.forEach((a, ord) => {
    if (a === null) return;
    allocated++;
    if (!Number.isInteger(a) || a < 0 || a >= block.attributes.length) {
      problems.push(`block ${name}: ordinal ${ord} points at attribute ${a}, which does not exist`);
    } else referenced.add(a);
  });
  block.attributes.forEach((attr, i) => {
    if (!referenced.has(i)) problems.push(`block ${name}: attribute ${i} is not referenced by any allocation`);
    if (attr.releasedAt !== undefined && Date.parse(attr.releasedAt) > now.getTime() + 60_000) {
      problems.push(`block ${name}: attribute ${i} was released in the future (${attr.releasedAt})`);
    }
  });
  const seen = new Set<number>();
  for (const o of block.unallocated) {
    if (!Number.isInteger(o) || o < 0 || o >= size) problems.push(`block ${name}: unallocated ordinal ${o} is outside the block`);
    else if (seen.has(o)) problems.push(`block ${name}: ordinal ${o} is listed twice in unallocated`);
    else if (block.allocations[o] !== null) problems.push(`block ${name}: ordinal ${o} is both allocated and unallocated`);
    seen.add(o);
  }
  if (allocated + seen.size !== size) {
    problems.push(`block ${name}: ${allocated} allocated + ${seen.size} unallocated != ${size} addresses`);
  }
  return problems;
}

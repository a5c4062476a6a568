import { Cidr, cidrEquals, cidrsOverlap, parseCidr, tryParseCidr } from '@atoll/ipmath';
import { applyIPPoolDefaults, IPPool, parsePoolCidr } from './ippool';
import { ProblemList } from './problem-list';
import { ValidationError } from './validation-error';

// Checks that need other objects, which the caller reads and passes in: this library does
// no I/O. Each assumes the pools themselves passed validateIPPool; a CIDR that does not
// parse is skipped here (Calico logs and skips such pools too).

/**
 * Create-time checks against what already exists (Calico clientv3 IPPool Create):
 * - the CIDR must not overlap another pool's: one problem per overlapping pool, worded
 *   `IPPool(<new>) CIDR overlaps with IPPool(<other>) CIDR <other's CIDR as stored>`;
 *   a pool with the same name is skipped (that is the "already exists" case, not an overlap);
 * - no existing block overlapping the CIDR may have a different size from the pool's
 *   blockSize (blocks of another size would be carved from the same range).
 */
export function validatePoolAgainstExisting(
  newPool: IPPool,
  existingPools: readonly IPPool[],
  existingBlockCidrs: readonly (Cidr | string)[] = [],
): ValidationError[] {
  const problems = new ProblemList('IPPool', newPool.metadata.name);
  const parsed = parsePoolCidr(newPool.spec.cidr);
  if (!parsed) return [];
  for (const other of existingPools) {
    if (other.metadata.name === newPool.metadata.name) continue;
    const otherCidr = tryParseCidr(other.spec.cidr);
    if (!otherCidr || !cidrsOverlap(parsed.cidr, otherCidr)) continue;
    problems.add(
      'spec.cidr',
      `IPPool(${newPool.metadata.name}) CIDR overlaps with IPPool(${other.metadata.name}) CIDR ${other.spec.cidr}`,
    );
  }
  problems.problems.push(...validatePoolBlockSize(newPool, existingBlockCidrs));
  return problems.problems;
}

/**
 * The block-size half of the create check on its own: problems when an existing block
 * overlapping the pool has a size other than the pool's (defaulted) blockSize.
 */
export function validatePoolBlockSize(pool: IPPool, existingBlockCidrs: readonly (Cidr | string)[]): ValidationError[] {
  const problems = new ProblemList('IPPool', pool.metadata.name);
  const parsed = parsePoolCidr(pool.spec.cidr);
  if (!parsed) return [];
  const blockSize = applyIPPoolDefaults(pool).spec.blockSize;
  const conflict = existingBlockCidrs.some((block) => {
    const cidr = typeof block === 'string' ? tryParseCidr(block) : block;
    return cidr !== undefined && cidr.prefix !== blockSize && cidrsOverlap(cidr, parsed.cidr);
  });
  if (conflict) {
    problems.add(
      'spec.blockSize',
      'IPPool blocksSize conflicts with existing allocations that use a different blockSize',
      blockSize,
    );
  }
  return problems.problems;
}

/**
 * Update-time rules (Calico clientv3 IPPool Update), comparing defaulted values:
 * - the CIDR cannot change; the same network written differently is not a change (Calico's
 *   cidrChangeOK accepts e.g. "fd00:0::/122" → "fd00::/122");
 * - the blockSize cannot change (blocks already carved would no longer match);
 * - a LoadBalancer pool cannot become a Workload or Tunnel pool.
 * Only these: run validateIPPool on the new pool as well.
 */
export function validatePoolUpdate(oldPool: IPPool, newPool: IPPool): ValidationError[] {
  const problems = new ProblemList('IPPool', newPool.metadata.name);
  const before = applyIPPoolDefaults(oldPool).spec;
  const after = applyIPPoolDefaults(newPool).spec;

  if (!sameNetwork(before.cidr, after.cidr)) {
    problems.add('spec.cidr', 'IPPool CIDR cannot be modified', after.cidr);
  }
  if (before.blockSize !== after.blockSize) {
    problems.add('spec.blockSize', 'IPPool BlockSize cannot be modified', after.blockSize);
  }
  // Calico's text reads "LoadBalacer" (sic); the typo is not kept.
  if (before.allowedUses.includes('LoadBalancer') && after.allowedUses.some((use) => use !== 'LoadBalancer')) {
    problems.add('spec.allowedUses', 'IPPool allowed use cannot be changed from LoadBalancer to Workload or Tunnel');
  }
  return problems.problems;
}

function sameNetwork(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return cidrEquals(parseCidr(a), parseCidr(b));
  } catch {
    return false;
  }
}

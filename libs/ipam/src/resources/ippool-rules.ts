import { tryParseCidr } from '@atoll/ipmath';
import { blockPrefix, IPPool, parseBlockKey, validatePoolAgainstExisting, validatePoolUpdate } from '@atoll/model';
import { Datastore } from '@atoll/store';
import { io } from '../io';
import { invalidResource } from './resource-errors';
import { listStoredResources } from './resource-records';

// The IPPool checks that need what is stored (Calico clientv3 ippool.go). The rules
// themselves live in @atoll/model; this file only reads their inputs.

/**
 * Create: the CIDR must not overlap another stored pool, and no existing block inside it
 * may have another size than the pool's blockSize. Pools whose value cannot be read are
 * skipped, as Calico skips pools with an unparsable CIDR.
 *
 * Like Calico, this is a check before the write, not part of its compare: two pools
 * created at the same moment can both pass it (see README, "Known limits").
 */
export async function checkPoolCreate(ds: Datastore, pool: IPPool): Promise<void> {
  const version = tryParseCidr(pool.spec.cidr)?.version;
  const [pools, blocks] = await Promise.all([
    listStoredResources<IPPool>(ds, 'IPPool', { skipUnreadable: true }),
    io(() => ds.list(blockPrefix(version))),
  ]);
  const blockCidrs = blocks.items.flatMap((kv) => parseBlockKey(kv.key) ?? []);
  const problems = validatePoolAgainstExisting(
    pool,
    pools.map((p) => p.resource).filter((p) => typeof p.spec?.cidr === 'string'),
    blockCidrs,
  );
  if (problems.length > 0) throw invalidResource(problems);
}

/** Update: CIDR and blockSize are immutable, a LoadBalancer pool stays one. */
export function checkPoolUpdate(stored: IPPool, next: IPPool): void {
  const problems = validatePoolUpdate(stored, next);
  if (problems.length > 0) throw invalidResource(problems);
}

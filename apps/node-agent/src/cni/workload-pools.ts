import type { AllocatorClients } from '@atoll/api';
import { applyIPPoolDefaults, parseJsonLossless, type IPPool } from '@atoll/model';
import type { WorkloadPool } from './address-list';

/** The IPPools as an address list is checked against (defaults applied: allowedUses, disabled). */
export async function readWorkloadPools(resources: Pick<AllocatorClients['resources'], 'list'>): Promise<WorkloadPool[]> {
  const { resourceJson } = await resources.list({ kind: 'IPPool' });
  return resourceJson.map((j) => {
    const p = applyIPPoolDefaults(parseJsonLossless(j) as unknown as IPPool);
    return { cidr: p.spec.cidr, disabled: Boolean(p.spec.disabled), allowedUses: [...(p.spec.allowedUses ?? [])] };
  });
}

import { IpamError } from './errors';
import type { AutoAssignRequest, AutoAssignResult, FamilyAssignment, Ipam } from './ipam';

function familyError(fam: FamilyAssignment, name: 'IPv4' | 'IPv6'): IpamError | undefined {
  if (fam.requested === 0 || (fam.ips.length >= fam.requested && !fam.error)) return undefined;
  const text = [`Assigned ${fam.ips.length} out of ${fam.requested} requested ${name} addresses`, ...fam.msgs].join('; ');
  if (fam.error) return new IpamError(fam.error.code, `failed to request ${name} addresses: ${fam.error.message}; ${text}`, { cause: fam.error });
  return new IpamError('pool-exhausted', `failed to request ${name} addresses: ${text}`);
}

/**
 * Calico's PartialFulfillmentError: undefined when every requested address was assigned,
 * else an error saying what was missing and Calico's messages for why.
 */
export function partialFulfillmentError(result: AutoAssignResult): IpamError | undefined {
  return familyError(result.ipv4, 'IPv4') ?? familyError(result.ipv6, 'IPv6');
}

/**
 * Auto-assignment where anything short of the full request is a failure that leaves
 * nothing behind: dual stack gets both families or neither. What this call assigned is
 * released again (by address and handle, so earlier addresses of the handle stay).
 */
export async function autoAssignAllOrNothing(ipam: Ipam, req: AutoAssignRequest): Promise<AutoAssignResult> {
  const result = await ipam.autoAssign(req);
  const error = partialFulfillmentError(result);
  if (!error) return result;
  const assigned = [...result.ipv4.ips, ...result.ipv6.ips].map((ip) => ({ address: ip.split('/')[0]!, handleId: req.handleId }));
  if (assigned.length > 0) await ipam.releaseIPs(assigned);
  throw error;
}

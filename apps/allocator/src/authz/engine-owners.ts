import { isIpamError, type IpamEngine } from '@atoll/ipam';
import type { AllocationOwners } from './policy';

/**
 * Owners read through the engine: the handle's addresses, then each address's `node`
 * attribute (one handle read and one block read per address — not a listing of every block).
 */
export function engineOwners(engine: Pick<IpamEngine, 'ipsByHandle' | 'getAssignmentAttributes'>): AllocationOwners {
  const ownerOfAddress: AllocationOwners['ownerOfAddress'] = async (ip) => {
    try {
      const a = await engine.getAssignmentAttributes(ip);
      return { allocated: true, node: a.attributes['node'], attributes: a.attributes };
    } catch (err) {
      if (isIpamError(err, 'not-found') || isIpamError(err, 'in-cooldown')) return { allocated: false };
      throw err;
    }
  };
  return {
    ownerOfAddress,
    async nodesOfHandle(handleId) {
      let ips: string[];
      try {
        ips = await engine.ipsByHandle(handleId);
      } catch (err) {
        if (isIpamError(err, 'not-found')) return [];
        throw err;
      }
      const owners: (string | undefined)[] = [];
      for (const ip of ips) {
        const o = await ownerOfAddress(ip);
        if (o.allocated) owners.push(o.node);
      }
      return owners;
    },
  };
}

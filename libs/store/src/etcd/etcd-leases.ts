import { castGrpcError, EtcdLeaseInvalidError, type Etcd3, type ILeaseKeepAliveResponse } from 'etcd3';
import type { LeaseGrant } from '../datastore';
import type { EtcdCallOptions } from './etcd-call';

// etcd leases through etcd3's raw Lease RPCs. etcd3's own `Lease` class renews on a timer
// and reports a loss only after 2×TTL without an answer — too late for leader election —
// so the owner (src/election) runs its own keep-alive loop and these calls do one thing
// each. Leases are not namespaced: an ID is global to the cluster.

export async function grantEtcdLease(client: Etcd3, ttlSeconds: number, call: EtcdCallOptions): Promise<LeaseGrant> {
  const res = await client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 }, call);
  return { id: BigInt(res.ID), ttlSeconds: Number(res.TTL) };
}

/**
 * One keep-alive over a short-lived stream: write the ID, read one answer, close. etcd
 * answers TTL 0 for a lease it does not know (expired or revoked).
 */
export async function keepAliveEtcdLease(client: Etcd3, id: bigint, call: EtcdCallOptions): Promise<number | undefined> {
  const stream = await client.leaseClient.leaseKeepAlive(call);
  try {
    // A promise settles once: whatever the stream does after the first answer is ignored.
    const res = await new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
      stream.on('data', resolve);
      stream.on('error', (err: Error) => reject(castGrpcError(err)));
      stream.on('end', () => reject(castGrpcError(new Error('the lease keep-alive stream ended without an answer'))));
      stream.write({ ID: id.toString() });
    });
    const ttl = Number(res.TTL);
    return ttl > 0 ? ttl : undefined;
  } finally {
    stream.end();
  }
}

/** Revokes a lease; one that no longer exists is fine (it is already gone). */
export async function revokeEtcdLease(client: Etcd3, id: bigint, call: EtcdCallOptions): Promise<void> {
  try {
    await client.leaseClient.leaseRevoke({ ID: id.toString() }, call);
  } catch (err) {
    if (!(err instanceof EtcdLeaseInvalidError)) throw err;
  }
}

import { ipEquals, tryParseIp } from '@atoll/ipmath';
import { AttributeKeys, parseStickyHandle } from '@atoll/model';
import type { Allocation } from '../allocations';
import { WINDOWS_RESERVED_HANDLE } from '../block';
import type { GcPod } from './types';

/** The `type` attribute values of node tunnel addresses (calico-node's and Atoll's agent's). */
export const TUNNEL_ADDRESS_TYPES: ReadonlySet<string> = new Set([
  'ipipTunnelAddress',
  'vxlanTunnelAddress',
  'vxlanV6TunnelAddress',
  'wireguardTunnelAddress',
  'wireguardV6TunnelAddress',
]);

export type AllocationKind = 'windows-reserved' | 'sticky' | 'pod' | 'tunnel' | 'unknown';

/** What an allocation is for, from its handle and attributes. */
export function allocationKind(a: Allocation): AllocationKind {
  if (a.handleId?.toLowerCase() === WINDOWS_RESERVED_HANDLE) return 'windows-reserved';
  // A StatefulSet pod identity's address outlives its pods: judged by its StatefulSet, not by a pod.
  if (parseStickyHandle(a.handleId)) return 'sticky';
  if (a.attributes[AttributeKeys.namespace] && a.attributes[AttributeKeys.pod]) return 'pod';
  const type = a.attributes[AttributeKeys.type];
  if (type !== undefined && TUNNEL_ADDRESS_TYPES.has(type)) return 'tunnel';
  return 'unknown';
}

export interface Validity {
  readonly valid: boolean;
  readonly reason: string;
}

/**
 * Whether a pod's allocation is still in use (Calico's allocationIsValid), given the pod
 * it names (undefined: not found). The allocation's node is its `node` attribute.
 * Whatever cannot be judged counts as valid.
 */
export function podAllocationValidity(a: Allocation, pod: GcPod | undefined): Validity {
  if (!pod) return { valid: false, reason: 'pod not found' };
  const node = a.attributes[AttributeKeys.node];
  if (pod.nodeName && node && pod.nodeName !== node) return { valid: false, reason: `pod is now on node ${pod.nodeName}` };
  if (pod.podIPs.length === 0) return { valid: true, reason: 'pod IP not reported yet' };
  if (pod.phase === 'Failed' && pod.reason === 'Evicted') return { valid: false, reason: 'pod was evicted' };
  const address = tryParseIp(a.address);
  if (!address) return { valid: true, reason: 'address unreadable' };
  for (const text of pod.podIPs) {
    const ip = tryParseIp(text);
    if (!ip) return { valid: true, reason: `pod IP ${JSON.stringify(text)} unreadable` };
    if (ipEquals(ip, address)) return { valid: true, reason: 'pod has the address' };
  }
  return { valid: false, reason: 'pod does not have the address' };
}

/** Identity of an allocation across scans: a reassigned address gets another key. */
export function allocationKey(a: Allocation): string {
  return `${a.handleId ?? ''}|${a.address}|${a.sequenceNumber}`;
}

// Handles of sticky StatefulSet addresses. A sticky address belongs to a pod identity
// (namespace, StatefulSet, ordinal), not to a sandbox, so it is held under a handle that
// names the identity and lies outside `<network>.<containerID>`, which CNI DEL, CNI GC and
// the leak collector release:
//   atoll-sticky.<namespace>.<set>.<ordinal>       a sandbox of the pod uses it now
//   atoll-sticky-idle.<namespace>.<set>.<ordinal>  no sandbox does (DEL parked it there)
// Namespaces are DNS labels (no dots) and ordinals digits, so the set name, which may
// contain dots, is whatever lies between; the whole is a valid Calico handle ID.

export const STICKY_HANDLE_PREFIX = 'atoll-sticky.';
export const IDLE_STICKY_HANDLE_PREFIX = 'atoll-sticky-idle.';

export interface StickyIdentity {
  readonly namespace: string;
  readonly set: string;
  readonly ordinal: number;
}

export const stickyHandle = (id: StickyIdentity) => `${STICKY_HANDLE_PREFIX}${id.namespace}.${id.set}.${id.ordinal}`;
export const idleStickyHandle = (id: StickyIdentity) => `${IDLE_STICKY_HANDLE_PREFIX}${id.namespace}.${id.set}.${id.ordinal}`;

/** The identity a sticky handle (in use or idle) names; undefined for any other handle. */
export function parseStickyHandle(handleId: string | undefined): (StickyIdentity & { readonly idle: boolean }) | undefined {
  if (!handleId) return undefined;
  const idle = handleId.startsWith(IDLE_STICKY_HANDLE_PREFIX);
  if (!idle && !handleId.startsWith(STICKY_HANDLE_PREFIX)) return undefined;
  const m = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-.a-z0-9]*[a-z0-9])?)\.(0|[1-9]\d{0,8})$/.exec(handleId.slice((idle ? IDLE_STICKY_HANDLE_PREFIX : STICKY_HANDLE_PREFIX).length));
  return m ? { namespace: m[1]!, set: m[2]!, ordinal: Number(m[3]), idle } : undefined;
}

/** `namespace/set/ordinal`, as logs and atollctl name an identity. */
export const stickyIdentityText = (id: StickyIdentity) => `${id.namespace}/${id.set}/${id.ordinal}`;

import type { KubeObject } from './types';

// The pod strategy's graceful deletion (k8s.io/kubernetes pkg/registry/core/pod
// CheckGracefulDeleteStrategy), kept apart from the generic delete: a DELETE of a pod that
// runs on a node, with a grace period, only marks it — `deletionTimestamp` (now + grace)
// and `deletionGracePeriodSeconds` — and the pod stays readable and listed until a DELETE
// with grace 0 (the kubelet's, once its containers stopped) removes it. A later DELETE may
// shorten the grace, never lengthen it.
//
// The real apiserver defaults `spec.terminationGracePeriodSeconds` to 30 when a pod is
// created; the stand-in does not default it, so a pod created without it and deleted
// without a grace period is removed at once, as every earlier caller of the stand-in expects.

/** RFC 3339 without fractional seconds, as metav1.Time serialises. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function nonNegative(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/**
 * The grace period a pod's DELETE gets: 0 removes it now. `requested` is the request's
 * gracePeriodSeconds (body or query), if any.
 */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod['spec'] ?? {}) as { nodeName?: unknown; terminationGracePeriodSeconds?: unknown };
  const phase = ((pod['status'] ?? {}) as { phase?: unknown }).phase;
  // An unscheduled or finished pod has nothing to stop: it goes at once.
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  return requested ?? nonNegative(spec.terminationGracePeriodSeconds) ?? 0;
}

/** The pod marked for deletion in `graceSeconds`, or undefined when the existing mark is already as short. */
export function markedForDeletion(pod: KubeObject, graceSeconds: number, nowMs: number): KubeObject | undefined {
  const current = nonNegative(pod.metadata['deletionGracePeriodSeconds']);
  const deadline = nowMs + graceSeconds * 1000;
  const existing = typeof pod.metadata['deletionTimestamp'] === 'string' ? Date.parse(pod.metadata['deletionTimestamp']) : undefined;
  if (current !== undefined && existing !== undefined && existing <= deadline) return undefined;
  const next = structuredClone(pod);
  next.metadata['deletionTimestamp'] = timestamp(deadline);
  next.metadata['deletionGracePeriodSeconds'] = graceSeconds;
  return next;
}

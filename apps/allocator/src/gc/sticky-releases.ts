import { parseStickyHandle, stickyIdentityText, type StickyIdentity } from '@atoll/model';
import type { Allocation, IpamEngine } from '@atoll/ipam';
import type { Logger } from 'pino';
import type { GcMetrics } from './gc-metrics';
import type { GcStatefulSet, KubeView } from './kube-view';

// Sticky StatefulSet addresses (held under `atoll-sticky[-idle].<ns>.<set>.<ordinal>`) are
// no pod's leak: they end with their pod identity. The elected collector releases them
// once the identity has been ended for its grace period, re-checked live:
//   statefulset-deleted  the StatefulSet no longer exists;
//   scaled-down          the ordinal is not below spec.replicas;
//   not-sticky           neither the set's template nor its namespace says atoll.io/sticky: "true"
//                        (the template's "false" wins over the namespace, as on a pod).
// An address a sandbox still uses (not idle) is kept while the pod it names exists: a pod
// orphaned from its deleted set, or still stopping, keeps its address until it is gone.

export type StickyReleaseReason = 'statefulset-deleted' | 'scaled-down' | 'not-sticky';

const STICKY_ANNOTATION = 'atoll.io/sticky';

export interface StickyReleasesDeps {
  readonly engine: Pick<IpamEngine, 'releaseIPs'>;
  readonly kube: KubeView;
  readonly metrics: Pick<GcMetrics, 'stickyReleases'>;
  readonly log: Logger;
  readonly shouldStop: () => boolean;
}

/** Why the identity's addresses are no longer wanted, or undefined when they are. */
export function endedBecause(id: StickyIdentity, set: GcStatefulSet | undefined, namespaceAnnotations: Readonly<Record<string, string>> | undefined): StickyReleaseReason | undefined {
  if (!set) return 'statefulset-deleted';
  if (id.ordinal >= set.replicas) return 'scaled-down';
  const value = set.templateAnnotations[STICKY_ANNOTATION] ?? namespaceAnnotations?.[STICKY_ANNOTATION];
  return value === 'true' ? undefined : 'not-sticky';
}

export class StickyReleases {
  /** When each handle was first seen ended (and why): the grace counts from then. */
  private readonly endedSince = new Map<string, { at: number; reason: StickyReleaseReason }>();

  constructor(
    private readonly deps: StickyReleasesDeps,
    private readonly gracePeriodMs: number,
  ) {}

  /** Releases the sticky handles among `allocations` whose identity has ended for the grace; resolves to the addresses released. */
  async pass(allocations: readonly Allocation[], now: number): Promise<string[]> {
    // Without a complete list of sets every identity would look ended: wait for the cache.
    if (!this.deps.kube.statefulSetsSynced()) return [];
    const byHandle = new Map<string, Allocation[]>();
    for (const a of allocations) {
      if (!parseStickyHandle(a.handleId)) continue;
      byHandle.set(a.handleId!, [...(byHandle.get(a.handleId!) ?? []), a]);
    }
    for (const h of this.endedSince.keys()) if (!byHandle.has(h)) this.endedSince.delete(h);
    const namespaces = new Map<string, Promise<Readonly<Record<string, string>> | undefined>>();
    const nsAnnotations = (ns: string) => {
      if (!namespaces.has(ns)) namespaces.set(ns, this.deps.kube.getNamespaceAnnotationsLive(ns));
      return namespaces.get(ns)!;
    };
    const released: string[] = [];
    for (const [handleId, group] of byHandle) {
      if (this.deps.shouldStop()) break;
      const id = parseStickyHandle(handleId)!;
      try {
        const cached = this.deps.kube.statefulSet(id.namespace, id.set);
        const needsNs = cached && id.ordinal < cached.replicas && cached.templateAnnotations[STICKY_ANNOTATION] === undefined;
        const reason = endedBecause(id, cached, needsNs ? await nsAnnotations(id.namespace) : undefined);
        if (!reason) {
          this.endedSince.delete(handleId);
          continue;
        }
        const since = this.endedSince.get(handleId);
        if (!since || since.reason !== reason) {
          this.endedSince.set(handleId, { at: now, reason });
          if (this.gracePeriodMs > 0) continue;
        } else if (now - since.at <= this.gracePeriodMs) continue;
        released.push(...(await this.release(id, handleId, group)));
      } catch (err) {
        this.deps.log.warn({ err, handle: handleId }, 'could not judge the sticky addresses; keeping them for now');
      }
    }
    return released;
  }

  /** Re-checked live (the set, its namespace, the pod still using the address), then released by handle and sequence number. */
  private async release(id: StickyIdentity, handleId: string, group: readonly Allocation[]): Promise<string[]> {
    const { kube, engine, log, metrics } = this.deps;
    const set = await kube.getStatefulSetLive(id.namespace, id.set);
    const reason = endedBecause(id, set, set ? await kube.getNamespaceAnnotationsLive(id.namespace) : undefined);
    if (!reason) {
      this.endedSince.delete(handleId);
      return [];
    }
    if (!parseStickyHandle(handleId)!.idle) {
      for (const a of group) {
        const ns = a.attributes['namespace'];
        const pod = a.attributes['pod'];
        if (ns && pod && (await kube.getPodLive(ns, pod))) {
          log.debug({ handle: handleId, pod: `${ns}/${pod}` }, 'sticky identity ended, but its pod still exists; keeping its address');
          return [];
        }
      }
    }
    if (this.deps.shouldStop()) return [];
    const result = await engine.releaseIPs(group.map((a) => ({ address: a.address, handleId, sequenceNumber: a.sequenceNumber })));
    const skipped = new Set([...result.unallocated, ...result.errors.map((e) => e.address)]);
    const freed = group.map((a) => a.address).filter((ip) => !skipped.has(ip));
    this.endedSince.delete(handleId);
    if (freed.length > 0) {
      metrics.stickyReleases.inc({ reason }, freed.length);
      log.info({ handle: handleId, identity: stickyIdentityText(id), addresses: freed, reason }, 'released sticky addresses');
    }
    return freed;
  }
}

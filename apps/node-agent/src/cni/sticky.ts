import { HandOffReason } from '@atoll/api';
import { idleStickyHandle, parseStickyHandle, STICKY_HANDLE_PREFIX, stickyHandle, stickyIdentityText, type StickyIdentity } from '@atoll/model';
import type { Logger } from 'pino';
import { statefulSetOrdinal } from './address-list';
import { CniCode, CniFailure } from './errors';
import type { AllocatorPort, OwnerReference, PodSource, StaticIpsPort } from './ports';
import { heldByTerminating, POD_UID_ATTRIBUTE, type Requester, type StaticHandOff } from './static-handoff';

// `atoll.io/sticky: "true"`: a StatefulSet pod keeps its addresses across sandboxes and
// pods, on any node. They are held under the identity's handle (libs/model
// sticky-handle.ts), never under the sandbox's, so DEL and the leak collector leave them:
//   ADD   takes the identity's addresses: from its idle handle (DEL ran), or, from its
//         in-use handle, by the hand-off rules (the same pod's earlier sandbox at once, a
//         pod gone from the API after the grace, code 11 while an earlier pod still exists);
//         with none, allocates new ones under the in-use handle;
//   DEL   moves this sandbox's sticky addresses to the idle handle (one transaction each);
//   CHECK finds them by the `sandbox` attribute.

export const STICKY_ANNOTATION = 'atoll.io/sticky';
/** The attribute naming the sandbox (`<network>.<containerID>`) that uses a sticky address now. */
export const SANDBOX_ATTRIBUTE = 'sandbox';

const codeOf = (err: unknown) => (err as { code?: string }).code;

/**
 * The pod's identity when it is sticky: `atoll.io/sticky` on the pod, else on its namespace,
 * is "true", and the pod is a StatefulSet's. Any value other than "true" or "false" is refused.
 */
export function stickyIdentityOf(
  namespace: string,
  podName: string,
  podAnnotations: Readonly<Record<string, string>>,
  namespaceAnnotations: Readonly<Record<string, string>>,
  owners: readonly OwnerReference[] | undefined,
): StickyIdentity | undefined {
  const value = podAnnotations[STICKY_ANNOTATION] ?? namespaceAnnotations[STICKY_ANNOTATION];
  if (value === undefined || value === 'false') return undefined;
  if (value !== 'true') throw new CniFailure(CniCode.badAddressRequest, `annotation "${STICKY_ANNOTATION}" must be "true" or "false", got ${JSON.stringify(value)}`);
  const sts = statefulSetOrdinal(podName, owners);
  return sts && { namespace, set: sts.set, ordinal: sts.ordinal };
}

export interface StickyDeps {
  readonly allocator: Pick<AllocatorPort, 'ipsByHandle' | 'listAllocations'>;
  readonly staticIps: StaticIpsPort;
  readonly handOff: StaticHandOff;
  readonly pods: PodSource;
  readonly node: string;
  readonly log: Logger;
}

export interface Reclaimed {
  readonly ips: string[];
  /** Sandbox handles of this same pod whose addresses this sandbox took (their interfaces go). */
  readonly earlierSandboxes: string[];
}

export class StickyAddresses {
  constructor(private readonly deps: StickyDeps) {}

  /**
   * Moves the identity's addresses to the requesting sandbox (whose handle is the in-use
   * sticky handle, its `sandbox` attribute its own handle); [] when the identity holds none.
   */
  async reclaim(id: StickyIdentity, me: Requester & { readonly sandbox: string }): Promise<Reclaimed> {
    const inUse = stickyHandle(id);
    const idle = idleStickyHandle(id);
    const ips: string[] = [];
    const earlierSandboxes: string[] = [];
    const parkAs: Requester = { ...me, handleId: idle, attributes: withoutSandbox(me.attributes) };
    for (const ip of await this.ipsOf(inUse)) {
      const holder = await this.holderOf(ip);
      if (!holder || holder.handleId !== inUse) continue;
      if (holder.attributes[SANDBOX_ATTRIBUTE] === me.sandbox) {
        ips.push(ip); // a repeated ADD of this same sandbox
        continue;
      }
      const refusal = new CniFailure(CniCode.tryAgainLater, `sticky address ${ip} of ${stickyIdentityText(id)} is still used by pod ${holder.attributes['namespace'] ?? '?'}/${holder.attributes['pod'] ?? '?'}`);
      const taken = await this.deps.handOff.takeOver(ip, parkAs, refusal);
      if (taken !== 'free' && taken.reason === 'same-pod' && holder.attributes[SANDBOX_ATTRIBUTE]) earlierSandboxes.push(holder.attributes[SANDBOX_ATTRIBUTE]);
    }
    const parked = await this.ipsOf(idle);
    if (parked.length > 0) await this.refuseWhileEarlierPodExists(id, parked[0]!, me);
    for (const ip of parked) {
      try {
        await this.deps.staticIps.handOff({ ip, fromHandleId: idle, handleId: inUse, attributes: { ...me.attributes }, hostname: me.node, reason: HandOffReason.HAND_OFF_REASON_HOLDER_GONE });
      } catch (err) {
        if (codeOf(err) === 'conflict' || codeOf(err) === 'not-found') throw new CniFailure(CniCode.tryAgainLater, `sticky address ${ip} of ${stickyIdentityText(id)} changed hands while it was being taken; try again`);
        throw err;
      }
      ips.push(ip);
    }
    if (ips.length > 0) this.deps.log.info({ ips, identity: stickyIdentityText(id), handle: inUse, ...(earlierSandboxes.length > 0 && { earlierSandboxes }) }, 'took the sticky addresses of the pod identity');
    return { ips, earlierSandboxes };
  }

  /**
   * DEL: this sandbox's sticky addresses go to their identity's idle handle, allocated
   * still. Resolves to the addresses parked.
   */
  async park(sandbox: string): Promise<string[]> {
    const parked: string[] = [];
    for (const a of await this.usedBy(sandbox)) {
      const id = parseStickyHandle(a.handleId)!;
      try {
        await this.deps.staticIps.handOff({
          ip: a.address,
          fromHandleId: a.handleId,
          handleId: idleStickyHandle(id),
          attributes: withoutSandbox(a.attributes),
          hostname: this.deps.node,
          reason: HandOffReason.HAND_OFF_REASON_SAME_POD,
        });
        parked.push(a.address);
      } catch (err) {
        // Taken meanwhile by the identity's next sandbox: nothing of this sandbox's is left.
        if (codeOf(err) !== 'conflict' && codeOf(err) !== 'not-found') throw err;
      }
    }
    if (parked.length > 0) this.deps.log.info({ sandbox, ips: parked }, 'kept the sticky addresses for the pod identity');
    return parked;
  }

  /** The sticky addresses this sandbox uses now (CHECK). */
  async ofSandbox(sandbox: string): Promise<string[]> {
    return (await this.usedBy(sandbox)).map((a) => a.address);
  }

  private async usedBy(sandbox: string) {
    const { allocations } = await this.deps.allocator.listAllocations({ node: this.deps.node, handlePrefix: STICKY_HANDLE_PREFIX });
    return allocations.filter((a) => a.attributes[SANDBOX_ATTRIBUTE] === sandbox && parseStickyHandle(a.handleId)?.idle === false);
  }

  /** No two live pods: while the pod that parked the addresses still exists (terminating), code 11. */
  private async refuseWhileEarlierPodExists(id: StickyIdentity, ip: string, me: Requester): Promise<void> {
    const holder = await this.holderOf(ip);
    const ns = holder?.attributes['namespace'];
    const pod = holder?.attributes['pod'];
    const uid = holder?.attributes[POD_UID_ATTRIBUTE];
    if (!ns || !pod || !uid || uid === me.uid || !this.deps.pods.podLive) return;
    let earlier;
    try {
      earlier = await this.deps.pods.podLive(ns, pod);
    } catch (err) {
      throw new CniFailure(CniCode.tryAgainLater, `cannot read pod ${ns}/${pod}, which held the sticky addresses of ${stickyIdentityText(id)}, from the Kubernetes API: ${(err as Error).message}`);
    }
    if (earlier?.uid !== uid) return;
    throw new CniFailure(CniCode.tryAgainLater, earlier.terminating ? heldByTerminating(ip, ns, pod) : `address ${ip} is still held by pod ${ns}/${pod}`);
  }

  private async ipsOf(handleId: string): Promise<string[]> {
    try {
      return [...(await this.deps.allocator.ipsByHandle({ handleId })).ips];
    } catch (err) {
      if (codeOf(err) === 'not-found') return [];
      throw new CniFailure(CniCode.tryAgainLater, `cannot read the sticky addresses of handle ${handleId}: ${(err as Error).message}`);
    }
  }

  private async holderOf(ip: string) {
    try {
      return await this.deps.staticIps.getHolder({ ip });
    } catch (err) {
      if (codeOf(err) === 'not-found' || codeOf(err) === 'in-cooldown') return undefined;
      throw err;
    }
  }
}

function withoutSandbox(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const { [SANDBOX_ATTRIBUTE]: _sandbox, ...rest } = attributes;
  return rest;
}

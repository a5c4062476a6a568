import { HandOffReason } from '@atoll/api';
import type { Logger } from 'pino';
import { CniCode, CniFailure } from './errors';
import type { PodInfo, PodSource, StaticIpsPort } from './ports';

// When a requested address (ipAddrs, IP=) is already allocated, who holds it decides what
// happens, read fresh from the allocator and the Kubernetes API:
//   - the same pod (namespace, name, UID) under another sandbox → the address moves now;
//   - an earlier pod of the same namespace and name that is terminating → try again later;
//   - a pod gone from the API → moves once it has been seen gone for the grace period
//     (a force-deleted pod's sandbox may still run on its node), try again later before;
//   - any other live pod, or a holder that is not a pod → refused as before.

/** The attribute recording the pod's UID next to Calico's namespace/pod/node/timestamp. */
export const POD_UID_ATTRIBUTE = 'podUid';

export interface Requester {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly handleId: string;
  readonly node: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface Holder {
  readonly handleId: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export type Decision =
  | { readonly kind: 'hand-off'; readonly reason: 'same-pod' | 'holder-gone' }
  | { readonly kind: 'wait'; readonly message: string }
  | { readonly kind: 'refuse' };

export const heldByTerminating = (ip: string, namespace: string, pod: string) => `address ${ip} is still held by pod ${namespace}/${pod} (terminating)`;

/** Remembers when each holder was first seen gone, so the grace counts from then. */
export class GoneHolders {
  private readonly firstSeen = new Map<string, number>();
  constructor(private readonly graceMs: number) {}

  /** Milliseconds left before a hand-off (0: now). */
  remaining(key: string, now: number): number {
    this.forgetOld(now);
    const first = this.firstSeen.get(key) ?? now;
    this.firstSeen.set(key, first);
    return Math.max(0, first + this.graceMs - now);
  }

  forget(key: string): void {
    this.firstSeen.delete(key);
  }

  /** A holder nobody asked about again for ten graces is forgotten: the map stays small. */
  private forgetOld(now: number): void {
    for (const [k, t] of this.firstSeen) if (now - t > 10 * this.graceMs + 60_000) this.firstSeen.delete(k);
  }
}

/** Pure: what to do, given the holder and the holder's pod as the API has it now. */
export function decide(ip: string, holder: Holder, me: Requester, live: PodInfo | undefined, graceLeftMs: () => number): Decision {
  const ns = holder.attributes['namespace'];
  const pod = holder.attributes['pod'];
  if (!ns || !pod) return { kind: 'refuse' };
  const uid = holder.attributes[POD_UID_ATTRIBUTE];
  const sameName = ns === me.namespace && pod === me.name;
  if (sameName && uid !== undefined && uid === me.uid) return { kind: 'hand-off', reason: 'same-pod' };
  // Without a recorded UID the live pod of that name is taken to be the holder (as before).
  const holderAlive = live !== undefined && (uid === undefined || live.uid === uid);
  if (holderAlive) {
    if (sameName && live.terminating && live.uid !== me.uid) return { kind: 'wait', message: heldByTerminating(ip, ns, pod) };
    return { kind: 'refuse' };
  }
  const left = graceLeftMs();
  if (left === 0) return { kind: 'hand-off', reason: 'holder-gone' };
  return { kind: 'wait', message: `address ${ip} is still held by pod ${ns}/${pod} (gone from the Kubernetes API; handed over in ${Math.ceil(left / 1000)} s unless it returns)` };
}

const codeOf = (err: unknown) => (err as { code?: string }).code;

/** What a hand-off did, for the caller's clean-up. */
export interface HandedOff {
  readonly from: string;
  readonly reason: 'same-pod' | 'holder-gone';
}

export class StaticHandOff {
  private readonly gone: GoneHolders;

  constructor(
    private readonly deps: { staticIps: StaticIpsPort; pods: PodSource; graceMs: number; now: () => number; log: Logger },
  ) {
    this.gone = new GoneHolders(deps.graceMs);
  }

  /**
   * Called when `ip` was refused as already assigned. Resolves to the hand-off made, or to
   * 'free' when the address was freed meanwhile (assign it again); throws a CNI failure to
   * wait (code 11) and rethrows `refusal` to refuse as before.
   */
  async takeOver(ip: string, me: Requester, refusal: unknown): Promise<HandedOff | 'free'> {
    let holder: Holder;
    try {
      const h = await this.deps.staticIps.getHolder({ ip });
      holder = { handleId: h.handleId, attributes: h.attributes };
    } catch (err) {
      if (codeOf(err) === 'not-found' || codeOf(err) === 'in-cooldown') return 'free';
      throw refusal;
    }
    if (holder.handleId === me.handleId || !holder.handleId) throw refusal;
    const ns = holder.attributes['namespace'];
    const pod = holder.attributes['pod'];
    const live = ns && pod && this.deps.pods.podLive ? await this.livePod(ns, pod) : undefined;
    const key = `${ip} ${holder.handleId}`;
    const decision = decide(ip, holder, me, live, () => this.gone.remaining(key, this.deps.now()));
    if (decision.kind === 'refuse') throw refusal;
    if (decision.kind === 'wait') throw new CniFailure(CniCode.tryAgainLater, decision.message);
    try {
      await this.deps.staticIps.handOff({
        ip,
        fromHandleId: holder.handleId,
        handleId: me.handleId,
        attributes: { ...me.attributes },
        hostname: me.node,
        reason: decision.reason === 'same-pod' ? HandOffReason.HAND_OFF_REASON_SAME_POD : HandOffReason.HAND_OFF_REASON_HOLDER_GONE,
      });
    } catch (err) {
      // The holder changed since it was read (released, or taken by someone else): decide again on the next try.
      if (codeOf(err) === 'conflict' || codeOf(err) === 'not-found') throw new CniFailure(CniCode.tryAgainLater, `address ${ip} changed hands while it was being handed over; try again`);
      throw err;
    }
    this.gone.forget(key);
    this.deps.log.info({ ip, fromHandle: holder.handleId, handle: me.handleId, reason: decision.reason, holderPod: `${ns}/${pod}` }, 'took over a requested address');
    return { from: holder.handleId, reason: decision.reason };
  }

  private async livePod(namespace: string, name: string): Promise<PodInfo | undefined> {
    try {
      return await this.deps.pods.podLive!(namespace, name);
    } catch (err) {
      throw new CniFailure(CniCode.tryAgainLater, `cannot read pod ${namespace}/${name}, which holds a requested address, from the Kubernetes API: ${(err as Error).message}`);
    }
  }
}

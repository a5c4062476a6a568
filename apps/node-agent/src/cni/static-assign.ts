import { IntendedUse } from '@atoll/api';
import type { Logger } from 'pino';
import { noFreeEntry, type AddressList } from './address-list';
import { CniCode, CniFailure, fromAllocatorError } from './errors';
import type { AllocatorPort } from './ports';
import { POD_UID_ATTRIBUTE, type HandedOff, type Requester, type StaticHandOff } from './static-handoff';

// Requested addresses for one ADD, all or nothing: exact ones (ipAddrs, IP=, a StatefulSet
// pod's entries of atoll.io/ipAddrsList) or the first free entry of each family of a list.
// An address that is held goes through the hand-off rules (static-handoff.ts).

export interface StaticAssignDeps {
  readonly allocator: AllocatorPort;
  readonly handOff: StaticHandOff | undefined;
  readonly log: Logger;
}

const codeOf = (err: unknown) => (err as { code?: string }).code;
const isNotFound = (err: unknown) => codeOf(err) === 'not-found';

export class StaticAssignment {
  readonly assigned: string[] = [];
  private readonly handedOff: HandedOff[] = [];

  constructor(
    private readonly deps: StaticAssignDeps,
    private readonly handleId: string,
    private readonly attributes: Readonly<Record<string, string>>,
    private readonly node: string,
    /** The pod asking; undefined outside Kubernetes (no hand-off then). */
    private readonly requester: Requester | undefined,
  ) {}

  /** Every address of `ips`, or nothing. */
  async exact(ips: readonly string[]): Promise<string[]> {
    let current = '';
    try {
      for (const ip of ips) {
        current = ip;
        this.assigned.push(await this.one(ip));
      }
    } catch (err) {
      await this.rollback();
      if (err instanceof CniFailure) throw err; // a hand-off's "try again later" names the address already
      const failure = fromAllocatorError(err, 'error getting IP from IPAM');
      // Calico's text does not always say which address; the runtime's user needs to know.
      throw failure.message.includes(current) ? failure : new CniFailure(failure.code, `${failure.message} (requested ${current})`, failure.details);
    }
    await this.cleanUpEarlierSandbox();
    return this.assigned;
  }

  /**
   * The first free entry of each family, in list order; when every entry is held, the
   * first one the hand-off rules give this pod (its own earlier sandbox's, or a gone
   * pod's after the grace). Code 11 when none is free, naming the list.
   */
  async firstFree(list: AddressList): Promise<string[]> {
    try {
      const own = await this.heldByEarlierSandbox([...list.ipv4, ...list.ipv6]);
      for (const [family, entries] of [['IPv4', list.ipv4], ['IPv6', list.ipv6]] as const) {
        if (entries.length === 0) continue;
        const mine = entries.find((ip) => own.has(ip));
        this.assigned.push(mine !== undefined ? await this.one(mine) : await this.firstFreeOf(family, entries));
      }
    } catch (err) {
      await this.rollback();
      if (err instanceof CniFailure) throw err;
      throw fromAllocatorError(err, 'error getting IP from IPAM');
    }
    await this.cleanUpEarlierSandbox();
    return this.assigned;
  }

  /**
   * Entries this same pod's earlier sandbox on this node still holds (a node crash: no DEL).
   * The pod takes those back rather than a free entry, which would leave its old one held.
   * One listing of this node's allocations; nothing when the pod's UID is unknown.
   */
  private async heldByEarlierSandbox(entries: readonly string[]): Promise<Set<string>> {
    const uid = this.requester?.uid;
    if (!uid || !this.deps.handOff) return new Set();
    const wanted = new Set(entries);
    const { allocations } = await this.deps.allocator.listAllocations({ node: this.node, handlePrefix: '' });
    return new Set(
      allocations
        .filter((a) => wanted.has(a.address) && a.handleId !== this.handleId && a.attributes[POD_UID_ATTRIBUTE] === uid)
        .map((a) => a.address),
    );
  }

  private async firstFreeOf(family: 'IPv4' | 'IPv6', entries: readonly string[]): Promise<string> {
    const held: { ip: string; refusal: unknown }[] = [];
    for (const ip of entries) {
      try {
        return await this.assign(ip);
      } catch (err) {
        if (codeOf(err) !== 'already-assigned') throw err;
        held.push({ ip, refusal: err });
      }
    }
    // Everything is held: the pod's own earlier sandbox, or a holder that is gone, may give one up.
    let waitFor: CniFailure | undefined;
    for (const { ip, refusal } of this.deps.handOff && this.requester ? held : []) {
      try {
        return await this.takeOver(ip, refusal);
      } catch (err) {
        if (err === refusal) continue;
        if (err instanceof CniFailure && err.code === CniCode.tryAgainLater) {
          waitFor ??= err;
          continue;
        }
        throw err;
      }
    }
    const message = noFreeEntry(family, entries, held.length);
    throw new CniFailure(CniCode.tryAgainLater, waitFor ? `${message}; ${waitFor.message}` : message);
  }

  private assign(ip: string): Promise<string> {
    return this.deps.allocator.assignIp({ ip, handleId: this.handleId, attributes: this.attributes, hostname: this.node, intendedUse: IntendedUse.INTENDED_USE_WORKLOAD }).then((r) => r.ip);
  }

  private async one(ip: string): Promise<string> {
    try {
      return await this.assign(ip);
    } catch (err) {
      if (codeOf(err) !== 'already-assigned' || !this.deps.handOff || !this.requester) throw err;
      return this.takeOver(ip, err);
    }
  }

  private async takeOver(ip: string, refusal: unknown): Promise<string> {
    const taken = await this.deps.handOff!.takeOver(ip, this.requester!, refusal);
    if (taken === 'free') return this.assign(ip);
    this.handedOff.push(taken);
    return ip;
  }

  /** All or nothing: give back what this ADD took before the failure. */
  private async rollback(): Promise<void> {
    if (this.assigned.length === 0) return;
    await this.deps.allocator
      .releaseIPs({ options: this.assigned.map((address) => ({ address, handleId: this.handleId, sequenceNumber: '' })) })
      .catch((e: unknown) => this.deps.log.warn({ err: e }, 'rollback failed'));
  }

  /** Nothing the earlier sandbox of this same pod held stays behind it. */
  private async cleanUpEarlierSandbox(): Promise<void> {
    for (const from of new Set(this.handedOff.filter((h) => h.reason === 'same-pod').map((h) => h.from))) {
      await this.deps.allocator.releaseByHandle({ handleId: from }).then(
        (r) => this.deps.log.info({ fromHandle: from, ips: r.released }, "released the rest of the pod's earlier sandbox"),
        (e: unknown) => isNotFound(e) || this.deps.log.warn({ err: e, fromHandle: from }, "could not release the rest of the pod's earlier sandbox"),
      );
    }
  }

  handOffs(): readonly HandedOff[] {
    return this.handedOff;
  }
}

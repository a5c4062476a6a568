// The harness's own record of which pod holds which address, built only from what ADD and
// DEL returned, and the two invariants checked against it:
// - no address is held by two live pods (a pod is live from its ADD's success until its DEL
//   starts), and no address is listed twice by the datastore;
// - every address a live pod holds is allocated, to that pod's handle, in the datastore
//   (otherwise it could be handed to another pod: a "lost" allocation);
// - a pod whose ADD failed holds nothing once `failedAddGraceMs` has passed, although its
//   runtime has not sent the DEL yet (the load delays it on purpose): what a failed ADD
//   assigned is released by the allocator, not by the DEL. ADDs that overlapped the kill
//   of an allocator replica are exempt: a commit the killed process had sent may still
//   land, and nothing but the DEL or the leak collector can release it; so are ADDs through
//   an agent that was stopped, or whose link to its replica was cut, meanwhile: the replica
//   may have served the ADD and its answer been lost on the way back (RELIABILITY.md).
// Sticky StatefulSet pods (`atoll.io/sticky`) keep their addresses across pods, so:
// - an address a sticky identity got stays that identity's, parked or held, until it is
//   released on purpose: handed to any other pod meanwhile, it is a duplicate;
// - every successful ADD of the identity returns the addresses of its first one;
// - at the end they are held under the identity's handles, by nothing else (checkStickyAtEnd).
// A failed sticky ADD is not held to the failed-ADD release: its identity's handles keep
// the addresses on purpose.

export interface ChaosPod {
  readonly seq: number;
  readonly name: string;
  readonly namespace: string;
  readonly containerId: string;
  readonly handle: string;
  readonly agent: number;
  /** Asked for with the ipAddrs annotation. */
  readonly staticIp?: string;
  /** A sticky StatefulSet pod: its identity (`<namespace>/<set>/<ordinal>`) and the handle its addresses are parked under between pods; `handle` is the identity's in-use handle. */
  readonly sticky?: { readonly identity: string; readonly idleHandle: string };
  ips: readonly string[];
  addResult?: unknown;
  /** performance.now() when ADD succeeded / when the first DEL started. */
  addDoneAt?: number;
  delStartAt?: number;
  /** A DEL succeeded. */
  released: boolean;
  /** performance.now() when the ADD was sent and when it failed (code 11). */
  addStartAt?: number;
  addFailedAt?: number;
}

export interface HeldAfterFailureFinding {
  readonly address: string;
  readonly handle: string;
  /** Since the run began: when the ADD failed, and the listing that still showed the address. */
  readonly failedAtMs: number;
  readonly atMs: number;
}

export interface LedgerOptions {
  /** How long after a failed ADD the allocator may still hold what it assigned. */
  readonly failedAddGraceMs: number;
  /** performance.now() unless a test replays a recorded history at its own times. */
  readonly clock?: () => number;
}

export interface DuplicateFinding {
  readonly address: string;
  /** Handles (datastore) or pods (bookkeeping) that held it at once. */
  readonly holders: readonly string[];
  readonly seenBy: 'bookkeeping' | 'datastore';
  readonly atMs: number;
}

export interface LostFinding {
  readonly address: string;
  readonly handle: string;
  /** The handle the datastore had for the address instead, if any. */
  readonly found?: string;
  readonly atMs: number;
}

export interface StickyFinding {
  readonly identity: string;
  /** The addresses of the identity's first successful ADD, and what was found instead. */
  readonly expected: readonly string[];
  readonly got: readonly string[];
  /** The pod whose ADD returned `got`, or `end` for the listing after every pod was deleted. */
  readonly seenAt: string;
  readonly atMs: number;
}

export interface ListedAllocation {
  readonly address: string;
  readonly handleId: string;
}

export class Ledger {
  private readonly holders = new Map<string, ChaosPod>();
  private readonly livePods = new Set<ChaosPod>();
  private readonly claimedStatic = new Set<string>();
  private readonly seenFindings = new Set<string>();
  readonly duplicates: DuplicateFinding[] = [];
  readonly lost: LostFinding[] = [];
  readonly heldAfterFailure: HeldAfterFailureFinding[] = [];
  readonly stickyChanged: StickyFinding[] = [];
  /** Each sticky identity's addresses (from its first successful ADD) and handles, until released on purpose. */
  private readonly stickyFirst = new Map<string, { ips: readonly string[]; handles: readonly string[] }>();
  /** Address → the sticky identity it belongs to. */
  private readonly stickyOwner = new Map<string, string>();
  stickyAdds = 0;
  private readonly failedPods = new Set<ChaosPod>();
  private readonly killWindows: { from: number; to: number }[] = [];
  private killsInProgress = 0;
  private killStartedAt = 0;
  private readonly agentCuts = new Map<number, number>();
  private readonly agentCutWindows: { agent: number; from: number; to: number }[] = [];
  /** Failed ADDs not checked because an allocator was killed while they ran. */
  exemptFailedAdds = 0;

  constructor(
    private readonly t0 = performance.now(),
    private readonly opts: LedgerOptions = { failedAddGraceMs: 20_000 },
  ) {}

  private now(): number {
    return this.opts.clock?.() ?? performance.now();
  }

  private note<T extends { atMs: number }>(key: string, list: T[], finding: T): void {
    if (this.seenFindings.has(key)) return;
    this.seenFindings.add(key);
    list.push(finding);
  }

  get live(): ReadonlySet<ChaosPod> {
    return this.livePods;
  }

  addSucceeded(pod: ChaosPod, ips: readonly string[], result: unknown): void {
    this.failedPods.delete(pod); // an ADD of the same pod again, after one failed
    pod.ips = ips;
    pod.addResult = result;
    pod.addDoneAt = this.now();
    for (const ip of ips) {
      const other = this.holders.get(ip);
      if (other && other !== pod) {
        this.note(`b|${ip}|${other.name}|${pod.name}`, this.duplicates, { address: ip, holders: [`${other.namespace}/${other.name}`, `${pod.namespace}/${pod.name}`], seenBy: 'bookkeeping', atMs: Math.round(this.now() - this.t0) });
      }
      const owner = this.stickyOwner.get(ip);
      if (owner !== undefined && owner !== pod.sticky?.identity) {
        this.note(`s|${ip}|${owner}|${pod.name}`, this.duplicates, { address: ip, holders: [`sticky ${owner}`, `${pod.namespace}/${pod.name}`], seenBy: 'bookkeeping', atMs: Math.round(this.now() - this.t0) });
      }
      this.holders.set(ip, pod);
    }
    this.livePods.add(pod);
    if (pod.sticky) this.stickyAddSucceeded(pod, pod.sticky.identity, ips);
  }

  private stickyAddSucceeded(pod: ChaosPod, identity: string, ips: readonly string[]): void {
    this.stickyAdds++;
    const first = this.stickyFirst.get(identity);
    if (first === undefined) {
      this.stickyFirst.set(identity, { ips: [...ips].sort(), handles: [pod.handle, pod.sticky!.idleHandle] });
      for (const ip of ips) if (!this.stickyOwner.has(ip)) this.stickyOwner.set(ip, identity);
      return;
    }
    const got = [...ips].sort();
    if (got.join(',') !== first.ips.join(',')) {
      this.note(`c|${identity}|${pod.name}|${pod.containerId}`, this.stickyChanged, { identity, expected: first.ips, got, seenAt: `${pod.namespace}/${pod.name} (${pod.containerId})`, atMs: Math.round(this.now() - this.t0) });
    }
  }

  /** The identity's addresses were released on purpose: from now on they may go to anyone, and its next ADD starts afresh. */
  stickyReleased(identity: string): void {
    for (const [ip, owner] of this.stickyOwner) if (owner === identity) this.stickyOwner.delete(ip);
    this.stickyFirst.delete(identity);
  }

  /** Sticky identities not released yet, with the handles their addresses must be under. */
  get stickyIdentities(): ReadonlyMap<string, { readonly ips: readonly string[]; readonly handles: readonly string[] }> {
    return this.stickyFirst;
  }

  /** The listing after every pod was deleted: each identity holds exactly its addresses, under its own handles. */
  checkStickyAtEnd(allocations: readonly ListedAllocation[]): void {
    const at = Math.round(this.now() - this.t0);
    for (const [identity, first] of this.stickyFirst) {
      const got = allocations
        .filter((a) => first.handles.includes(a.handleId) || first.ips.includes(a.address))
        .map((a) => (first.handles.includes(a.handleId) ? a.address : `${a.address} under ${a.handleId}`))
        .sort();
      if (got.join(',') !== first.ips.join(',')) this.note(`e|${identity}`, this.stickyChanged, { identity, expected: first.ips, got, seenAt: 'end', atMs: at });
    }
  }

  /** An allocator replica is being killed (`allocatorKillEnded` when it serves again). */
  allocatorKillStarted(): void {
    if (this.killsInProgress++ === 0) this.killStartedAt = this.now();
  }

  allocatorKillEnded(): void {
    if (--this.killsInProgress === 0) this.killWindows.push({ from: this.killStartedAt, to: this.now() });
  }

  /** An agent is stopped, or its link to its replica cut (`agentOutageEnded` when it serves again). */
  agentOutageStarted(agent: number): void {
    this.agentCuts.set(agent, this.now());
  }

  agentOutageEnded(agent: number): void {
    const from = this.agentCuts.get(agent);
    this.agentCuts.delete(agent);
    if (from !== undefined) this.agentCutWindows.push({ agent, from, to: this.now() });
  }

  private overlapsKill(from: number, to: number): boolean {
    return this.killsInProgress > 0 || this.killWindows.some((w) => w.from <= to && from <= w.to);
  }

  private overlapsAgentCut(agent: number, from: number, to: number): boolean {
    return this.agentCuts.has(agent) || this.agentCutWindows.some((w) => w.agent === agent && w.from <= to && from <= w.to);
  }

  /** The pod's ADD (sent at `startedAt`) failed; until its DEL starts it must end up holding nothing. */
  addFailed(pod: ChaosPod, startedAt: number): void {
    pod.addStartAt = startedAt;
    pod.addFailedAt = this.now();
    if (pod.sticky) return; // its identity's handles keep the addresses on purpose
    if (this.overlapsKill(startedAt, pod.addFailedAt) || this.overlapsAgentCut(pod.agent, startedAt, pod.addFailedAt)) this.exemptFailedAdds++;
    else this.failedPods.add(pod);
  }

  /** The runtime starts tearing the pod down: from now on it may lose its addresses. */
  delStarting(pod: ChaosPod): void {
    this.failedPods.delete(pod);
    if (pod.delStartAt !== undefined) return;
    pod.delStartAt = this.now();
    this.livePods.delete(pod);
    for (const ip of pod.ips) if (this.holders.get(ip) === pod) this.holders.delete(ip);
  }

  released(pod: ChaosPod): void {
    pod.released = true;
    if (pod.staticIp !== undefined) this.claimedStatic.delete(pod.staticIp);
  }

  /** A static address no pod that is not yet fully deleted asked for, or undefined. */
  claimStatic(candidates: readonly string[], pick: (n: number) => number): string | undefined {
    const free = candidates.filter((ip) => !this.claimedStatic.has(ip));
    if (free.length === 0) return undefined;
    const ip = free[pick(free.length)]!;
    this.claimedStatic.add(ip);
    return ip;
  }

  /** A datastore listing taken after `startedAt` (performance.now()): checks both invariants. */
  checkListing(allocations: readonly ListedAllocation[], startedAt: number): void {
    const at = Math.round(this.now() - this.t0);
    const byAddress = new Map<string, string[]>();
    for (const a of allocations) byAddress.set(a.address, [...(byAddress.get(a.address) ?? []), a.handleId]);
    for (const [address, handles] of byAddress) {
      if (handles.length > 1) this.note(`d|${address}|${[...handles].sort().join(',')}`, this.duplicates, { address, holders: handles, seenBy: 'datastore', atMs: at });
    }
    const handles = new Map<string, string[]>();
    for (const a of allocations) handles.set(a.handleId, [...(handles.get(a.handleId) ?? []), a.address]);
    for (const pod of this.failedPods) {
      if (pod.addFailedAt === undefined || startedAt - pod.addFailedAt < this.opts.failedAddGraceMs) continue;
      for (const address of handles.get(pod.handle) ?? []) {
        this.note(`f|${address}|${pod.handle}`, this.heldAfterFailure, { address, handle: pod.handle, failedAtMs: Math.round(pod.addFailedAt - this.t0), atMs: at });
      }
    }
    for (const pod of this.livePods) {
      if (pod.addDoneAt === undefined || pod.addDoneAt >= startedAt) continue;
      for (const ip of pod.ips) {
        const handles = byAddress.get(ip) ?? [];
        if (!handles.includes(pod.handle)) {
          this.note(`l|${ip}|${pod.handle}`, this.lost, { address: ip, handle: pod.handle, ...(handles[0] !== undefined && { found: handles[0] }), atMs: at });
        }
      }
    }
  }
}

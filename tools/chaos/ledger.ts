// The harness's own record of which pod holds which address, built only from what ADD and
// DEL returned, and the two invariants checked against it:
// - no address is held by two live pods (a pod is live from its ADD's success until its DEL
//   starts), and no address is listed twice by the datastore;
// - every address a live pod holds is allocated, to that pod's handle, in the datastore
//   (otherwise it could be handed to another pod: a "lost" allocation).

export interface ChaosPod {
  readonly seq: number;
  readonly name: string;
  readonly namespace: string;
  readonly containerId: string;
  readonly handle: string;
  readonly agent: number;
  /** Asked for with the ipAddrs annotation. */
  readonly staticIp?: string;
  ips: readonly string[];
  addResult?: unknown;
  /** performance.now() when ADD succeeded / when the first DEL started. */
  addDoneAt?: number;
  delStartAt?: number;
  /** A DEL succeeded. */
  released: boolean;
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

  constructor(private readonly t0 = performance.now()) {}

  private now(): number {
    return performance.now();
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
    pod.ips = ips;
    pod.addResult = result;
    pod.addDoneAt = this.now();
    for (const ip of ips) {
      const other = this.holders.get(ip);
      if (other && other !== pod) {
        this.note(`b|${ip}|${other.name}|${pod.name}`, this.duplicates, { address: ip, holders: [`${other.namespace}/${other.name}`, `${pod.namespace}/${pod.name}`], seenBy: 'bookkeeping', atMs: Math.round(this.now() - this.t0) });
      }
      this.holders.set(ip, pod);
    }
    this.livePods.add(pod);
  }

  /** The runtime starts tearing the pod down: from now on it may lose its addresses. */
  delStarting(pod: ChaosPod): void {
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

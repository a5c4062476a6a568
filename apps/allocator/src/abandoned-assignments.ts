import { randomUUID } from 'node:crypto';
import { IpamError, isIpamError, type IpamEngine } from '@atoll/ipam';
import type { Logger } from 'pino';

// An assignment whose caller was told "try again later" must leave nothing allocated:
// its runtime will not use the address, and if the runtime's DEL came before the
// assignment landed, nothing would ever release it. Two ways this happens:
// - the caller went away (its deadline passed, or it cancelled) while the engine worked,
//   typically while etcd was unreachable; the engine then completes work nobody waits for;
// - the engine answered "unavailable": the commit's outcome is unknown, it may have landed.
// Both are undone here, after the engine's work has settled (so after its own replay of
// an unknown commit), by releasing exactly what this request assigned.
//
// "Exactly" is what makes the undo safe when another request for the same handle comes
// later, on this replica or another: each assignment carries a request tag in its
// attributes, and the undo releases only addresses holding this request's tag, passing
// their sequence numbers, so an address released and handed out again meanwhile is
// never touched.

/** The attribute that names the request which made an assignment. */
export const REQUEST_TAG_ATTRIBUTE = 'atoll.request';
/**
 * The attributes as callers see them: the request tag is the allocator's own bookkeeping
 * (it stays in etcd with the assignment, where Calico's tools show it as one more attribute).
 */
export function withoutRequestTag(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const { [REQUEST_TAG_ATTRIBUTE]: _tag, ...rest } = attributes;
  return rest;
}

/** An assignment that settles with less than this left before its caller's deadline is undone rather than answered. */
export const ANSWER_MARGIN_MS = 500;

/** The engine's bound on attributes per assignment; a request already at it is not tagged. */
const MAX_ATTRIBUTES = 32;

export interface AbandonedAssignmentsOptions {
  /** Pause before the first undo attempt and the longest pause between attempts. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /**
   * A commit etcd applies after the engine gave up on it (it was queued behind an
   * election) can land after the first look: the undo looks once more this long after
   * it first succeeded.
   */
  readonly lateLandingMs?: number;
  /** Undo attempts stop after this long; the leak collector is what remains. */
  readonly giveUpAfterMs?: number;
}

interface TaggedRequest {
  readonly handleId: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export class AbandonedAssignments {
  private readonly pending = new Map<string, Promise<void>>();
  /** Per handle: settles once the undo in progress has had its first successful look. */
  private readonly firstLooks = new Map<string, Promise<void>>();
  private readonly sleeping = new Set<() => void>();
  private stopped = false;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly lateLandingMs: number;
  private readonly giveUpAfterMs: number;

  constructor(
    private readonly engine: Pick<IpamEngine, 'ipsByHandle' | 'getAssignmentAttributes' | 'releaseIPs'>,
    private readonly log: Logger,
    opts: AbandonedAssignmentsOptions = {},
  ) {
    this.retryMinMs = opts.retryMinMs ?? 200;
    this.retryMaxMs = opts.retryMaxMs ?? 5000;
    this.lateLandingMs = opts.lateLandingMs ?? 10_000;
    this.giveUpAfterMs = opts.giveUpAfterMs ?? 10 * 60_000;
  }

  /**
   * Runs one assignment for `request` (tagged), and undoes it when its caller is gone by
   * the time it settles, or when it failed with a retryable error. A later assignment of
   * the same handle on this replica waits for an undo in progress.
   */
  async run<R extends TaggedRequest, T>(request: R, signal: AbortSignal | undefined, assign: (tagged: R) => Promise<T>, deadline?: number): Promise<T> {
    // A caller whose deadline is about to pass would get the answer too late: an answer
    // sent now may arrive after its deadline, when it has already told its runtime to try
    // again. (Most often right after a partition heals: the requests it held all complete
    // at once, as their deadlines run out.)
    const gone = () => signal?.aborted === true || (deadline !== undefined && deadline - Date.now() < ANSWER_MARGIN_MS);
    // An AssignIP of an address its handle already holds answers with it: were the undo of
    // that very assignment still to come, the new caller would get an address about to be freed.
    await this.waitForUndo(request.handleId, signal);
    const tag = Object.keys(request.attributes ?? {}).length < MAX_ATTRIBUTES ? randomUUID() : undefined;
    const tagged = tag === undefined ? request : { ...request, attributes: { ...request.attributes, [REQUEST_TAG_ATTRIBUTE]: tag } };
    let result: T;
    try {
      result = await assign(tagged);
    } catch (err) {
      const callerGone = gone();
      if (tag !== undefined && (callerGone || (isIpamError(err) && err.retryable))) this.undo(request.handleId, tag, callerGone ? 'caller gone' : 'outcome unknown');
      throw err;
    }
    if (gone()) {
      if (tag !== undefined) this.undo(request.handleId, tag, 'caller gone');
      throw new IpamError('unavailable', 'the request was cancelled by its caller, or its deadline is too close for the answer to arrive; what it assigned is being released');
    }
    return result;
  }

  /** Undos still running (tests and shutdown). */
  get inProgress(): number {
    return this.pending.size;
  }

  /** Resolves when every undo started so far has finished (or given up). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending.values()]);
  }

  /** Ends the undo loops at their next pause (the leak collector covers what they leave). */
  stop(): void {
    this.stopped = true;
    for (const wake of this.sleeping) wake();
    this.sleeping.clear();
  }

  /**
   * Waits for the first look of an undo of this handle: after it, what the abandoned
   * request assigned is gone, and a late landing (what the second look is for) can no
   * longer be mistaken for the new request's (its compare-and-swap would fail first).
   */
  private async waitForUndo(handleId: string, signal: AbortSignal | undefined): Promise<void> {
    const undo = this.firstLooks.get(handleId);
    if (!undo) return;
    if (!signal) return undo;
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new IpamError('unavailable', 'the request was cancelled by its caller before it started'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([undo, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private undo(handleId: string, tag: string, reason: string): void {
    const previous = this.pending.get(handleId) ?? Promise.resolve();
    let firstLookDone: () => void = () => undefined;
    const firstLook = new Promise<void>((resolve) => (firstLookDone = resolve));
    const work = previous.then(() => this.undoUntilDone(handleId, tag, reason, firstLookDone)).finally(firstLookDone);
    this.pending.set(handleId, work);
    this.firstLooks.set(handleId, firstLook);
    void work.finally(() => {
      if (this.pending.get(handleId) === work) this.pending.delete(handleId);
    });
    void firstLook.then(() => {
      if (this.firstLooks.get(handleId) === firstLook) this.firstLooks.delete(handleId);
    });
  }

  private async undoUntilDone(handleId: string, tag: string, reason: string, firstLookDone: () => void): Promise<void> {
    const log = this.log.child({ handle: handleId, request: tag, reason });
    const giveUpAt = Date.now() + this.giveUpAfterMs;
    let delay = this.retryMinMs;
    let released: string[] = [];
    for (let look = 0; look < 2 && !this.stopped; ) {
      try {
        released = released.concat(await this.releaseTagged(handleId, tag));
        look++;
        firstLookDone();
        if (look < 2) await this.sleep(this.lateLandingMs);
      } catch (err) {
        if (this.stopped || Date.now() > giveUpAt) {
          log.warn({ reason: (err as Error).message }, 'gave up releasing an abandoned assignment; the leak collector will');
          return;
        }
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
    if (released.length > 0) log.info({ ips: released }, 'released an abandoned assignment');
  }

  /** Releases the handle's addresses that carry `tag`, each only if not reassigned meanwhile. */
  private async releaseTagged(handleId: string, tag: string): Promise<string[]> {
    let ips: string[];
    try {
      ips = await this.engine.ipsByHandle(handleId);
    } catch (err) {
      if (isIpamError(err, 'not-found')) return [];
      throw err;
    }
    const mine: { address: string; handleId: string; sequenceNumber: bigint }[] = [];
    for (const ip of ips) {
      try {
        const a = await this.engine.getAssignmentAttributes(ip);
        if (a.handleId === handleId && a.attributes[REQUEST_TAG_ATTRIBUTE] === tag) mine.push({ address: ip, handleId, sequenceNumber: a.sequenceNumber });
      } catch (err) {
        if (!isIpamError(err, 'not-found') && !isIpamError(err, 'in-cooldown')) throw err; // released meanwhile
      }
    }
    if (mine.length === 0) return [];
    const r = await this.engine.releaseIPs(mine);
    const failed = r.errors.filter((e) => e.error.retryable);
    if (failed.length > 0) throw failed[0]!.error;
    return r.released.map((o) => o.address);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping.add(wake);
    });
  }
}

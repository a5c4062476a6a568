import type { Logger } from 'pino';
import type { RouteSpec } from './desired-routes';
import { routeCommand, type IpRoutes, type KernelRoute, type RouteOp } from './ip-routes';

// Makes the kernel's routes of our protocol equal the desired ones: adds what is missing
// (`add`, so a route some other tool holds for the same destination is never replaced),
// replaces what differs, deletes what is no longer wanted — one batch per pass. Routes of
// any other protocol are never listed, changed or deleted.
//
// A full pass lists the kernel's routes; a pass between full ones works from what the
// previous passes left there (their own results), so a route change in a cluster of
// thousands of nodes costs its own batch line, not a listing of every route. What changed
// behind the agent's back (a route deleted by hand) is seen at the next full pass.
//
// A route the kernel refuses (a gateway that is not on a directly connected network, a
// destination another tool's route holds) is logged once with the kernel's reason and
// counted, then left alone until the next full pass, or until the route itself changes:
// never retried on every update.

export type RouteFailureReason = 'gateway-unreachable' | 'conflict' | 'error';

export interface RouteFailure {
  readonly route: RouteSpec;
  readonly reason: RouteFailureReason;
  readonly message: string;
}

export interface ReconcileOutcome {
  readonly added: number;
  readonly replaced: number;
  readonly deleted: number;
  readonly unchanged: number;
  /** Refused by the kernel in this pass. */
  readonly failed: number;
  /** Refused in an earlier pass and not tried again in this one. */
  readonly held: number;
}

export interface RouteReconcilerOptions {
  readonly log: Logger;
  /** Called for each route the kernel refuses. */
  readonly onFailure?: (reason: RouteFailureReason) => void;
}

export function failureReason(message: string): RouteFailureReason {
  if (/invalid gateway|Network is unreachable|No route to host/i.test(message)) return 'gateway-unreachable';
  if (/File exists/i.test(message)) return 'conflict';
  return 'error';
}

const sameRoute = (a: RouteSpec, b: RouteSpec | undefined) => b !== undefined && a.dst === b.dst && a.via === b.via;
const describe = (r: RouteSpec) => (r.via === undefined ? `blackhole ${r.dst}` : `${r.dst} via ${r.via}`);

interface Change {
  readonly op: RouteOp;
  readonly route: RouteSpec;
}

export class RouteReconciler {
  /** Desired routes the kernel refused, by destination. */
  private readonly refused = new Map<string, RouteFailure>();
  /** Our routes in the kernel as of the last pass (undefined: never listed yet). */
  private installed: Map<string, KernelRoute> | undefined;

  constructor(
    private readonly ip: IpRoutes,
    private readonly opts: RouteReconcilerOptions,
  ) {}

  /** The desired routes that are not in the kernel because it refused them. */
  get failures(): ReadonlyMap<string, RouteFailure> {
    return this.refused;
  }

  /** `full`: list the kernel's routes, and try refused routes again. */
  async reconcile(desired: ReadonlyMap<string, RouteSpec>, opts: { full: boolean }): Promise<ReconcileOutcome> {
    if (opts.full || this.installed === undefined) this.installed = await this.ip.listOwn();
    const actual = this.installed;
    const changes: Change[] = [];
    let unchanged = 0;
    let held = 0;
    for (const [dst, route] of desired) {
      const current: KernelRoute | undefined = actual.get(dst);
      if (current && !current.other && sameRoute(route, current)) {
        unchanged++;
        this.refused.delete(dst);
        continue;
      }
      if (!opts.full && sameRoute(route, this.refused.get(dst)?.route)) {
        held++;
        continue;
      }
      changes.push({ op: current ? 'replace' : 'add', route });
    }
    for (const dst of actual.keys()) if (!desired.has(dst)) changes.push({ op: 'del', route: { dst } });
    for (const dst of this.refused.keys()) if (!desired.has(dst)) this.refused.delete(dst);

    let failures: Map<number, string>;
    try {
      failures = await this.ip.applyBatch(changes.map((c) => (c.op === 'del' ? `route del ${c.route.dst} table main proto ${this.ip.protocol}` : routeCommand(c.op, c.route, this.ip.protocol))));
    } catch (err) {
      this.installed = undefined; // whatever the batch did, the next pass lists the kernel
      throw err;
    }
    const counts = { added: 0, replaced: 0, deleted: 0, failed: 0 };
    changes.forEach((change, i) => {
      const message = failures.get(i);
      if (message === undefined) this.succeeded(change, actual, counts);
      else this.failed(change, message, actual, counts);
    });
    return { ...counts, unchanged, held };
  }

  private succeeded(change: Change, installed: Map<string, KernelRoute>, counts: { added: number; replaced: number; deleted: number }): void {
    if (change.op === 'del') {
      installed.delete(change.route.dst);
      counts.deleted++;
      return;
    }
    installed.set(change.route.dst, change.route);
    if (change.op === 'add') counts.added++;
    else counts.replaced++;
    const earlier = this.refused.get(change.route.dst);
    if (earlier) {
      this.refused.delete(change.route.dst);
      this.opts.log.info({ route: describe(change.route), earlierReason: earlier.message }, 'route installed after an earlier refusal');
    }
  }

  private failed(change: Change, message: string, installed: Map<string, KernelRoute>, counts: { failed: number }): void {
    if (change.op === 'del') {
      // Gone meanwhile (deleted by hand, or with its interface): what was wanted.
      if (/No such process/i.test(message)) installed.delete(change.route.dst);
      else this.opts.log.warn({ route: change.route.dst, reason: message }, 'could not delete a stale route');
      return;
    }
    counts.failed++;
    const reason = failureReason(message);
    this.opts.onFailure?.(reason);
    const earlier = this.refused.get(change.route.dst);
    this.refused.set(change.route.dst, { route: change.route, reason, message });
    if (earlier && sameRoute(change.route, earlier.route) && earlier.message === message) return;
    const hint =
      reason === 'gateway-unreachable'
        ? 'the gateway is not on a network this node is directly connected to (host-gw needs all nodes on one segment; IPIP/VXLAN are not implemented)'
        : reason === 'conflict'
          ? 'a route of another protocol, which the agent leaves alone, holds this destination'
          : 'the kernel refused the route';
    this.opts.log.warn({ route: describe(change.route), reason, kernel: message }, `route not installed: ${hint}; tried again at the next resync`);
  }
}

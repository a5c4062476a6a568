import type { RouteUpdate } from '@atoll/api';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CoalescedTask } from './coalesced-task';
import { execFileRunner, type CommandRunner } from '../command-runner';
import { desiredRoutes, type Unroutable } from './desired-routes';
import { enableForwarding, procSysctls, type SysctlFiles } from './forwarding';
import { IpRoutes } from './ip-routes';
import { NatOutgoingReconciler } from './nat-reconciler';
import { RouteReconciler } from './route-reconciler';
import { RouteState } from './route-state';
import { RouteWatch } from './route-watch';
import { createRoutingMetrics, type RoutingMetrics } from './routing-metrics';

// --routing=host-gw: the WatchRoutes stream feeds the route state; every change asks for a
// reconcile (at most one per `minIntervalMs`), and a full one runs on every snapshot and
// every `resyncMs`, so routes and rules removed by hand come back and refused routes are
// tried again. Routes are left in place when the agent stops (pods keep their traffic
// across an agent restart).

const DEFAULT_MIN_INTERVAL_MS = 100;

export interface HostGwRoutingOptions {
  readonly nodeName: string;
  readonly protocol: number;
  readonly resyncMs: number;
  readonly openStream: () => ClientReadableStream<RouteUpdate>;
  readonly log: Logger;
  readonly registry: Registry;
  /** Where ip and iptables run (default: this process's network namespace). */
  readonly runner?: CommandRunner;
  readonly sysctls?: SysctlFiles;
  readonly minIntervalMs?: number;
}

export interface HostGwRouting {
  stop(): Promise<void>;
}

export function startHostGwRouting(opts: HostGwRoutingOptions): HostGwRouting {
  const routing = new HostGwRoutingLoop(opts);
  routing.start();
  return routing;
}

const unroutableKey = (u: Unroutable) => `${u.dst} ${u.node} ${u.reason}`;
const ENCAP_NONE = new Set(['', 'Never']);

class HostGwRoutingLoop implements HostGwRouting {
  private readonly state = new RouteState();
  private readonly metrics: RoutingMetrics;
  private readonly routes: RouteReconciler;
  private readonly nat: NatOutgoingReconciler;
  private readonly watch: RouteWatch;
  private readonly task: CoalescedTask;
  private readonly sysctls: SysctlFiles;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** The pools version the NAT rules were last made for. */
  private natPoolsVersion = -1;
  private readonly reportedUnroutable = new Set<string>();
  private readonly warnedEncapsulation = new Set<string>();
  /** Per step, the last error logged: the same one is not logged again until the step succeeds. */
  private readonly stepErrors = new Map<string, string>();
  private reconciledOnce = false;

  constructor(private readonly opts: HostGwRoutingOptions) {
    const runner = opts.runner ?? execFileRunner();
    this.metrics = createRoutingMetrics(opts.registry);
    this.routes = new RouteReconciler(new IpRoutes(runner, opts.protocol), { log: opts.log, onFailure: (reason) => this.metrics.routeFailures.inc({ reason }) });
    this.nat = new NatOutgoingReconciler(runner);
    this.sysctls = opts.sysctls ?? procSysctls;
    this.task = new CoalescedTask((full) => this.reconcile(full), opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS);
    this.watch = new RouteWatch({
      open: opts.openStream,
      log: opts.log,
      onSubscribe: () => this.metrics.watchSubscriptions.inc(),
      onUpdate: (update) => {
        this.state.apply(update);
        this.task.request(update.snapshot);
      },
    });
  }

  start(): void {
    this.opts.log.info({ protocol: this.opts.protocol, resyncSeconds: this.opts.resyncMs / 1000 }, 'host-gw routing on');
    this.watch.start();
    this.resyncTimer = setInterval(() => this.task.request(true), this.opts.resyncMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    this.watch.stop();
    await this.task.stop();
  }

  private async reconcile(full: boolean): Promise<void> {
    if (!this.state.ready) return;
    const end = this.metrics.reconcileDuration.startTimer();
    await this.step('routes', () => this.reconcileRoutes(full));
    if (full || this.state.poolsVersion !== this.natPoolsVersion) await this.step('nat', () => this.reconcileNat());
    await this.step('forwarding', () => this.enableForwarding());
    this.warnAboutEncapsulation();
    end();
  }

  private async reconcileRoutes(full: boolean): Promise<void> {
    const { gateways, blocks, borrowed } = this.state;
    const desired = desiredRoutes({ gateways, blocks: blocks.values(), borrowed: borrowed.values() }, this.opts.nodeName);
    this.reportUnroutable(desired.unroutable);
    const started = Date.now();
    const outcome = await this.routes.reconcile(desired.routes, { full });
    const refused = this.routes.failures.size;
    this.metrics.routes.set({ state: 'installed' }, desired.routes.size - refused);
    this.metrics.routes.set({ state: 'refused' }, refused);
    this.metrics.routes.set({ state: 'unroutable' }, desired.unroutable.length);
    const summary = { ...outcome, wanted: desired.routes.size, ms: Date.now() - started };
    if (!this.reconciledOnce) this.opts.log.info(summary, 'routes reconciled');
    else this.opts.log.debug(summary, 'routes reconciled');
    this.reconciledOnce = true;
  }

  private async reconcileNat(): Promise<void> {
    const version = this.state.poolsVersion;
    const rewritten = await this.nat.reconcile(this.state.pools.values());
    this.natPoolsVersion = version;
    if (rewritten.length > 0) this.opts.log.info({ families: rewritten.map((v) => `IPv${v}`) }, 'NAT rules for natOutgoing pools written');
  }

  private async enableForwarding(): Promise<void> {
    const ipv6 = this.state.gateways.get(this.opts.nodeName)?.[6] !== undefined;
    const changed = await enableForwarding(this.sysctls, { ipv6 });
    if (changed.length > 0) this.opts.log.info({ files: changed }, 'forwarding enabled');
  }

  /** Runs one part of a reconcile; a failure is logged (once while it repeats) and counted, and the other parts still run. */
  private async step(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      this.stepErrors.delete(name);
    } catch (err) {
      this.metrics.reconcileErrors.inc();
      const message = (err as Error).message;
      if (this.stepErrors.get(name) !== message) this.opts.log.error({ step: name, reason: message }, 'reconcile failed; tried again at the next change or resync');
      this.stepErrors.set(name, message);
    }
  }

  private reportUnroutable(unroutable: readonly Unroutable[]): void {
    const now = new Set(unroutable.map(unroutableKey));
    for (const key of this.reportedUnroutable) if (!now.has(key)) this.reportedUnroutable.delete(key);
    for (const u of unroutable) {
      const key = unroutableKey(u);
      if (this.reportedUnroutable.has(key)) continue;
      this.reportedUnroutable.add(key);
      const why = u.reason === 'no-address' ? `node ${u.node} has no address of this family (its agent needs --node-ip or a Kubernetes InternalIP)` : `node ${u.node} has this node's own address`;
      this.opts.log.warn({ dst: u.dst, node: u.node, reason: u.reason }, `no route to ${u.dst}: ${why}`);
    }
  }

  private warnAboutEncapsulation(): void {
    for (const pool of this.state.pools.values()) {
      if ((ENCAP_NONE.has(pool.ipipMode) && ENCAP_NONE.has(pool.vxlanMode)) || this.warnedEncapsulation.has(pool.name)) continue;
      this.warnedEncapsulation.add(pool.name);
      this.opts.log.warn(
        { pool: pool.name, ipipMode: pool.ipipMode, vxlanMode: pool.vxlanMode },
        'IPIP/VXLAN encapsulation is not implemented: this pool\'s blocks are routed host-gw style (nodes must share one network segment)',
      );
    }
  }
}

import type {
  AutoAssignRequest as WireAutoAssign,
  CallError,
  FamilyAssignment as WireFamily,
  IntendedUse as WireUse,
  IpamServer,
} from '@atoll/api';
import { toCallError, unaryHandlers, type AsyncHandlers, type UnaryHandlers } from '@atoll/api';
import { autoAssignAllOrNothing, FamilyAssignment, IntendedUse, IpamEngine, IpamError } from '@atoll/ipam';
import type { Logger } from 'pino';
import { AbandonedAssignments, withoutRequestTag } from './abandoned-assignments';
import type { AllocatorMetrics } from './metrics';

// The Ipam gRPC service: wire messages ↔ engine calls, nothing else. Every request logs
// one line with its handle and node; errors are mapped to statuses once, in @atoll/api.

const USES: Readonly<Record<string, IntendedUse>> = {
  INTENDED_USE_WORKLOAD: 'Workload',
  INTENDED_USE_TUNNEL: 'Tunnel',
  INTENDED_USE_LOAD_BALANCER: 'LoadBalancer',
};

function intendedUse(u: WireUse | string | undefined): IntendedUse | undefined {
  return u === undefined ? undefined : USES[u];
}

function family(f: FamilyAssignment): WireFamily {
  return { requested: f.requested, ips: [...f.ips], msgs: [...f.msgs], errorCode: f.error?.code ?? '', errorMessage: f.error?.message ?? '' };
}

function sequenceNumber(text: string): bigint | undefined {
  if (text === '') return undefined;
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > 0xffffffffffffffffn) {
    throw new IpamError('invalid-argument', `sequence_number must be a decimal uint64, got ${JSON.stringify(text)}`);
  }
  return BigInt(text);
}

const signals = new WeakMap<object, AbortSignal>();

/**
 * Aborted when the call is cancelled (the client went away or its deadline passed), so
 * the engine does not start a request nobody waits for. One per call: the requests of a
 * batch call share it.
 */
function callSignal(call: unknown): AbortSignal | undefined {
  const c = call as { cancelled?: boolean; on?: (event: 'cancelled', listener: () => void) => unknown } | undefined;
  if (!c || typeof c.on !== 'function') return undefined;
  let signal = signals.get(c);
  if (!signal) {
    const controller = new AbortController();
    if (c.cancelled) controller.abort();
    else c.on('cancelled', () => controller.abort());
    signal = controller.signal;
    signals.set(c, signal);
  }
  return signal;
}

/** The call's deadline in epoch milliseconds, when its caller gave one. */
function callDeadline(call: unknown): number | undefined {
  const d = (call as { getDeadline?: () => Date | number } | undefined)?.getDeadline?.();
  const ms = d instanceof Date ? d.getTime() : d;
  return ms !== undefined && Number.isFinite(ms) ? ms : undefined;
}

export function autoAssignRequest(req: WireAutoAssign, signal: AbortSignal | undefined) {
  const use = intendedUse(req.intendedUse);
  if (!use) throw new IpamError('invalid-argument', 'must specify the intended use when assigning an IP');
  return {
    num4: req.num4,
    num6: req.num6,
    handleId: req.handleId,
    attributes: req.attributes,
    hostname: req.hostname,
    ipv4Pools: req.ipv4Pools,
    ipv6Pools: req.ipv6Pools,
    ...(req.maxBlocksPerHost > 0 && { maxBlocksPerHost: req.maxBlocksPerHost }),
    intendedUse: use,
    namespaceLabels: req.namespaceLabels,
    ...(signal && { signal }),
  };
}

/**
 * The unary calls of the Ipam service (WatchRoutes, a stream, is served by routes/).
 * Assignments whose caller was answered "try again later" are undone by `abandoned`.
 */
export function ipamHandlers(
  engine: IpamEngine,
  log: Logger,
  metrics: AllocatorMetrics,
  abandoned = new AbandonedAssignments(engine, log.child({ component: 'abandoned-assignments' })),
): UnaryHandlers<IpamServer> {
  const handlers: Omit<AsyncHandlers<IpamServer>, 'autoAssignBatch' | 'releaseByHandleBatch'> = {
    autoAssign: async (req: WireAutoAssign, call) => {
      const signal = callSignal(call);
      const r = await abandoned.run(
        autoAssignRequest(req, signal),
        signal,
        (request) => (req.allOrNothing ? autoAssignAllOrNothing(engine, request) : engine.autoAssign(request)),
        callDeadline(call),
      );
      return { ipv4: family(r.ipv4), ipv6: family(r.ipv6) };
    },
    assignIp: async (req, call) => {
      const use = intendedUse(req.intendedUse);
      const signal = callSignal(call);
      const request = { ip: req.ip, handleId: req.handleId, attributes: req.attributes, hostname: req.hostname, ...(use && { intendedUse: use }), ...(signal && { signal }) };
      const ip = await abandoned.run(request, signal, (tagged) => engine.assignIP(tagged), callDeadline(call));
      return { ip };
    },
    releaseIPs: async (req) => {
      const opts = req.options.map((o) => {
        const seq = sequenceNumber(o.sequenceNumber);
        return { address: o.address, ...(o.handleId && { handleId: o.handleId }), ...(seq !== undefined && { sequenceNumber: seq }) };
      });
      const r = await engine.releaseIPs(opts);
      return {
        unallocated: [...r.unallocated],
        released: r.released.map((o) => ({ address: o.address, handleId: o.handleId ?? '', sequenceNumber: o.sequenceNumber?.toString() ?? '' })),
        errors: r.errors.map((e) => ({ address: e.address, errorCode: e.error.code, errorMessage: e.error.message })),
      };
    },
    releaseByHandle: async (req) => ({ released: await engine.releaseByHandle(req.handleId) }),
    ipsByHandle: async (req) => ({ ips: await engine.ipsByHandle(req.handleId) }),
    getAssignmentAttributes: async (req) => {
      const a = await engine.getAssignmentAttributes(req.ip);
      return { address: a.address, block: a.block, handleId: a.handleId ?? '', attributes: withoutRequestTag(a.attributes), sequenceNumber: a.sequenceNumber.toString() };
    },
    claimAffinity: async (req) => {
      const r = await engine.claimAffinity(req.cidr, req.host);
      return { claimed: [...r.claimed], failed: [...r.failed] };
    },
    releaseAffinity: async (req) => {
      await engine.releaseAffinity(req.cidr, req.host, { mustBeEmpty: req.mustBeEmpty });
      return {};
    },
    releaseHostAffinities: async (req) => {
      await engine.releaseHostAffinities(req.host, { mustBeEmpty: req.mustBeEmpty });
      return {};
    },
    getUtilization: async (req) => {
      const u = await engine.getUtilization(req.poolNames.length > 0 ? { poolNames: req.poolNames } : {});
      const block = (b: { cidr: string; capacity: bigint; inUse: bigint; reserved: bigint; available: bigint; affinity?: string | null }) => ({
        cidr: b.cidr,
        capacity: b.capacity.toString(),
        inUse: b.inUse.toString(),
        reserved: b.reserved.toString(),
        available: b.available.toString(),
        affinity: b.affinity ?? '',
      });
      return {
        pools: u.pools.map((p) => ({ ...block(p), name: p.name, blocks: p.blocks.map(block) })).map(({ affinity: _a, ...p }) => p),
        orphanBlocks: u.orphanBlocks.map(block),
      };
    },
    check: async () => {
      const r = await engine.check();
      return {
        blocks: r.blocks,
        allocations: r.allocations,
        handles: r.handles,
        affinities: r.affinities,
        invalidBlocks: r.invalidBlocks.map((b) => ({ block: b.block, problems: [...b.problems] })),
        handlesWithoutAddresses: [...r.handlesWithoutAddresses],
        addressesWithoutHandle: r.addressesWithoutHandle.map((a) => ({ ...a })),
        miscountedHandles: r.miscountedHandles.map((m) => ({ ...m })),
        blocksOutsidePools: [...r.blocksOutsidePools],
        affinityProblems: r.affinityProblems.map((a) => ({ ...a })),
        problems: r.problems,
      };
    },
    getIpamConfig: async () => wireConfig(await engine.getIPAMConfig()),
    setIpamConfig: async (req) => {
      const persistence = req.kubeVirtVmAddressPersistence;
      if (persistence !== undefined && persistence !== 'Enabled' && persistence !== 'Disabled') {
        throw new IpamError('config-invalid', `kubeVirtVMAddressPersistence must be Enabled or Disabled, got ${JSON.stringify(persistence)}`);
      }
      const next = await engine.updateIPAMConfig({
        ...(req.strictAffinity !== undefined && { strictAffinity: req.strictAffinity }),
        ...(req.autoAllocateBlocks !== undefined && { autoAllocateBlocks: req.autoAllocateBlocks }),
        ...(req.maxBlocksPerHost !== undefined && { maxBlocksPerHost: req.maxBlocksPerHost }),
        ...(persistence !== undefined && { kubeVirtVMAddressPersistence: persistence }),
        ...(req.ipCooldownSeconds !== undefined && { ipCooldownSeconds: req.ipCooldownSeconds }),
      });
      return wireConfig(next);
    },
    listAllocations: async (req) => {
      const list = await engine.listAllocations({ ...(req.node && { node: req.node }), ...(req.handlePrefix && { handlePrefix: req.handlePrefix }) });
      return {
        allocations: list.map((a) => ({
          address: a.address,
          block: a.block,
          handleId: a.handleId ?? '',
          attributes: withoutRequestTag(a.attributes),
          sequenceNumber: a.sequenceNumber.toString(),
          blockAffinity: a.blockAffinity ?? '',
        })),
      };
    },
  };
  const single = instrument(handlers, log, metrics);
  // Each request of a batch is served as if sent alone (its own log line, metrics and
  // error); requests of one host then meet in the engine's per-host queue.
  const batches: Pick<AsyncHandlers<IpamServer>, 'autoAssignBatch' | 'releaseByHandleBatch'> = {
    autoAssignBatch: async (req, call) => ({ outcomes: await Promise.all(req.requests.map((r) => settle(single.autoAssign(r, call as never)))) }),
    releaseByHandleBatch: async (req, call) => ({ outcomes: await Promise.all(req.requests.map((r) => settle(single.releaseByHandle(r, call as never)))) }),
  };
  return unaryHandlers<IpamServer>({ ...single, ...instrument(batches, log, metrics) });
}

/** One request's outcome in a batch answer: its response, or the error a lone call would have carried. */
function settle<Res>(p: Promise<Res>): Promise<{ response: Res } | { error: CallError }> {
  return p.then(
    (response) => ({ response }),
    (err: unknown) => ({ error: toCallError(err) }),
  );
}

/** Wraps every handler with one log line per failure, latency and error metrics. */
export function instrument<T>(handlers: T, log: Logger, metrics: AllocatorMetrics): T {
  const out: Record<string, unknown> = {};
  for (const [method, fn] of Object.entries(handlers as Record<string, (req: unknown, call: unknown) => Promise<unknown>>)) {
    out[method] = async (req: unknown, call: unknown) => {
      const started = process.hrtime.bigint();
      const reqLog = log.child({ method, ...requestContext(req) });
      let code = 'ok';
      try {
        return await fn(req, call);
      } catch (err) {
        code = (err as { code?: string }).code ?? 'internal';
        metrics.rpcErrors.inc({ method, code });
        if (code === 'internal') reqLog.error({ err }, 'request failed');
        else reqLog.info({ code, reason: (err as Error).message }, 'request refused');
        throw err;
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.rpcDuration.observe({ method, code }, seconds);
        if (code === 'ok') reqLog.debug({ ms: Math.round(seconds * 1000) }, 'request served');
      }
    };
  }
  return out as T;
}

/** The fields that identify a request in logs: handle, node, address, CIDR. */
function requestContext(req: unknown): Record<string, string> {
  const r = (req ?? {}) as Record<string, unknown>;
  const ctx: Record<string, string> = {};
  const pick = (from: string, to: string) => {
    if (typeof r[from] === 'string' && r[from] !== '') ctx[to] = r[from] as string;
  };
  pick('handleId', 'handle');
  pick('hostname', 'node');
  pick('host', 'node');
  pick('node', 'node');
  pick('ip', 'ip');
  pick('cidr', 'cidr');
  return ctx;
}

function wireConfig(c: Awaited<ReturnType<IpamEngine['getIPAMConfig']>>) {
  return {
    strictAffinity: c.strictAffinity,
    autoAllocateBlocks: c.autoAllocateBlocks,
    maxBlocksPerHost: c.maxBlocksPerHost,
    kubeVirtVmAddressPersistence: c.kubeVirtVMAddressPersistence,
    ipCooldownSeconds: c.ipCooldownSeconds,
  };
}

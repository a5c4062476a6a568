import type { StaticIpsServer } from '@atoll/api';
import { HandOffReason, unaryHandlers, type AsyncHandlers, type UnaryHandlers } from '@atoll/api';
import { IpamError, type IpamEngine } from '@atoll/ipam';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { instrument } from './ipam-service';
import type { AllocatorMetrics } from './metrics';

// The StaticIps gRPC service: who holds an address, and the hand-off of one to a new
// holder. Whether a hand-off is right was decided by the caller from the Kubernetes API;
// authz/ decides what a node may take; the engine makes the move one transaction.

/** The `reason` label of atoll_static_handoffs_total, as the wire reason names it. */
export const HAND_OFF_REASONS: Readonly<Partial<Record<HandOffReason, string>>> = {
  [HandOffReason.HAND_OFF_REASON_SAME_POD]: 'same-pod',
  [HandOffReason.HAND_OFF_REASON_HOLDER_GONE]: 'holder-gone',
};

export function createHandOffMetrics(metrics: AllocatorMetrics) {
  return new Counter({
    name: 'atoll_static_handoffs_total',
    help: 'Requested addresses moved from a holder that no longer needs them to a new sandbox, by reason (same-pod, holder-gone)',
    labelNames: ['reason'] as const,
    registers: [metrics.registry],
  });
}

export function staticIpsHandlers(engine: IpamEngine, log: Logger, metrics: AllocatorMetrics, handOffs: ReturnType<typeof createHandOffMetrics>): UnaryHandlers<StaticIpsServer> {
  const handlers: AsyncHandlers<StaticIpsServer> = {
    getHolder: async (req) => {
      const a = await engine.getAssignmentAttributes(req.ip);
      return { address: a.address, handleId: a.handleId ?? '', attributes: { ...a.attributes } };
    },
    handOff: async (req) => {
      const reason = HAND_OFF_REASONS[req.reason];
      if (!reason) throw new IpamError('invalid-argument', `a hand-off needs a reason (same-pod or holder-gone), got ${String(req.reason)}`);
      const r = await engine.handOffIP({ ip: req.ip, fromHandleId: req.fromHandleId, handleId: req.handleId, attributes: req.attributes });
      // A repeat whose first answer was lost moved nothing: counted and logged once.
      if (r.moved) {
        handOffs.inc({ reason });
        log.info({ ip: r.address, fromHandle: req.fromHandleId, handle: req.handleId, node: req.hostname, reason }, 'handed a requested address off to a new holder');
      }
      return { ip: r.address };
    },
  };
  return unaryHandlers<StaticIpsServer>(instrument(handlers, log, metrics));
}

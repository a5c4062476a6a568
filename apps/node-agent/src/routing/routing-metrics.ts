import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** host-gw routing's metrics, on the agent's registry. */
export function createRoutingMetrics(registry: Registry) {
  return {
    routes: new Gauge({
      name: 'atoll_node_agent_routes',
      help: 'Routes the agent wants in the main table (its protocol), by state: installed, refused (by the kernel), unroutable (the node has no address of the family, or it is this node\'s own)',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    routeFailures: new Counter({
      name: 'atoll_node_agent_route_failures_total',
      help: 'Route changes the kernel refused, by reason: gateway-unreachable (not on a directly connected network), conflict (another protocol\'s route holds the destination), error',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'atoll_node_agent_route_reconcile_seconds',
      help: 'Time of one reconcile of routes (and, on pool changes and resyncs, NAT rules)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'atoll_node_agent_route_reconcile_errors_total',
      help: 'Reconciles that failed as a whole (ip or iptables could not be run or answered unexpectedly)',
      registers: [registry],
    }),
    watchSubscriptions: new Counter({
      name: 'atoll_node_agent_route_watch_subscriptions_total',
      help: 'WatchRoutes streams opened (more than one: the stream was lost and opened again)',
      registers: [registry],
    }),
  };
}

export type RoutingMetrics = ReturnType<typeof createRoutingMetrics>;

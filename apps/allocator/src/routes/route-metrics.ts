import { Counter, Gauge, type Registry } from 'prom-client';

/** The WatchRoutes stream's metrics, on the allocator's registry. */
export function createRouteMetrics(registry: Registry) {
  return {
    watchers: new Gauge({
      name: 'atoll_allocator_route_watchers',
      help: 'Open WatchRoutes streams (node agents routing host-gw)',
      registers: [registry],
    }),
    messages: new Counter({
      name: 'atoll_allocator_route_messages_total',
      help: 'WatchRoutes messages sent, by kind (snapshot or delta)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type RouteMetrics = ReturnType<typeof createRouteMetrics>;

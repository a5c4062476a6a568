import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The allocator's own metrics registry (no global state, so tests can run several). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rpcDuration: new Histogram({
      name: 'atoll_allocator_rpc_duration_seconds',
      help: 'gRPC request latency by method and result code',
      labelNames: ['method', 'code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    rpcErrors: new Counter({
      name: 'atoll_allocator_rpc_errors_total',
      help: 'gRPC requests that failed, by method and error code',
      labelNames: ['method', 'code'] as const,
      registers: [registry],
    }),
  };
}

export type AllocatorMetrics = ReturnType<typeof createMetrics>;

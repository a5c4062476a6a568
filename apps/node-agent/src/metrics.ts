import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createAgentMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    cniDuration: new Histogram({
      name: 'atoll_node_agent_cni_duration_seconds',
      help: 'CNI operation latency at the node agent, by command and result (ok or the CNI error code)',
      labelNames: ['command', 'result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'atoll_node_agent_queue_depth',
      help: 'CNI requests waiting for their turn',
      registers: [registry],
    }),
  };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;

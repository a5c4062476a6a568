// What one chaos run does. The short form runs inside `npm test` (apps/e2e); the long form
// is `npm run chaos`, with every field settable from the environment (see fromEnv).

import { FAULT_KINDS, type FaultKind } from './faults';

export interface ChaosOptions {
  /** The fault kinds injected, in turn (`--faults=crash,partition`; all by default). */
  readonly faults: readonly FaultKind[];
  /** CNI execs (ADD + DEL, retries included) after which the load stops. */
  readonly operations: number;
  /** Faults injected at least (the load goes on until both counts are reached). */
  readonly minFaults: number;
  /** Quiet time between the recovery from one fault and the next fault. */
  readonly faultIntervalMs: number;
  /** Pods being added or deleted at once (one worker each). */
  readonly concurrency: number;
  /** Live pods one worker keeps before it deletes one. */
  readonly holdPerWorker: number;
  /** Share of ADDs that ask for a specific address (ipAddrs annotation). */
  readonly staticFraction: number;
  /** Sticky StatefulSet pods deleted and recreated over and over, on the next node each time (`--sticky-pods=N`). */
  readonly stickyPods: number;
  /** No ADD or DEL may take longer than this (it is killed and counted as hung). */
  readonly boundMs: number;
  /** How long a pod's DEL is retried (code 11) before the run calls it stuck. */
  readonly delRetryMs: number;
  /** How long after a failed ADD the allocator may still hold what it assigned (the ledger's grace). */
  readonly failedAddGraceMs: number;
  /** How long the runtime waits before the DEL that follows a failed ADD (longer than the grace). */
  readonly failedAddDelDelayMs: number;
  /** How often the allocations are listed and checked. */
  readonly monitorIntervalMs: number;
  readonly allocatorDownMs: number;
  readonly etcdDownMs: number;
  readonly agentDownMs: number;
  /** How long a partition lasts before it heals. */
  readonly partitionMs: number;
  readonly etcdMembers: number;
  readonly allocators: number;
  readonly agents: number;
  /** Seeds every random choice (which agent, which static address, which pod to delete). */
  readonly seed: number;
  /** Stops the load after this long even if the counts are not reached. */
  readonly maxDurationMs: number;
  /** Progress lines (faults, counts); nothing by default. */
  readonly log?: (line: string) => void;
  /** Stops the load early (Ctrl-C); cleanup and the final checks still run. */
  readonly signal?: AbortSignal;
}

export const SHORT_FORM: ChaosOptions = {
  faults: FAULT_KINDS,
  operations: 300,
  minFaults: 7, // one of each kind
  faultIntervalMs: 1500,
  concurrency: 6,
  holdPerWorker: 3,
  staticFraction: 0.15,
  stickyPods: 2,
  boundMs: 30_000,
  delRetryMs: 60_000,
  failedAddGraceMs: 20_000,
  failedAddDelDelayMs: 25_000,
  monitorIntervalMs: 200,
  allocatorDownMs: 1500,
  etcdDownMs: 1500,
  agentDownMs: 500,
  partitionMs: 3000,
  etcdMembers: 3,
  allocators: 2,
  agents: 5,
  seed: 1,
  maxDurationMs: 100_000,
};

export const LONG_FORM: ChaosOptions = {
  ...SHORT_FORM,
  operations: 5000,
  minFaults: 30,
  faultIntervalMs: 2500,
  concurrency: 8,
  holdPerWorker: 5,
  stickyPods: 4,
  delRetryMs: 120_000,
  maxDurationMs: 30 * 60_000,
  seed: Date.now() % 1_000_000,
};

const ENV: Readonly<Record<string, keyof ChaosOptions>> = {
  ATOLL_CHAOS_OPERATIONS: 'operations',
  ATOLL_CHAOS_MIN_FAULTS: 'minFaults',
  ATOLL_CHAOS_FAULT_INTERVAL_MS: 'faultIntervalMs',
  ATOLL_CHAOS_CONCURRENCY: 'concurrency',
  ATOLL_CHAOS_HOLD: 'holdPerWorker',
  ATOLL_CHAOS_STATIC_FRACTION: 'staticFraction',
  ATOLL_CHAOS_STICKY_PODS: 'stickyPods',
  ATOLL_CHAOS_BOUND_MS: 'boundMs',
  ATOLL_CHAOS_DEL_RETRY_MS: 'delRetryMs',
  ATOLL_CHAOS_FAILED_ADD_GRACE_MS: 'failedAddGraceMs',
  ATOLL_CHAOS_FAILED_ADD_DEL_DELAY_MS: 'failedAddDelDelayMs',
  ATOLL_CHAOS_MONITOR_INTERVAL_MS: 'monitorIntervalMs',
  ATOLL_CHAOS_ALLOCATOR_DOWN_MS: 'allocatorDownMs',
  ATOLL_CHAOS_ETCD_DOWN_MS: 'etcdDownMs',
  ATOLL_CHAOS_AGENT_DOWN_MS: 'agentDownMs',
  ATOLL_CHAOS_PARTITION_MS: 'partitionMs',
  ATOLL_CHAOS_AGENTS: 'agents',
  ATOLL_CHAOS_ALLOCATORS: 'allocators',
  ATOLL_CHAOS_SEED: 'seed',
  ATOLL_CHAOS_MAX_DURATION_MS: 'maxDurationMs',
};

/** `base` with the ATOLL_CHAOS_* variables that are set; a bad value is an error naming it. */
export function fromEnv(base: ChaosOptions, env: NodeJS.ProcessEnv): ChaosOptions {
  const out: Record<string, unknown> = { ...base };
  for (const [name, field] of Object.entries(ENV)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    const fraction = field === 'staticFraction';
    if (!Number.isFinite(value) || value < 0 || (fraction ? value > 1 : !Number.isInteger(value))) {
      throw new Error(`${name}: expected ${fraction ? 'a number from 0 to 1' : 'a whole number'}, got ${JSON.stringify(text)}`);
    }
    out[field] = value;
  }
  if ((out['allocators'] as number) < 1 || (out['agents'] as number) < 1 || (out['concurrency'] as number) < 1) {
    throw new Error('ATOLL_CHAOS_ALLOCATORS, ATOLL_CHAOS_AGENTS and ATOLL_CHAOS_CONCURRENCY must be at least 1');
  }
  return out as unknown as ChaosOptions;
}

/** mulberry32: small, seeded, good enough for choosing agents and addresses. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `--sticky-pods=N`: a whole number, 0 (none) to 64. */
export function parseStickyPods(text: string): number {
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 0 || n > 64) throw new Error(`--sticky-pods: expected a whole number from 0 to 64, got ${JSON.stringify(text)}`);
  return n;
}

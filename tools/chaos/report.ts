import type { DuplicateFinding, HeldAfterFailureFinding, LostFinding, StickyFinding } from './ledger';
import type { FaultKind, FaultRecord, ProbeRecord } from './faults';
import type { BadFailure, LatencySummary } from './stats';

// The outcome of one run, as one JSON object (written to .bench/chaos.json by the long
// form) and as lines for people. `problems` lists every broken promise; empty means pass.

export interface ChaosReport {
  readonly verdict: 'pass' | 'fail';
  readonly problems: readonly string[];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly setup: { readonly etcdMembers: number; readonly allocators: number; readonly agents: number; readonly concurrency: number; readonly seed: number; readonly boundMs: number };
  readonly operations: { readonly total: number; readonly add: number; readonly del: number; readonly probes: number; readonly podsAttached: number; readonly staticAttached: number };
  readonly faults: { readonly total: number; readonly byKind: Record<FaultKind, number>; readonly log: readonly FaultRecord[] };
  readonly probes: readonly ProbeRecord[];
  readonly failures: { readonly total: number; readonly byCode: Record<string, number>; readonly notRetryable: readonly BadFailure[] };
  readonly hangs: number;
  readonly latencyMs: { readonly add: LatencySummary; readonly del: LatencySummary };
  readonly duplicates: number;
  readonly duplicateFindings: readonly DuplicateFinding[];
  readonly lost: number;
  readonly lostFindings: readonly LostFinding[];
  /** Addresses a pod still held after its ADD failed and the grace passed, before its DEL. */
  readonly heldAfterFailedAdd: number;
  readonly heldAfterFailedAddFindings: readonly HeldAfterFailureFinding[];
  /** Failed ADDs not checked for that because an allocator replica was killed while they ran. */
  readonly failedAddsExempt: number;
  /** Sticky StatefulSet pods: identities, their successful ADDs, and the ADDs (or the end) that found other addresses than the first ADD's. */
  readonly sticky: { readonly pods: number; readonly identities: number; readonly adds: number; readonly changed: number; readonly changedFindings: readonly StickyFinding[] };
  readonly leaks: number;
  readonly leakedAllocations: readonly { readonly address: string; readonly handleId: string }[];
  readonly leakedHandles: number;
  readonly stuckDeletes: number;
  readonly monitor: { readonly listings: number; readonly unavailable: number; readonly maxAllocations: number };
  readonly ipamCheck: { readonly exitCode: number | null; readonly problems: number | null; readonly summary: string };
  readonly ipamShowInUse: number | null;
  readonly leftoverProcesses: readonly number[];
}

export function formatReportLines(r: ChaosReport): string[] {
  const byCode = Object.entries(r.failures.byCode).map(([c, n]) => `${c}: ${n}`).join(', ') || 'none';
  const byKind = Object.entries(r.faults.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `chaos: ${r.verdict.toUpperCase()} in ${(r.durationMs / 1000).toFixed(1)} s (${r.setup.etcdMembers} etcd members, ${r.setup.allocators} allocators, ${r.setup.agents} agents, ${r.setup.concurrency} workers, seed ${r.setup.seed})`,
    `operations: ${r.operations.total} (ADD ${r.operations.add}, DEL ${r.operations.del}; ${r.operations.probes} probes; ${r.operations.podsAttached} pods attached, ${r.operations.staticAttached} with a static address)`,
    `faults injected: ${r.faults.total} (${byKind})`,
    `probes while a dependency was down: ${r.probes.map((p) => `${p.down} → code ${p.code} in ${p.ms} ms`).join('; ') || 'none'}`,
    `failures by code: ${byCode}; not retryable: ${r.failures.notRetryable.length}; hung past ${r.setup.boundMs} ms: ${r.hangs}`,
    `latency ms: ADD p50 ${r.latencyMs.add.p50} p99 ${r.latencyMs.add.p99} max ${r.latencyMs.add.max}; DEL p50 ${r.latencyMs.del.p50} p99 ${r.latencyMs.del.p99} max ${r.latencyMs.del.max}`,
    `duplicates: ${r.duplicates}`,
    `lost allocations (a live pod's address not allocated to it): ${r.lost}`,
    `held after a failed ADD, before its DEL: ${r.heldAfterFailedAdd} (${r.failedAddsExempt} failed ADDs exempt: an allocator was killed, or their agent stopped or cut off, meanwhile)`,
    `sticky pods: ${r.sticky.pods} identities, ${r.sticky.adds} ADDs; addresses other than the first ADD's: ${r.sticky.changed}`,
    `leaks: ${r.leaks} addresses, ${r.leakedHandles} handles; stuck DELs: ${r.stuckDeletes}`,
    `continuous checks: ${r.monitor.listings} listings (${r.monitor.unavailable} unavailable), at most ${r.monitor.maxAllocations} allocations at once`,
    `atollctl ipam check: exit ${r.ipamCheck.exitCode}, ${r.ipamCheck.summary}; ipam show: ${r.ipamShowInUse} in use`,
    `processes left running: ${r.leftoverProcesses.length}`,
    ...r.problems.map((p) => `PROBLEM: ${p}`),
  ];
}

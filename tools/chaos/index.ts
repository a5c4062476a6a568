// The chaos suite: faults injected into a running installation under load, with the
// invariants checked throughout. Short form: apps/e2e/test/chaos.test.ts (npm test);
// long form: npm run chaos (main.ts).
export { ChaosCluster, stillRunning } from './cluster';
export type { AgentSlot, AllocatorSlot, ChaosClusterOptions } from './cluster';
export { findEtcdLeader, isEtcdLeader } from './etcd-leader';
export { FAULT_GROUPS, FAULT_KINDS, parseFaultGroups } from './faults';
export { startFaultProxy } from './fault-proxy';
export type { FaultProxy, ProxyMode } from './fault-proxy';
export type { FaultKind, FaultRecord, ProbeRecord } from './faults';
export { Ledger } from './ledger';
export type { ChaosPod, DuplicateFinding, HeldAfterFailureFinding, LedgerOptions, LostFinding, StickyFinding } from './ledger';
export { fromEnv, LONG_FORM, parseStickyPods, seededRandom, SHORT_FORM } from './options';
export type { ChaosOptions } from './options';
export { CHAOS_NETWORK, execIpam, execPluginRaw, ipamConfig, PLUGIN_PATH_ENV } from './plugin-exec';
export type { IpamCall, IpamOutcome, RawExec, RawOutcome } from './plugin-exec';
export { formatReportLines } from './report';
export type { ChaosReport } from './report';
export { runChaos } from './run-chaos';

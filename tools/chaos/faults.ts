import type { ChaosCluster } from './cluster';
import type { Load } from './load';

// The faults: SIGKILL an allocator replica (then start it again on its port), SIGKILL the
// etcd leader (then restart it with its data dir), stop a node agent (SIGKILL or SIGTERM
// in turn) and start it again. While a replica or an agent is down, one probe ADD goes
// through an agent that depends on it: the answer must be CNI code 11, promptly.

export type FaultKind = 'allocator-kill' | 'etcd-leader-kill' | 'agent-restart';
export const FAULT_KINDS: readonly FaultKind[] = ['allocator-kill', 'etcd-leader-kill', 'agent-restart'];

export interface ProbeRecord {
  /** Through which agent, and what it depended on that was down. */
  readonly agent: string;
  readonly down: string;
  readonly code: number;
  readonly ms: number;
  readonly msg: string;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly target: string;
  readonly atMs: number;
  /** From the fault to everything serving again. */
  readonly recoveredAfterMs: number;
  readonly probe?: ProbeRecord;
}

export interface FaultTiming {
  readonly allocatorDownMs: number;
  readonly etcdDownMs: number;
  readonly agentDownMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FaultInjector {
  readonly records: FaultRecord[] = [];
  private readonly counts: Record<FaultKind, number> = { 'allocator-kill': 0, 'etcd-leader-kill': 0, 'agent-restart': 0 };

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly load: Load,
    private readonly timing: FaultTiming,
    private readonly log: (line: string) => void,
    private readonly t0 = performance.now(),
  ) {}

  byKind(): Record<FaultKind, number> {
    return { ...this.counts };
  }

  get total(): number {
    return this.records.length;
  }

  private async probe(agent: number, down: string): Promise<ProbeRecord> {
    const { pod, outcome } = await this.load.add(agent, { probe: true });
    this.load.deleteLater(pod);
    return { agent: this.cluster.agents[agent]!.nodeName, down, code: outcome.code, ms: Math.round(outcome.ms), msg: outcome.msg };
  }

  async inject(kind: FaultKind): Promise<FaultRecord> {
    const started = performance.now();
    const n = this.counts[kind]++;
    let target = '';
    let probe: ProbeRecord | undefined;
    switch (kind) {
      case 'allocator-kill': {
        const i = n % this.cluster.allocators.length;
        const slot = this.cluster.allocators[i]!;
        target = `allocator ${i} (${slot.address}, pid ${slot.proc?.pid})`;
        await this.cluster.killAllocator(i);
        this.log(`fault: SIGKILL ${target}`);
        const dependent = this.cluster.agents.find((a) => a.allocator === slot && this.cluster.agentUp(a.index));
        if (dependent) probe = await this.probe(dependent.index, `allocator ${i}`);
        await sleep(this.timing.allocatorDownMs);
        await this.cluster.startAllocator(i);
        break;
      }
      case 'etcd-leader-kill': {
        const leader = await this.cluster.etcdLeader();
        target = `etcd leader ${leader.name} (${leader.clientUrl}, pid ${leader.pid})`;
        await leader.kill();
        this.log(`fault: SIGKILL ${target}`);
        await sleep(this.timing.etcdDownMs);
        await this.cluster.restartEtcdMember(leader);
        await this.cluster.etcdLeader();
        break;
      }
      case 'agent-restart': {
        const i = n % this.cluster.agents.length;
        const slot = this.cluster.agents[i]!;
        const signal: NodeJS.Signals = n % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
        target = `agent ${slot.nodeName} (pid ${slot.proc?.pid}, ${signal})`;
        await this.cluster.stopAgent(i, signal);
        this.log(`fault: ${signal} ${target}`);
        probe = await this.probe(i, `agent ${slot.nodeName}`);
        await sleep(this.timing.agentDownMs);
        await this.cluster.startAgent(i);
        break;
      }
    }
    const record: FaultRecord = {
      kind,
      target,
      atMs: Math.round(started - this.t0),
      recoveredAfterMs: Math.round(performance.now() - started),
      ...(probe && { probe }),
    };
    this.records.push(record);
    this.log(`recovered from ${kind} after ${record.recoveredAfterMs} ms${probe ? `; probe ADD via ${probe.agent} answered code ${probe.code} in ${probe.ms} ms` : ''}`);
    return record;
  }
}

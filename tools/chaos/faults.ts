import type { ChaosCluster } from './cluster';
import { fillUntilNoSpace, recoverSpace } from './etcd-space';
import type { ChaosPod } from './ledger';
import type { Load } from './load';

// The faults: SIGKILL an allocator replica (then start it again on its port), SIGKILL the
// etcd leader (then restart it with its data dir), stop a node agent (SIGKILL or SIGTERM
// in turn) and start it again. While a replica or an agent is down, one probe ADD goes
// through an agent that depends on it: the answer must be CNI code 11, promptly.
// Partitions (see cluster.ts for the links): one replica cut off from every etcd member —
// it must report not ready, answer the probe with 11, and be ready again after the heal —
// and one replica whose links drop only etcd's answers for a while (a one-way partition),
// after which it must be ready again promptly. And an agent cut off from its replica in
// the middle of an ADD: that ADD must answer 11, and once the link heals an ADD of the
// same pod (same container, same handle) must succeed.
// Out of space: ballast fills etcd to its quota (NOSPACE); an ADD must fail with 11 and say
// that etcd is out of space, reads must still work; after the operator's steps (delete,
// compact, defragment, disarm) ADDs must succeed again without restarting anything.

export type FaultKind = 'allocator-kill' | 'etcd-leader-kill' | 'agent-restart' | 'allocator-etcd-cut' | 'allocator-etcd-one-way' | 'agent-allocator-cut' | 'etcd-nospace';
export const FAULT_KINDS: readonly FaultKind[] = ['allocator-kill', 'etcd-leader-kill', 'agent-restart', 'allocator-etcd-cut', 'allocator-etcd-one-way', 'agent-allocator-cut', 'etcd-nospace'];

/** The groups `--faults=` selects: crashes (the original three) and partitions. */
export const FAULT_GROUPS: Readonly<Record<string, readonly FaultKind[]>> = {
  crash: ['allocator-kill', 'etcd-leader-kill', 'agent-restart'],
  partition: ['allocator-etcd-cut', 'allocator-etcd-one-way', 'agent-allocator-cut'],
  nospace: ['etcd-nospace'],
};

/** Groups named for the suite that it does not run yet: asking for one says so, rather than "unknown". */
const NOT_YET_RUN: readonly string[] = ['netem', 'clock'];

/** The fault kinds of a `--faults=a,b` list; an unknown name is an error naming it and the known ones. */
export function parseFaultGroups(list: string): FaultKind[] {
  const kinds: FaultKind[] = [];
  for (const name of list.split(',').map((n) => n.trim()).filter(Boolean)) {
    const group = FAULT_GROUPS[name];
    if (!group && NOT_YET_RUN.includes(name)) throw new Error(`--faults: ${name} faults are not run by the suite yet (RELIABILITY.md, "Not covered yet"); available: ${Object.keys(FAULT_GROUPS).join(', ')}`);
    if (!group) throw new Error(`--faults: unknown fault group ${JSON.stringify(name)} (known: ${Object.keys(FAULT_GROUPS).join(', ')})`);
    for (const k of group) if (!kinds.includes(k)) kinds.push(k);
  }
  if (kinds.length === 0) throw new Error('--faults: name at least one fault group');
  return kinds;
}

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
  /** Partitions: whether the replica reported not ready while cut off, and how long after the heal it was ready again. */
  readonly notReadyWhileCut?: boolean;
  readonly readyAfterHealMs?: number;
  /** Agent cut off mid-ADD: whether the same pod's ADD after the heal succeeded, and in how long. */
  readonly retryAfterHeal?: { readonly code: number; readonly ms: number; readonly msg: string; readonly attempts: number };
  /** Out of space: etcd's refusal of the ballast, whether a listing worked meanwhile, and how long after the operator's steps an ADD succeeded again (-1: not within the bound). */
  readonly noSpace?: { readonly refusal: string; readonly readsWorked: boolean; readonly resumedAfterMs: number };
}

/** After an agent's link to its replica heals, an ADD of the pod that was cut must succeed within this long. */
export const RETRY_AFTER_HEAL_BOUND_MS = 15_000;
/** ADDs must succeed again within this long after the operator's steps clear NOSPACE. */
export const RESUME_AFTER_NOSPACE_BOUND_MS = 15_000;
/** What a pod's failed ADD must say while etcd is out of space (the store's ETCD_OUT_OF_SPACE, in its first words). */
export const OUT_OF_SPACE_WORDS = 'etcd is out of space';

export interface FaultTiming {
  readonly allocatorDownMs: number;
  readonly etcdDownMs: number;
  readonly agentDownMs: number;
  /** How long a partition lasts before it heals. */
  readonly partitionMs: number;
}

/** A replica must be ready again within this long after its links to etcd heal. */
export const READY_AFTER_HEAL_BOUND_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FaultInjector {
  readonly records: FaultRecord[] = [];
  private readonly counts: Record<FaultKind, number> = { 'allocator-kill': 0, 'etcd-leader-kill': 0, 'agent-restart': 0, 'allocator-etcd-cut': 0, 'allocator-etcd-one-way': 0, 'agent-allocator-cut': 0, 'etcd-nospace': 0 };

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

  /** True once replica `i` reports not ready while cut off (it reads etcd for /readyz). */
  private async seenNotReady(i: number): Promise<boolean> {
    const until = performance.now() + this.timing.partitionMs + 10_000;
    while (performance.now() < until) {
      if (!(await this.cluster.allocatorReady(i))) return true;
      await sleep(200);
    }
    return false;
  }

  /** Milliseconds from the heal until replica `i` is ready again; -1 past READY_AFTER_HEAL_BOUND_MS. */
  private async readyAgain(i: number): Promise<number> {
    const healed = performance.now();
    while (performance.now() - healed < READY_AFTER_HEAL_BOUND_MS) {
      if (await this.cluster.allocatorReady(i)) return Math.round(performance.now() - healed);
      await sleep(100);
    }
    return -1;
  }

  /** ADDs of `pod` again, as a runtime retrying its sandbox, until one succeeds (the last outcome, and the time from the first). */
  private async addAgainUntilServed(pod: ChaosPod): Promise<{ code: number; ms: number; msg: string; attempts: number }> {
    const started = performance.now();
    for (let attempts = 1; ; attempts++) {
      const again = await this.load.addPod(pod, { probe: true });
      if (again.ok || performance.now() - started > RETRY_AFTER_HEAL_BOUND_MS) return { code: again.code, ms: Math.round(performance.now() - started), msg: again.msg, attempts };
      await sleep(300);
    }
  }

  /** Whether ListAllocations answers from a live replica (a linearizable read of etcd). */
  private async listsAllocations(): Promise<boolean> {
    const client = this.cluster.connect();
    try {
      await client.ipam.listAllocations({ node: '', handlePrefix: '' });
      return true;
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  /** Milliseconds until an ADD (through each running agent in turn) succeeds again; -1 past RESUME_AFTER_NOSPACE_BOUND_MS. */
  private async addsAgain(): Promise<number> {
    const started = performance.now();
    for (let n = 0; performance.now() - started < RESUME_AFTER_NOSPACE_BOUND_MS; n++) {
      const up = this.cluster.agents.filter((a) => this.cluster.agentUp(a.index));
      const { pod, outcome } = await this.load.add(up[n % up.length]!.index, { probe: true });
      this.load.deleteLater(pod);
      if (outcome.ok) return Math.round(performance.now() - started);
      await sleep(300);
    }
    return -1;
  }

  async inject(kind: FaultKind): Promise<FaultRecord> {
    const started = performance.now();
    const n = this.counts[kind]++;
    let target = '';
    let probe: ProbeRecord | undefined;
    let partition: { notReadyWhileCut?: boolean; readyAfterHealMs: number } | undefined;
    let noSpace: FaultRecord['noSpace'];
    let retryAfterHeal: FaultRecord['retryAfterHeal'];
    switch (kind) {
      case 'allocator-kill': {
        const i = n % this.cluster.allocators.length;
        const slot = this.cluster.allocators[i]!;
        target = `allocator ${i} (${slot.address}, pid ${slot.proc?.pid})`;
        this.load.ledger.allocatorKillStarted();
        await this.cluster.killAllocator(i);
        this.log(`fault: SIGKILL ${target}`);
        const dependent = this.cluster.agents.find((a) => a.allocator === slot && this.cluster.agentUp(a.index));
        if (dependent) probe = await this.probe(dependent.index, `allocator ${i}`);
        await sleep(this.timing.allocatorDownMs);
        await this.cluster.startAllocator(i).finally(() => this.load.ledger.allocatorKillEnded());
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
        this.load.ledger.agentOutageStarted(i);
        await this.cluster.stopAgent(i, signal);
        this.log(`fault: ${signal} ${target}`);
        probe = await this.probe(i, `agent ${slot.nodeName}`);
        await sleep(this.timing.agentDownMs);
        await this.cluster.startAgent(i).finally(() => this.load.ledger.agentOutageEnded(i));
        break;
      }
      case 'allocator-etcd-cut': {
        const i = n % this.cluster.allocators.length;
        target = `allocator ${i} cut off from every etcd member`;
        this.cluster.setEtcdLinks(i, 'blackhole');
        this.log(`fault: ${target}`);
        const cutAt = performance.now();
        const dependent = this.cluster.agents.find((a) => a.allocator.index === i && this.cluster.agentUp(a.index));
        const [notReady, probed] = await Promise.all([this.seenNotReady(i), dependent ? this.probe(dependent.index, `etcd (for allocator ${i})`) : undefined]);
        probe = probed;
        await sleep(Math.max(0, this.timing.partitionMs - (performance.now() - cutAt)));
        this.cluster.setEtcdLinks(i, 'pass');
        partition = { notReadyWhileCut: notReady, readyAfterHealMs: await this.readyAgain(i) };
        break;
      }
      case 'allocator-etcd-one-way': {
        const i = n % this.cluster.allocators.length;
        target = `allocator ${i}'s links to etcd drop every answer`;
        this.cluster.setEtcdLinks(i, 'drop-replies');
        this.log(`fault: ${target}`);
        await sleep(this.timing.partitionMs);
        this.cluster.setEtcdLinks(i, 'pass');
        partition = { readyAfterHealMs: await this.readyAgain(i) };
        break;
      }
      case 'agent-allocator-cut': {
        const i = n % this.cluster.agents.length;
        const slot = this.cluster.agents[i]!;
        target = `agent ${slot.nodeName} cut off from its allocator mid-ADD`;
        // Cut while the ADD is on its way (in the plugin, the agent or the allocator); an
        // ADD that finished before the cut does not count, and the next one is cut sooner.
        let pod: ChaosPod | undefined;
        for (const delayMs of [150, 50, 0]) {
          pod = await this.load.newProbePod(i);
          const adding = this.load.addPod(pod, { probe: true });
          await sleep(delayMs);
          this.load.ledger.agentOutageStarted(i);
          slot.allocatorLink.mode = 'blackhole';
          const cut = await adding;
          if (!cut.ok || delayMs === 0) {
            probe = { agent: slot.nodeName, down: `its link to allocator ${slot.allocator.index}`, code: cut.code, ms: Math.round(cut.ms), msg: cut.msg };
            break;
          }
          slot.allocatorLink.mode = 'pass';
          this.load.ledger.agentOutageEnded(i);
          this.load.deleteLater(pod);
        }
        this.log(`fault: ${target}`);
        await sleep(this.timing.partitionMs);
        slot.allocatorLink.mode = 'pass';
        this.load.ledger.agentOutageEnded(i);
        retryAfterHeal = await this.addAgainUntilServed(pod!);
        this.load.deleteLater(pod!);
        break;
      }
      case 'etcd-nospace': {
        target = 'etcd filled to its quota (NOSPACE alarm)';
        const refusal = await fillUntilNoSpace(this.cluster.etcd);
        this.log(`fault: ${target}: ${refusal}`);
        const agent = this.cluster.agents.find((a) => this.cluster.agentUp(a.index))!;
        probe = await this.probe(agent.index, 'etcd space');
        const readsWorked = await this.listsAllocations();
        await sleep(this.timing.etcdDownMs);
        await recoverSpace(this.cluster.etcd);
        this.log('compacted, defragmented every member, disarmed NOSPACE');
        noSpace = { refusal, readsWorked, resumedAfterMs: await this.addsAgain() };
        break;
      }
    }
    const record: FaultRecord = {
      kind,
      target,
      atMs: Math.round(started - this.t0),
      recoveredAfterMs: Math.round(performance.now() - started),
      ...(probe && { probe }),
      ...partition,
      ...(noSpace && { noSpace }),
      ...(retryAfterHeal && { retryAfterHeal }),
    };
    this.records.push(record);
    this.log(
      `recovered from ${kind} after ${record.recoveredAfterMs} ms${probe ? `; probe ADD via ${probe.agent} answered code ${probe.code} in ${probe.ms} ms` : ''}${partition ? `; ready ${partition.readyAfterHealMs} ms after the heal` : ''}${noSpace ? `; ADDs succeed again ${noSpace.resumedAfterMs} ms after the operator's steps` : ''}${retryAfterHeal ? `; the same pod's ADD after the heal: code ${retryAfterHeal.code} after ${retryAfterHeal.attempts} attempt(s), ${retryAfterHeal.ms} ms` : ''}`,
    );
    return record;
  }
}

import { setMaxListeners } from 'node:events';
import type { ChaosCluster } from './cluster';
import type { ChaosPod, Ledger } from './ledger';
import { CHAOS_NETWORK, execIpam, type IpamOutcome } from './plugin-exec';
import type { OpStats } from './stats';

// The workload: pods created in the Kubernetes API stand-in and attached with the real
// atoll-ipam (CNI ADD), held a while and detached (CNI DEL), spread over every node agent.
// It behaves like a runtime: a failed ADD is followed by DEL; a DEL that fails is retried
// until it succeeds (or `delRetryMs` passes, which the run reports as stuck). A slow one:
// the DEL after a failed ADD comes only `failedAddDelDelayMs` later (cut short when the
// load ends), so that the ledger can see whether the allocator released what the failed
// ADD assigned without waiting for the DEL.
// Sticky pods: the StatefulSet STICKY_SET's pods `<set>-<ordinal>` (owner reference, the
// `atoll.io/sticky` annotation), each deleted and recreated over and over (a new UID, a
// new container ID), on the next node each time, so their addresses move across nodes
// while the faults run.

export const STATIC_POOL = '10.201.0.0/24';
export const STATIC_ADDRESSES: readonly string[] = Array.from({ length: 64 }, (_, i) => `10.201.0.${10 + i}`);
export const POD_POOL = '10.200.0.0/20';
export const POD_NAMESPACE = 'chaos';
export const STICKY_SET = 'sticky';
/** How long a sticky pod stays attached before it is deleted and recreated. */
const STICKY_HOLD_MS = 200;

export interface LoadOptions {
  readonly concurrency: number;
  readonly holdPerWorker: number;
  readonly staticFraction: number;
  readonly boundMs: number;
  readonly delRetryMs: number;
  readonly failedAddDelDelayMs: number;
  readonly stickyPods: number;
}

export class Load {
  private seq = 0;
  /** Pods whose DEL has not succeeded yet and that no worker owns (probes, give-ups). */
  private readonly pending = new Set<Promise<void>>();
  /** Wakes the delayed DELs at once (the load has ended). */
  private readonly hurry = new AbortController();
  readonly stuck: ChaosPod[] = [];
  addedOk = 0;
  staticAdds = 0;

  constructor(
    private readonly cluster: ChaosCluster,
    readonly ledger: Ledger,
    private readonly stats: OpStats,
    private readonly opts: LoadOptions,
    private readonly random: () => number,
  ) {
    // Every delayed DEL listens to it: as many at once as ADDs failed within the delay.
    setMaxListeners(0, this.hurry.signal);
  }

  private pick(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** A pod in the stand-in, not added yet (a fault drives its ADDs). */
  newProbePod(agent: number): Promise<ChaosPod> {
    return this.newPod(agent, false);
  }

  private async newPod(agent: number, wantStatic: boolean): Promise<ChaosPod> {
    const seq = ++this.seq;
    const staticIp = wantStatic ? this.ledger.claimStatic(STATIC_ADDRESSES, (n) => this.pick(n)) : undefined;
    const name = `chaos-${seq}`;
    const containerId = `c${seq.toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    const node = this.cluster.agents[agent]!.nodeName;
    await this.cluster.kube.createPod({
      metadata: { name, namespace: POD_NAMESPACE, annotations: staticIp ? { 'cni.projectcalico.org/ipAddrs': JSON.stringify([staticIp]) } : {} },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'none' }] },
    });
    return { seq, name, namespace: POD_NAMESPACE, containerId, handle: `${CHAOS_NETWORK}.${containerId}`, agent, ...(staticIp && { staticIp }), ips: [], released: false };
  }

  private exec(command: 'ADD' | 'DEL', pod: ChaosPod): Promise<IpamOutcome> {
    return execIpam({
      command,
      socket: this.cluster.agents[pod.agent]!.socket,
      containerId: pod.containerId,
      namespace: pod.namespace,
      pod: pod.name,
      ...(command === 'DEL' && pod.addResult !== undefined && { prevResult: pod.addResult }),
      boundMs: this.opts.boundMs,
    });
  }

  /** The sticky StatefulSet, whose pods the sticky workers create (the leak collector judges their addresses by it). */
  async createStickySet(): Promise<void> {
    if (this.opts.stickyPods === 0) return;
    await this.cluster.kube.createStatefulSet({
      metadata: { name: STICKY_SET, namespace: POD_NAMESPACE },
      spec: { replicas: this.opts.stickyPods, template: { metadata: { annotations: { 'atoll.io/sticky': 'true' } } } },
    });
  }

  private async newStickyPod(ordinal: number, agent: number): Promise<ChaosPod> {
    const seq = ++this.seq;
    const name = `${STICKY_SET}-${ordinal}`;
    const containerId = `s${seq.toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    await this.cluster.kube.createPod({
      metadata: {
        name,
        namespace: POD_NAMESPACE,
        annotations: { 'atoll.io/sticky': 'true' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: STICKY_SET, uid: `${STICKY_SET}-uid`, controller: true }],
      },
      spec: { nodeName: this.cluster.agents[agent]!.nodeName, containers: [{ name: 'c', image: 'none' }] },
    });
    const id = `${POD_NAMESPACE}.${STICKY_SET}.${ordinal}`;
    return {
      seq, name, namespace: POD_NAMESPACE, containerId, agent, ips: [], released: false,
      handle: `atoll-sticky.${id}`,
      sticky: { identity: `${POD_NAMESPACE}/${STICKY_SET}/${ordinal}`, idleHandle: `atoll-sticky-idle.${id}` },
    };
  }

  /** One sticky identity: its pod created, attached, held briefly, deleted (DEL, then the object), and again on the next node. */
  async stickyWorker(ordinal: number, done: () => boolean): Promise<void> {
    for (let turn = ordinal; !done(); turn++) {
      const pod = await this.newStickyPod(ordinal, turn % this.cluster.agents.length);
      const outcome = await this.addPod(pod);
      if (outcome.ok) await this.pause(STICKY_HOLD_MS);
      await this.runtimeDelete(pod);
      if (!pod.released) return; // stuck: the pod object stays, so its name cannot be reused
    }
  }

  /** ADD; on failure the runtime's DEL. Resolves the pod when it is live. */
  async add(agent: number, opts: { probe?: boolean; wantStatic?: boolean } = {}): Promise<{ pod: ChaosPod; outcome: IpamOutcome }> {
    const pod = await this.newPod(agent, opts.wantStatic ?? false);
    return { pod, outcome: await this.addPod(pod, opts) };
  }

  /** ADD of `pod` (again, after one that failed, as a runtime may retry a sandbox). */
  async addPod(pod: ChaosPod, opts: { probe?: boolean } = {}): Promise<IpamOutcome> {
    const sentAt = performance.now();
    const outcome = await this.exec('ADD', pod);
    this.stats.record('ADD', pod.name, outcome, opts.probe);
    if (outcome.ok) {
      this.addedOk++;
      if (pod.staticIp) this.staticAdds++;
      this.ledger.addSucceeded(pod, outcome.ips, outcome.result);
    } else {
      this.ledger.addFailed(pod, sentAt);
    }
    return outcome;
  }

  /** DEL until it succeeds, as a runtime does; then the pod leaves Kubernetes. */
  async runtimeDelete(pod: ChaosPod): Promise<void> {
    this.ledger.delStarting(pod);
    const giveUpAt = performance.now() + this.opts.delRetryMs;
    for (let attempt = 0; ; attempt++) {
      const r = await this.exec('DEL', pod);
      this.stats.record('DEL', pod.name, r);
      if (r.ok) {
        this.ledger.released(pod);
        // A sticky pod's name comes back at once: its object must be gone, not terminating.
        await this.cluster.kube.deletePod(pod.namespace, pod.name, pod.sticky ? { gracePeriodSeconds: 0 } : {}).catch(() => undefined);
        return;
      }
      if (performance.now() > giveUpAt) {
        this.stuck.push(pod);
        return;
      }
      await new Promise((res) => setTimeout(res, Math.min(100 * 2 ** attempt, 1000)));
    }
  }

  /** Deletes in the background (probes), after `delayMs` or when the load ends; `drain()` waits for all of them. */
  deleteLater(pod: ChaosPod, delayMs = 0): void {
    const p: Promise<void> = this.pause(delayMs)
      .then(() => this.runtimeDelete(pod))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async drain(): Promise<void> {
    this.hurry.abort();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private pause(ms: number): Promise<void> {
    if (ms <= 0 || this.hurry.signal.aborted) return Promise.resolve();
    const signal = this.hurry.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  /** One worker: adds pods, keeps up to holdPerWorker of them, deletes one at random. */
  async worker(w: number, done: () => boolean): Promise<void> {
    const mine: ChaosPod[] = [];
    let turn = w;
    while (!done()) {
      if (mine.length > 0 && (mine.length >= this.opts.holdPerWorker || this.random() < 0.4)) {
        const [pod] = mine.splice(this.pick(mine.length), 1);
        await this.runtimeDelete(pod!);
        continue;
      }
      const agent = turn++ % this.cluster.agents.length;
      const { pod, outcome } = await this.add(agent, { wantStatic: this.random() < this.opts.staticFraction });
      if (outcome.ok) mine.push(pod);
      else this.deleteLater(pod, this.opts.failedAddDelDelayMs);
    }
    await Promise.all(mine.map((pod) => this.runtimeDelete(pod)));
  }
}

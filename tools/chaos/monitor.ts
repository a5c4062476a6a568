import type { AllocatorClients } from '@atoll/api';
import type { ChaosCluster } from './cluster';
import type { Ledger } from './ledger';

// Lists every allocation (the allocator's ListAllocations: one linearizable read of the
// blocks) every `intervalMs` from whichever replica answers, and hands each listing to the
// ledger's checks. A listing that fails (both replicas down, etcd electing) is counted.

export class AllocationMonitor {
  snapshots = 0;
  unavailable = 0;
  maxAllocations = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly clients: AllocatorClients[];

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly ledger: Ledger,
    private readonly intervalMs: number,
  ) {
    this.clients = cluster.allocators.map((a) => cluster.connect(a.address, 2000));
  }

  start(): void {
    this.loop = this.run();
  }

  private async listOnce(): Promise<boolean> {
    for (const [i, client] of this.clients.entries()) {
      if (!this.cluster.allocatorUp(i)) continue;
      const startedAt = performance.now();
      const listed = await client.ipam.listAllocations({ node: '', handlePrefix: '' }).catch(() => undefined);
      if (!listed) continue;
      this.ledger.checkListing(listed.allocations, startedAt);
      this.maxAllocations = Math.max(this.maxAllocations, listed.allocations.length);
      return true;
    }
    return false;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (await this.listOnce()) this.snapshots++;
      else this.unavailable++;
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const c of this.clients) c.close();
  }
}

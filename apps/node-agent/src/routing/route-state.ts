import type { BorrowedAddress, RouteBlock, RouteNode, RoutePool, RouteUpdate } from '@atoll/api';

// The agent's copy of the allocator's route view, built from the WatchRoutes stream: a
// snapshot replaces everything, a delta upserts and removes by key. Nothing is routed
// before the first snapshot, so a fresh agent never deletes routes from an empty state.

export class RouteState {
  readonly nodes = new Map<string, RouteNode>();
  readonly blocks = new Map<string, RouteBlock>();
  readonly borrowed = new Map<string, BorrowedAddress>();
  readonly pools = new Map<string, RoutePool>();
  private snapshots = 0;
  private poolChanges = 0;

  /** True once a snapshot has arrived. */
  get ready(): boolean {
    return this.snapshots > 0;
  }

  /** Grows whenever the pools may have changed (NAT rules depend on nothing else). */
  get poolsVersion(): number {
    return this.poolChanges;
  }

  apply(update: RouteUpdate): void {
    if (update.snapshot) {
      this.snapshots++;
      this.nodes.clear();
      this.blocks.clear();
      this.borrowed.clear();
      this.pools.clear();
    }
    if (update.snapshot || update.pools.length > 0 || update.removedPools.length > 0) this.poolChanges++;
    for (const n of update.nodes) this.nodes.set(n.name, n);
    for (const b of update.blocks) this.blocks.set(b.cidr, b);
    for (const b of update.borrowed) this.borrowed.set(b.ip, b);
    for (const p of update.pools) this.pools.set(p.name, p);
    for (const k of update.removedNodes) this.nodes.delete(k);
    for (const k of update.removedBlocks) this.blocks.delete(k);
    for (const k of update.removedBorrowed) this.borrowed.delete(k);
    for (const k of update.removedPools) this.pools.delete(k);
  }
}

import { RouteUpdate, type BorrowedAddress, type RouteNode, type RoutePool } from '@atoll/api';
import { RouteChanges, type RouteEntries } from './route-changes';
import type { BlockRoutes } from './route-records';

// The route view's state: every node, block, borrowed address and pool. Each setter
// records what it changed into a RouteChanges, and only what changed: a block written for
// an allocation from its own node's addresses changes nothing here and sends nothing.

const sameNode = (a: RouteNode, b: RouteNode) => a.ipv4Address === b.ipv4Address && a.ipv6Address === b.ipv6Address;
const samePool = (a: RoutePool, b: RoutePool) =>
  a.cidr === b.cidr && a.natOutgoing === b.natOutgoing && a.ipipMode === b.ipipMode && a.vxlanMode === b.vxlanMode && a.disabled === b.disabled;
const sameBorrowed = (a: BorrowedAddress, b: BorrowedAddress) => a.node === b.node && a.block === b.block;

export class RouteTable {
  private readonly nodes = new Map<string, RouteNode>();
  private readonly pools = new Map<string, RoutePool>();
  /** By block CIDR; each block with the addresses borrowed from it. */
  private readonly blocks = new Map<string, BlockRoutes>();
  private version = 0;
  private encodedSnapshot: { readonly version: number; readonly bytes: Buffer } | undefined;

  setNode(name: string, entry: RouteNode | undefined, out: RouteChanges): void {
    this.setKeyed('nodes', this.nodes, name, entry, sameNode, out);
  }

  setPool(name: string, entry: RoutePool | undefined, out: RouteChanges): void {
    this.setKeyed('pools', this.pools, name, entry, samePool, out);
  }

  private setKeyed<K extends 'nodes' | 'pools'>(
    kind: K,
    map: Map<string, RouteEntries[K]>,
    key: string,
    entry: RouteEntries[K] | undefined,
    same: (a: RouteEntries[K], b: RouteEntries[K]) => boolean,
    out: RouteChanges,
  ): void {
    const old = map.get(key);
    if (entry === undefined) {
      if (old === undefined) return;
      map.delete(key);
      out.remove(kind, key);
    } else {
      if (old !== undefined && same(old, entry)) return;
      map.set(key, entry);
      out.upsert(kind, entry);
    }
    this.version++;
  }

  setBlock(cidr: string, routes: BlockRoutes | undefined, out: RouteChanges): void {
    const old = this.blocks.get(cidr);
    if (routes === undefined) {
      if (old === undefined) return;
      this.blocks.delete(cidr);
      out.remove('blocks', cidr);
      for (const b of old.borrowed) out.remove('borrowed', b.ip);
      this.version++;
      return;
    }
    let changed = false;
    if (old === undefined || old.block.node !== routes.block.node) {
      out.upsert('blocks', routes.block);
      changed = true;
    }
    const oldBorrowed = new Map((old?.borrowed ?? []).map((b) => [b.ip, b]));
    for (const b of routes.borrowed) {
      const was = oldBorrowed.get(b.ip);
      oldBorrowed.delete(b.ip);
      if (was === undefined || !sameBorrowed(was, b)) {
        out.upsert('borrowed', b);
        changed = true;
      }
    }
    for (const ip of oldBorrowed.keys()) {
      out.remove('borrowed', ip);
      changed = true;
    }
    this.blocks.set(cidr, routes);
    if (changed) this.version++;
  }

  /** Makes the nodes exactly `entries` (a re-read), recording the difference. */
  replaceNodes(entries: ReadonlyMap<string, RouteNode>, out: RouteChanges): void {
    for (const name of [...this.nodes.keys()]) if (!entries.has(name)) this.setNode(name, undefined, out);
    for (const [name, entry] of entries) this.setNode(name, entry, out);
  }

  replacePools(entries: ReadonlyMap<string, RoutePool>, out: RouteChanges): void {
    for (const name of [...this.pools.keys()]) if (!entries.has(name)) this.setPool(name, undefined, out);
    for (const [name, entry] of entries) this.setPool(name, entry, out);
  }

  replaceBlocks(entries: ReadonlyMap<string, BlockRoutes>, out: RouteChanges): void {
    for (const cidr of [...this.blocks.keys()]) if (!entries.has(cidr)) this.setBlock(cidr, undefined, out);
    for (const [cidr, routes] of entries) this.setBlock(cidr, routes, out);
  }

  snapshot(): RouteUpdate {
    const blocks = [...this.blocks.values()];
    return {
      snapshot: true,
      nodes: [...this.nodes.values()],
      blocks: blocks.map((b) => b.block),
      borrowed: blocks.flatMap((b) => b.borrowed),
      pools: [...this.pools.values()],
      removedNodes: [],
      removedBlocks: [],
      removedBorrowed: [],
      removedPools: [],
    };
  }

  /** The snapshot's wire bytes, encoded once per state of the table however many subscribers start from it. */
  encodeSnapshot(): Buffer {
    if (this.encodedSnapshot?.version !== this.version) {
      this.encodedSnapshot = { version: this.version, bytes: Buffer.from(RouteUpdate.encode(this.snapshot()).finish()) };
    }
    return this.encodedSnapshot.bytes;
  }
}

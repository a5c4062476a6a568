import { RouteUpdate, type BorrowedAddress, type RouteBlock, type RouteNode, type RoutePool } from '@atoll/api';

// A delta of the route view: per kind, the entries added or changed and the keys removed.
// Later changes of a key replace earlier ones, so a delta never grows past the size of the
// view however many events it absorbs (a slow subscriber's backlog is one such delta).

export interface RouteEntries {
  readonly nodes: RouteNode;
  readonly blocks: RouteBlock;
  readonly borrowed: BorrowedAddress;
  readonly pools: RoutePool;
}

export type RouteKind = keyof RouteEntries;

export const ROUTE_KINDS: readonly RouteKind[] = ['nodes', 'blocks', 'borrowed', 'pools'];

/** The key each kind is sent under: nodes and pools by name, blocks by CIDR, borrowed addresses by IP. */
export const routeKeyOf: { readonly [K in RouteKind]: (entry: RouteEntries[K]) => string } = {
  nodes: (e) => e.name,
  blocks: (e) => e.cidr,
  borrowed: (e) => e.ip,
  pools: (e) => e.name,
};

type ChangeMaps = { [K in RouteKind]: Map<string, RouteEntries[K] | null> };

export class RouteChanges {
  /** Per kind: key → the entry now, or null when removed. */
  private readonly byKind: ChangeMaps = { nodes: new Map(), blocks: new Map(), borrowed: new Map(), pools: new Map() };
  private encoded: Buffer | undefined;

  upsert<K extends RouteKind>(kind: K, entry: RouteEntries[K]): void {
    this.encoded = undefined;
    (this.byKind[kind] as Map<string, RouteEntries[K] | null>).set(routeKeyOf[kind](entry), entry);
  }

  remove(kind: RouteKind, key: string): void {
    this.encoded = undefined;
    this.byKind[kind].set(key, null);
  }

  /** Takes in `later`, which happened after everything here. */
  mergeFrom(later: RouteChanges): void {
    this.encoded = undefined;
    for (const kind of ROUTE_KINDS) {
      const into = this.byKind[kind] as Map<string, unknown>;
      for (const [key, entry] of later.byKind[kind]) into.set(key, entry);
    }
  }

  get isEmpty(): boolean {
    return ROUTE_KINDS.every((kind) => this.byKind[kind].size === 0);
  }

  toUpdate(): RouteUpdate {
    const upserts = <K extends RouteKind>(kind: K) => [...this.byKind[kind].values()].filter((e): e is RouteEntries[K] => e !== null);
    const removals = (kind: RouteKind) => [...this.byKind[kind]].filter(([, e]) => e === null).map(([key]) => key);
    return {
      snapshot: false,
      nodes: upserts('nodes'),
      blocks: upserts('blocks'),
      borrowed: upserts('borrowed'),
      pools: upserts('pools'),
      removedNodes: removals('nodes'),
      removedBlocks: removals('blocks'),
      removedBorrowed: removals('borrowed'),
      removedPools: removals('pools'),
    };
  }

  /** The wire bytes, encoded once however many subscribers receive them. */
  encode(): Buffer {
    this.encoded ??= Buffer.from(RouteUpdate.encode(this.toUpdate()).finish());
    return this.encoded;
  }
}

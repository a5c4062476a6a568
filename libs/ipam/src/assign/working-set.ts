import type { AllocationBlock, IpamHandle } from '@atoll/model';
import { assignFromBlock, assignOrdinal, freeCooledDown, ordinalAddress, ReleaseTiming } from '../block';
import { blockChange, Change, handleChange, type BlockRecord, type HandleRecord } from '../io';

interface BlockEntry {
  readonly read: BlockRecord;
  current: AllocationBlock;
  dirty: boolean;
}

interface HandleEntry {
  readonly read: HandleRecord | undefined;
  counts: Record<string, number>;
  dirty: boolean;
}

/**
 * The blocks and handles one allocation attempt has read, and what it has done to them
 * in memory. Nothing is written until `changes()` goes into one transaction; if that
 * fails, the whole attempt is thrown away and redone from fresh reads. Several requests
 * of one host share an attempt, so they cost one transaction instead of one each.
 */
export class WorkingSet {
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly handles = new Map<string, HandleEntry>();

  constructor(private readonly timing: ReleaseTiming) {}

  /**
   * Adds a block as read. Cooled-down addresses are freed in memory (stored on the next
   * write). A block already in the set is kept as it is: it may hold in-memory changes, and
   * if another read of it is newer, the commit's compare catches that.
   */
  addBlock(record: BlockRecord): AllocationBlock {
    const existing = this.blocks.get(record.cidrText);
    if (existing) return existing.current;
    const current = freeCooledDown(record.value, this.timing);
    this.blocks.set(record.cidrText, { read: record, current, dirty: current !== record.value });
    return current;
  }

  block(cidrText: string): AllocationBlock | undefined {
    return this.blocks.get(cidrText)?.current;
  }

  hasBlock(cidrText: string): boolean {
    return this.blocks.has(cidrText);
  }

  addHandles(handleIds: readonly string[], records: ReadonlyMap<string, HandleRecord>): void {
    for (const id of handleIds) {
      if (this.handles.has(id)) continue;
      const read = records.get(id);
      this.handles.set(id, { read, counts: { ...(read?.value.block ?? {}) }, dirty: false });
    }
  }

  /** Takes up to `num` addresses from the block; returns them as text. */
  assign(
    cidrText: string,
    opts: { num: number; handleId: string; attributes: Readonly<Record<string, string>>; isReserved: (o: number) => boolean },
  ): string[] {
    const entry = this.requireBlock(cidrText);
    const { block, ordinals } = assignFromBlock(entry.current, opts);
    if (ordinals.length === 0) return [];
    entry.current = block;
    entry.dirty = true;
    this.count(opts.handleId, cidrText, ordinals.length);
    return ordinals.map((o) => ordinalAddress(block, o));
  }

  /** Assigns one specific ordinal; false when it is taken. */
  assignSpecific(cidrText: string, ordinal: number, opts: { handleId: string; attributes: Readonly<Record<string, string>> }): boolean {
    const entry = this.requireBlock(cidrText);
    const block = assignOrdinal(entry.current, ordinal, opts);
    if (!block) return false;
    entry.current = block;
    entry.dirty = true;
    this.count(opts.handleId, cidrText, 1);
    return true;
  }

  private count(handleId: string, cidrText: string, n: number): void {
    const h = this.handles.get(handleId);
    if (!h) throw new Error(`handle ${handleId} was not loaded into the working set`);
    h.counts[cidrText] = (h.counts[cidrText] ?? 0) + n;
    h.dirty = true;
  }

  private requireBlock(cidrText: string): BlockEntry {
    const entry = this.blocks.get(cidrText);
    if (!entry) throw new Error(`block ${cidrText} was not loaded into the working set`);
    return entry;
  }

  /** Every write this attempt needs, for one transaction. */
  changes(): Change[] {
    const out: Change[] = [];
    for (const e of this.blocks.values()) if (e.dirty) out.push(blockChange(e.read, e.current));
    for (const [id, h] of this.handles) {
      if (h.dirty) out.push(handleChange(id, h.read, { block: h.counts, deleted: false } satisfies IpamHandle));
    }
    return out;
  }
}

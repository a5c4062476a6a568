import { Cidr, formatCidr, IpVersion } from '@atoll/ipmath';
import {
  affinityKey,
  AffinityKey,
  affinityPrefix,
  AffinityType,
  AllocationBlock,
  BlockAffinity,
  blockKey,
  blockPrefix,
  decodeAffinity,
  decodeBlock,
  decodeHandle,
  decodeIpamConfig,
  handleKey,
  handlePrefix,
  ipamConfigKey,
  IpamConfig,
  IpamHandle,
  parseAffinityKey,
  parseBlockKey,
  parseHandleKey,
} from '@atoll/model';
import { Datastore, Kv, StoreError } from '@atoll/store';
import { IpamError } from '../errors';

// Typed reads of IPAM records. This file and change-set.ts are the engine's only I/O:
// everything above them works on values and revisions.

/** etcd's default limit of operations in one transaction, which a multi-key read is. */
const MAX_KEYS_PER_READ = 128;

export interface BlockRecord extends Kv<AllocationBlock> {
  readonly cidrText: string;
}

export interface AffinityRecord extends Kv<BlockAffinity> {
  readonly id: AffinityKey;
}

export interface HandleRecord extends Kv<IpamHandle> {
  readonly handleId: string;
}

/** Store failures surface as retryable IPAM errors; conflicts pass through for the retry helper. */
export function translateStoreError(err: unknown): unknown {
  if (err instanceof StoreError && err.code === 'unavailable') {
    return new IpamError('unavailable', `datastore unavailable: ${err.message}`, { cause: err });
  }
  return err;
}

/** Runs a datastore call, turning store failures into IPAM errors (see translateStoreError). */
export async function io<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw translateStoreError(err);
  }
}

export function toBlockRecord(kv: Kv): BlockRecord {
  const value = decodeBlock(kv.value);
  return { key: kv.key, value, revision: kv.revision, cidrText: formatCidr(value.cidr) };
}

function toHandleRecord(kv: Kv): HandleRecord {
  return { key: kv.key, value: decodeHandle(kv.value), revision: kv.revision, handleId: parseHandleKey(kv.key) ?? kv.key };
}

export class IpamRecords {
  constructor(readonly ds: Datastore) {}

  async getBlock(cidr: Cidr): Promise<BlockRecord | undefined> {
    const kv = await io(() => this.ds.get(blockKey(cidr)));
    return kv && toBlockRecord(kv);
  }

  /** Blocks in one snapshot; missing ones are absent from the map. Keyed by CIDR text. */
  async getBlocks(cidrs: readonly Cidr[]): Promise<Map<string, BlockRecord>> {
    const out = new Map<string, BlockRecord>();
    if (cidrs.length === 0) return out;
    const kvs = await io(() => this.ds.getMany(cidrs.map(blockKey)));
    for (const kv of kvs.values()) {
      if (!kv) continue;
      const record = toBlockRecord(kv);
      out.set(record.cidrText, record);
    }
    return out;
  }

  /** Every block (of one family), in key order. Keys that are not Calico block keys are skipped. */
  async listBlocks(version?: IpVersion): Promise<BlockRecord[]> {
    const { items } = await io(() => this.ds.list(blockPrefix(version)));
    return items.filter((kv) => parseBlockKey(kv.key) !== undefined).map(toBlockRecord);
  }

  /**
   * The CIDR of every block of one family, in key order, from a keys-only listing: which
   * blocks exist, without reading any of them. Keys that are not Calico block keys are skipped.
   */
  async listBlockCidrs(version: IpVersion): Promise<Cidr[]> {
    const keys = await io(() => this.ds.listKeys(blockPrefix(version)));
    return keys.flatMap((key) => parseBlockKey(key) ?? []);
  }

  /**
   * The blocks of `cidrs` in the order given (missing ones skipped), read a page of the
   * store's per-read key limit at a time and only as far as the caller iterates, so that a
   * walk over many blocks holds one page of values, not all of them. Each page is its own
   * snapshot.
   */
  async *blocksInPages(cidrs: readonly Cidr[]): AsyncGenerator<BlockRecord> {
    for (let i = 0; i < cidrs.length; i += MAX_KEYS_PER_READ) {
      const page = cidrs.slice(i, i + MAX_KEYS_PER_READ);
      const found = await this.getBlocks(page);
      for (const cidr of page) {
        const rec = found.get(formatCidr(cidr));
        if (rec) yield rec;
      }
    }
  }

  async getAffinity(id: AffinityKey): Promise<AffinityRecord | undefined> {
    const kv = await io(() => this.ds.get(affinityKey(id)));
    return kv && { key: kv.key, value: decodeAffinity(kv.value), revision: kv.revision, id };
  }

  /** One host's affinities of one family, in key order (lexicographic by CIDR text, as Calico). */
  async listHostAffinities(host: string, version: IpVersion, type: AffinityType = 'host'): Promise<AffinityRecord[]> {
    return this.listAffinitiesUnder(affinityPrefix(type, host, version));
  }

  /** Every affinity of a type (all hosts, both families). */
  async listAffinities(type: AffinityType = 'host'): Promise<AffinityRecord[]> {
    return this.listAffinitiesUnder(affinityPrefix(type));
  }

  private async listAffinitiesUnder(prefix: string): Promise<AffinityRecord[]> {
    const { items } = await io(() => this.ds.list(prefix));
    const out: AffinityRecord[] = [];
    for (const kv of items) {
      const id = parseAffinityKey(kv.key);
      if (id) out.push({ key: kv.key, value: decodeAffinity(kv.value), revision: kv.revision, id });
    }
    return out;
  }

  async getHandle(handleId: string): Promise<HandleRecord | undefined> {
    const kv = await io(() => this.ds.get(handleKey(handleId)));
    return kv && toHandleRecord(kv);
  }

  async getHandles(handleIds: readonly string[]): Promise<Map<string, HandleRecord>> {
    const out = new Map<string, HandleRecord>();
    if (handleIds.length === 0) return out;
    const kvs = await io(() => this.ds.getMany([...new Set(handleIds)].map(handleKey)));
    for (const kv of kvs.values()) if (kv) out.set(parseHandleKey(kv.key) ?? kv.key, toHandleRecord(kv));
    return out;
  }

  /**
   * Blocks and handles in as few reads as the store's per-read key limit allows — one for
   * a normal batch of requests. Missing keys are absent from the maps.
   */
  async getBlocksAndHandles(
    cidrs: readonly Cidr[],
    handleIds: readonly string[],
  ): Promise<{ blocks: Map<string, BlockRecord>; handles: Map<string, HandleRecord> }> {
    const keys = [...new Set([...cidrs.map(blockKey), ...handleIds.map(handleKey)])];
    const blocks = new Map<string, BlockRecord>();
    const handles = new Map<string, HandleRecord>();
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_READ) {
      const kvs = await io(() => this.ds.getMany(keys.slice(i, i + MAX_KEYS_PER_READ)));
      for (const kv of kvs.values()) {
        if (!kv) continue;
        const handleId = parseHandleKey(kv.key);
        if (handleId !== undefined) handles.set(handleId, toHandleRecord(kv));
        else {
          const rec = toBlockRecord(kv);
          blocks.set(rec.cidrText, rec);
        }
      }
    }
    return { blocks, handles };
  }

  async listHandles(): Promise<HandleRecord[]> {
    const { items } = await io(() => this.ds.list(handlePrefix()));
    return items.map(toHandleRecord);
  }

  async getConfig(): Promise<Kv<IpamConfig> | undefined> {
    const kv = await io(() => this.ds.get(ipamConfigKey()));
    return kv && { key: kv.key, value: decodeIpamConfig(kv.value), revision: kv.revision };
  }
}

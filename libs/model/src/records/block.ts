import { Cidr, formatCidr, IpParseError, parseCidr } from '@atoll/ipmath';
import { parseJsonLossless } from '../json';
import { asObject, optionalBoolean, optionalString, RecordDecodeError, stringMap, uint64 } from './record-error';

// The IPAM block as Calico's etcd datastore stores it (model.AllocationBlock), at
// /calico/ipam/v2/assignment/ipv4|ipv6/block/<cidr>. Field names in JSON are Calico's;
// the TypeScript names are camelCase. Values are readonly: the engine derives new blocks
// and never edits one it read before the write of its successor succeeded.

/** Keys of `secondary` that Calico and Atoll set. */
export const AttributeKeys = {
  node: 'node',
  namespace: 'namespace',
  pod: 'pod',
  timestamp: 'timestamp',
  type: 'type',
  service: 'service',
  note: 'note',
} as const;

export interface AllocationAttribute {
  /** JSON `handle_id`. */
  readonly handleId?: string;
  /** JSON `secondary`: node, namespace, pod, timestamp, type… */
  readonly secondary?: Readonly<Record<string, string>>;
  /** JSON `alternateOwnerAttrs` (KubeVirt migration targets). */
  readonly alternateOwnerAttrs?: Readonly<Record<string, string>>;
  /** JSON `releasedAt`: set on an address that was released and is cooling down. */
  readonly releasedAt?: string;
}

export interface AllocationBlock {
  readonly cidr: Cidr;
  /** `host:<node>` or `virtual:<name>`; null when the block belongs to no one. */
  readonly affinity: string | null;
  /** JSON `affinity_claim_time` (RFC 3339); missing on blocks written before v3.32. */
  readonly affinityClaimTime?: string;
  /** One entry per ordinal: index into `attributes`, or null when free. */
  readonly allocations: readonly (number | null)[];
  /** Free ordinals in FIFO order: assignment takes from the head, release appends. */
  readonly unallocated: readonly number[];
  readonly attributes: readonly AllocationAttribute[];
  /** uint64, bumped on every write; starts at the creation time in nanoseconds. */
  readonly sequenceNumber: bigint;
  /** Ordinal (decimal string) → the block's sequence number when it was allocated. */
  readonly sequenceNumberForAllocation: Readonly<Record<string, bigint>>;
  readonly deleted: boolean;
  /** Deprecated legacy field, kept when read. */
  readonly hostAffinity?: string;
}

const R = 'IPAM block';

function decodeAttribute(field: string, v: unknown): AllocationAttribute {
  const o = asObject(R, field, v);
  const handleId = optionalString(R, `${field}.handle_id`, o['handle_id']);
  const secondary = stringMap(R, `${field}.secondary`, o['secondary']);
  const alternateOwnerAttrs = stringMap(R, `${field}.alternateOwnerAttrs`, o['alternateOwnerAttrs']);
  const releasedAt = optionalString(R, `${field}.releasedAt`, o['releasedAt']);
  return {
    ...(handleId !== undefined && { handleId }),
    ...(secondary !== undefined && { secondary }),
    ...(alternateOwnerAttrs !== undefined && { alternateOwnerAttrs }),
    ...(releasedAt !== undefined && { releasedAt }),
  };
}

function intArray(field: string, v: unknown, allowNull: boolean): (number | null)[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new RecordDecodeError(R, field, 'expected an array');
  return v.map((x, i) => {
    if (x === null && allowNull) return null;
    if (typeof x !== 'number' || !Number.isInteger(x)) throw new RecordDecodeError(R, `${field}[${i}]`, 'expected an integer');
    return x;
  });
}

/** Reads a block from its stored JSON. Structural problems throw; semantic ones are `check`'s job. */
export function decodeBlock(json: string): AllocationBlock {
  const o = asObject(R, '(value)', parseJsonLossless(json));
  let cidr: Cidr;
  try {
    cidr = parseCidr(String(o['cidr']));
  } catch (err) {
    throw new RecordDecodeError(R, 'cidr', err instanceof IpParseError ? err.message : 'expected a CIDR');
  }
  const affinity = optionalString(R, 'affinity', o['affinity']) ?? null;
  const affinityClaimTime = optionalString(R, 'affinity_claim_time', o['affinity_claim_time']);
  const hostAffinity = optionalString(R, 'hostAffinity', o['hostAffinity']);
  const attributesRaw = o['attributes'] ?? [];
  if (!Array.isArray(attributesRaw)) throw new RecordDecodeError(R, 'attributes', 'expected an array');
  const seqRaw = o['sequenceNumberForAllocation'] ?? {};
  const seqObj = asObject(R, 'sequenceNumberForAllocation', seqRaw);
  const sequenceNumberForAllocation: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(seqObj)) {
    sequenceNumberForAllocation[k] = uint64(R, `sequenceNumberForAllocation.${k}`, v);
  }
  return {
    cidr,
    affinity,
    ...(affinityClaimTime !== undefined && { affinityClaimTime }),
    allocations: intArray('allocations', o['allocations'], true),
    unallocated: intArray('unallocated', o['unallocated'], false) as number[],
    attributes: attributesRaw.map((a, i) => decodeAttribute(`attributes[${i}]`, a)),
    sequenceNumber: o['sequenceNumber'] === undefined ? 0n : uint64(R, 'sequenceNumber', o['sequenceNumber']),
    sequenceNumberForAllocation,
    deleted: optionalBoolean(R, 'deleted', o['deleted']),
    ...(hostAffinity !== undefined && { hostAffinity }),
  };
}

function encodeAttribute(a: AllocationAttribute): Record<string, unknown> {
  return {
    ...(a.handleId !== undefined && { handle_id: a.handleId }),
    ...(a.secondary !== undefined && { secondary: a.secondary }),
    ...(a.alternateOwnerAttrs !== undefined && { alternateOwnerAttrs: a.alternateOwnerAttrs }),
    ...(a.releasedAt !== undefined && { releasedAt: a.releasedAt }),
  };
}

/**
 * Writes a block as Calico does: field order and omitempty as in model.AllocationBlock.
 * Every allocation writes its block, so this is hot: the parts without 64-bit integers go
 * through native JSON.stringify, and only the sequence numbers are written by hand. The
 * text is the same as stringifyJsonLossless of the same object (a property test holds it
 * to that).
 */
export function encodeBlock(b: AllocationBlock): string {
  const seqs = Object.entries(b.sequenceNumberForAllocation)
    .map(([ordinal, seq]) => `${JSON.stringify(ordinal)}:${integerText(seq)}`)
    .join(',');
  return (
    `{"cidr":${JSON.stringify(formatCidr(b.cidr))},"affinity":${JSON.stringify(b.affinity)}` +
    (b.affinityClaimTime !== undefined ? `,"affinity_claim_time":${JSON.stringify(b.affinityClaimTime)}` : '') +
    `,"allocations":${JSON.stringify(b.allocations)},"unallocated":${JSON.stringify(b.unallocated)}` +
    `,"attributes":${JSON.stringify(b.attributes.map(encodeAttribute))}` +
    `,"sequenceNumber":${integerText(b.sequenceNumber)},"sequenceNumberForAllocation":{${seqs}}` +
    `,"deleted":${JSON.stringify(b.deleted)}` +
    (b.hostAffinity !== undefined ? `,"hostAffinity":${JSON.stringify(b.hostAffinity)}` : '') +
    '}'
  );
}

/** A uint64 as JSON digits, whether it arrived as bigint or as a (safe) number. */
function integerText(n: bigint | number): string {
  return typeof n === 'bigint' ? n.toString() : JSON.stringify(n);
}

/** `host:<node>` / `virtual:<name>`, the block's `affinity` string. */
export function affinityString(type: 'host' | 'virtual', host: string): string {
  return `${type}:${host}`;
}

/** The host named by a block's affinity, when it is a host affinity. */
export function blockHost(b: Pick<AllocationBlock, 'affinity'>): string | undefined {
  return b.affinity?.startsWith('host:') ? b.affinity.slice('host:'.length) : undefined;
}

import {
  decodeAffinity,
  decodeBlock,
  decodeHandle,
  decodeIpamConfig,
  encodeAffinity,
  encodeBlock,
  encodeHandle,
  encodeIpamConfig,
  ipamConfigKey,
  parseAffinityKey,
  parseBlockKey,
  parseHandleKey,
  parseJsonLossless,
  parseResourceKey,
  stringifyJsonLossless,
  type JsonValue,
} from '@atoll/model';
import { affinityName, cidrToName, handleName } from './kdd-names';

// The unit a migration moves: one record in Calico's etcd layout (key and value text),
// named by the Calico object it stands for. Both directions compare records by meaning,
// not by text: field order and omitted defaults differ between writers.

export const RECORD_KINDS = ['IPPool', 'IPReservation', 'IPAMConfig', 'IPAMBlock', 'BlockAffinity', 'IPAMHandle', 'Node'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface MigrationRecord {
  readonly kind: RecordKind;
  readonly key: string;
  readonly value: string;
}

export type KindCounts = Record<RecordKind, number>;

export function zeroCounts(): KindCounts {
  return Object.fromEntries(RECORD_KINDS.map((k) => [k, 0])) as KindCounts;
}

export function countByKind(records: Iterable<{ kind: RecordKind }>): KindCounts {
  const counts = zeroCounts();
  for (const r of records) counts[r.kind]++;
  return counts;
}

/** The kind of a stored key, or undefined for keys a migration does not move. */
export function kindOfKey(key: string): RecordKind | undefined {
  if (parseBlockKey(key)) return 'IPAMBlock';
  if (parseAffinityKey(key)) return 'BlockAffinity';
  if (parseHandleKey(key) !== undefined) return 'IPAMHandle';
  if (key === ipamConfigKey()) return 'IPAMConfig';
  switch (parseResourceKey(key)?.plural) {
    case 'ippools':
      return 'IPPool';
    case 'ipreservations':
      return 'IPReservation';
    case 'nodes':
      return 'Node';
    default:
      return undefined;
  }
}

/** "IPAMBlock 10-0-0-0-26": the object as Calico's Kubernetes datastore names it. */
export function describeRecord(r: Pick<MigrationRecord, 'kind' | 'key'>): string {
  switch (r.kind) {
    case 'IPAMBlock':
      return `IPAMBlock ${cidrToName(parseBlockKey(r.key)!)}`;
    case 'BlockAffinity': {
      const a = parseAffinityKey(r.key)!;
      return `BlockAffinity ${affinityName(a.host, a.cidr)}`;
    }
    case 'IPAMHandle':
      return `IPAMHandle ${handleName(parseHandleKey(r.key)!)}`;
    case 'IPAMConfig':
      return 'IPAMConfig default';
    default:
      return `${r.kind} ${parseResourceKey(r.key)?.name ?? r.key}`;
  }
}

/** JSON with object keys sorted: equal meaning, equal text. */
export function sortedJson(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x !== null && typeof x === 'object') {
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .filter((k) => (x as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
      );
    }
    return x;
  };
  return stringifyJsonLossless(sort(v));
}

type Resource = { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, JsonValue> };

/** The tunnel addresses of a Calico Node resource: all a migration moves of a node. */
export function nodeTunnels(value: string): { ipip?: string; vxlan?: string; vxlanV6?: string } {
  const spec = ((parseJsonLossless(value) as Resource).spec ?? {}) as { bgp?: { ipv4IPIPTunnelAddr?: string }; ipv4VXLANTunnelAddr?: string; ipv6VXLANTunnelAddr?: string };
  return {
    ...(spec.bgp?.ipv4IPIPTunnelAddr && { ipip: spec.bgp.ipv4IPIPTunnelAddr }),
    ...(spec.ipv4VXLANTunnelAddr && { vxlan: spec.ipv4VXLANTunnelAddr }),
    ...(spec.ipv6VXLANTunnelAddr && { vxlanV6: spec.ipv6VXLANTunnelAddr }),
  };
}

/**
 * A value's meaning as one string. Resources compare by name, labels, annotations and
 * spec (uid and timestamps belong to the store that issued them); nodes by their tunnel
 * addresses only (the node agent owns the rest of a node).
 */
export function canonicalValue(kind: RecordKind, value: string): string {
  switch (kind) {
    case 'IPAMBlock':
      return encodeBlock(decodeBlock(value));
    case 'BlockAffinity':
      return encodeAffinity(decodeAffinity(value));
    case 'IPAMHandle': {
      const h = decodeHandle(value);
      return encodeHandle({ block: Object.fromEntries(Object.entries(h.block).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), deleted: h.deleted });
    }
    case 'IPAMConfig':
      return encodeIpamConfig(decodeIpamConfig(value));
    case 'Node':
      return sortedJson(nodeTunnels(value));
    case 'IPPool':
    case 'IPReservation': {
      const r = parseJsonLossless(value) as Resource;
      return sortedJson({ name: r.metadata?.name, labels: r.metadata?.labels ?? {}, annotations: r.metadata?.annotations ?? {}, spec: r.spec ?? {} });
    }
  }
}

/** The first place two values of a kind differ, for the report ("allocations[5]: 3 ≠ null"). */
export function firstDifference(kind: RecordKind, a: string, b: string): string {
  const x = parseJsonLossless(canonicalValue(kind, a));
  const y = parseJsonLossless(canonicalValue(kind, b));
  const walk = (p: string, u: unknown, v: unknown): string | undefined => {
    if (sortedJson(u) === sortedJson(v)) return undefined;
    if (u !== null && v !== null && typeof u === 'object' && typeof v === 'object') {
      const keys = [...new Set([...Object.keys(u), ...Object.keys(v)])];
      for (const k of keys) {
        const d = walk(p ? `${p}.${k}` : k, (u as Record<string, unknown>)[k], (v as Record<string, unknown>)[k]);
        if (d) return d;
      }
    }
    const show = (w: unknown) => (w === undefined ? '(absent)' : stringifyJsonLossless(w).slice(0, 80));
    return `${p || '(value)'}: ${show(u)} here, ${show(v)} there`;
  };
  return walk('', x, y) ?? 'no difference';
}


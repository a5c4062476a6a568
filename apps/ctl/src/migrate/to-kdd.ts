import { formatCidr } from '@atoll/ipmath';
import { decodeAffinity, decodeBlock, decodeHandle, decodeIpamConfig, parseAffinityKey, parseHandleKey, parseJsonLossless, type JsonValue } from '@atoll/model';
import type { CrdPlural, KubeObject } from './kdd-kinds';
import { affinityLabels, affinityName, cidrToName, handleName } from './kdd-names';
import { TUNNEL_ANNOTATIONS } from './from-kdd';
import { nodeTunnels, type MigrationRecord } from './records';

// Records in Calico's etcd layout → the objects Calico's Kubernetes datastore keeps, the
// reverse of from-kdd.ts field by field, written the way Calico's own clients write them
// (affinity omitted when null, `deleted` as a string on affinities, the deprecated
// `strictAffinity: false` on blocks, affinities labelled for Calico's list by host).

export interface KddTarget {
  readonly plural: CrdPlural;
  readonly object: KubeObject;
}

export interface NodeAnnotations {
  readonly node: string;
  readonly annotations: Readonly<Record<string, string>>;
}

function metadataOf(value: string): KubeObject['metadata'] {
  const m = (parseJsonLossless(value) as { metadata?: KubeObject['metadata'] }).metadata!;
  return {
    name: m.name,
    ...(m.labels && Object.keys(m.labels).length > 0 && { labels: m.labels }),
    ...(m.annotations && Object.keys(m.annotations).length > 0 && { annotations: m.annotations }),
  };
}

export function kddObjectOf(r: MigrationRecord): KddTarget | undefined {
  switch (r.kind) {
    case 'IPPool':
    case 'IPReservation': {
      const spec = (parseJsonLossless(r.value) as { spec?: Record<string, JsonValue> }).spec ?? {};
      return { plural: r.kind === 'IPPool' ? 'ippools' : 'ipreservations', object: { metadata: metadataOf(r.value), spec } };
    }
    case 'IPAMConfig': {
      const c = decodeIpamConfig(r.value);
      const spec: Record<string, JsonValue> = {
        strictAffinity: c.strictAffinity,
        autoAllocateBlocks: c.autoAllocateBlocks,
        ...(c.maxBlocksPerHost > 0 && { maxBlocksPerHost: c.maxBlocksPerHost }),
        ...(c.kubeVirtVMAddressPersistence !== 'Enabled' && { kubeVirtVMAddressPersistence: c.kubeVirtVMAddressPersistence }),
        ...(c.ipCooldownSeconds > 0 && { ipCooldownSeconds: c.ipCooldownSeconds }),
      };
      return { plural: 'ipamconfigs', object: { metadata: { name: 'default' }, spec } };
    }
    case 'IPAMBlock': {
      const b = decodeBlock(r.value);
      const spec: Record<string, JsonValue> = {
        cidr: formatCidr(b.cidr),
        ...(b.affinity !== null && { affinity: b.affinity }),
        ...(b.affinityClaimTime !== undefined && { affinityClaimTime: b.affinityClaimTime }),
        allocations: [...b.allocations],
        unallocated: [...b.unallocated],
        attributes: b.attributes.map((a) => ({
          ...(a.handleId !== undefined && { handle_id: a.handleId }),
          ...(a.secondary !== undefined && { secondary: { ...a.secondary } }),
          ...(a.alternateOwnerAttrs !== undefined && { alternateOwnerAttrs: { ...a.alternateOwnerAttrs } }),
          ...(a.releasedAt !== undefined && { releasedAt: a.releasedAt }),
        })),
        sequenceNumber: b.sequenceNumber,
        sequenceNumberForAllocation: { ...b.sequenceNumberForAllocation },
        deleted: false,
        strictAffinity: false,
      };
      return { plural: 'ipamblocks', object: { metadata: { name: cidrToName(b.cidr) }, spec } };
    }
    case 'BlockAffinity': {
      const k = parseAffinityKey(r.key)!;
      const a = decodeAffinity(r.value);
      return {
        plural: 'blockaffinities',
        object: {
          metadata: { name: affinityName(k.host, k.cidr), labels: affinityLabels(k.host, k.type, k.cidr) },
          spec: { state: a.state, node: k.host, type: k.type, cidr: formatCidr(k.cidr), deleted: 'false' },
        },
      };
    }
    case 'IPAMHandle': {
      const id = parseHandleKey(r.key)!;
      const h = decodeHandle(r.value);
      return { plural: 'ipamhandles', object: { metadata: { name: handleName(id) }, spec: { handleID: id, block: { ...h.block }, deleted: false } } };
    }
    case 'Node':
      return undefined;
  }
}

/** The annotations a node's tunnel addresses become on its Kubernetes Node. */
export function nodeAnnotationsOf(r: MigrationRecord): NodeAnnotations | undefined {
  if (r.kind !== 'Node') return undefined;
  const t = nodeTunnels(r.value);
  const annotations: Record<string, string> = {
    ...(t.ipip && { [TUNNEL_ANNOTATIONS.ipip]: t.ipip }),
    ...(t.vxlan && { [TUNNEL_ANNOTATIONS.vxlan]: t.vxlan }),
    ...(t.vxlanV6 && { [TUNNEL_ANNOTATIONS.vxlanV6]: t.vxlanV6 }),
  };
  if (Object.keys(annotations).length === 0) return undefined;
  return { node: (parseJsonLossless(r.value) as { metadata: { name: string } }).metadata.name, annotations };
}

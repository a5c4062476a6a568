import { tryParseCidr, type Cidr } from '@atoll/ipmath';
import {
  affinityKey,
  blockKey,
  decodeBlock,
  encodeAffinity,
  encodeBlock,
  encodeHandle,
  encodeIpamConfig,
  handleKey,
  ipamConfigKey,
  resourceKey,
  stringifyJsonLossless,
  validateIPPool,
  validateIPReservation,
  type AffinityState,
  type JsonValue,
} from '@atoll/model';
import type { CrdPlural, KubeObject } from './kdd-kinds';
import { affinityName, cidrToName, handleName } from './kdd-names';
import type { MigrationRecord } from './records';

// Calico's Kubernetes datastore objects → records in Calico's etcd layout, one explicit
// mapping per field (docs/migrating-from-calico.md lists them). Anything that cannot be
// mapped is a problem naming the object; objects Calico itself treats as deleted are
// skipped and counted.

export interface KddSource {
  readonly objects: Readonly<Record<CrdPlural, readonly KubeObject[]>>;
  /** Kubernetes Nodes (their tunnel-address annotations). */
  readonly nodes: readonly KubeObject[];
}

export interface Conversion {
  readonly records: MigrationRecord[];
  readonly problems: string[];
  /** Objects not migrated because Calico marked them deleted. */
  readonly skipped: string[];
}

export const TUNNEL_ANNOTATIONS = {
  ipip: 'projectcalico.org/IPv4IPIPTunnelAddr',
  vxlan: 'projectcalico.org/IPv4VXLANTunnelAddr',
  vxlanV6: 'projectcalico.org/IPv6VXLANTunnelAddr',
} as const;

/** Go's strconv.ParseBool (Calico parses a BlockAffinity's string `deleted` with it); "" is false. */
export function parseGoBool(text: string): boolean | undefined {
  if (text === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

class Converter {
  readonly records: MigrationRecord[] = [];
  readonly problems: string[] = [];
  readonly skipped: string[] = [];

  problem(what: string, text: string): void {
    this.problems.push(`${what}: ${text}`);
  }

  spec(what: string, o: KubeObject): Record<string, JsonValue> | undefined {
    if (o.spec === null || typeof o.spec !== 'object' || Array.isArray(o.spec)) {
      this.problem(what, 'has no spec');
      return undefined;
    }
    return o.spec;
  }

  cidr(what: string, text: unknown): Cidr | undefined {
    const c = typeof text === 'string' ? tryParseCidr(text) : undefined;
    if (!c) this.problem(what, `spec.cidr ${JSON.stringify(text)} is not a CIDR`);
    return c;
  }

  resource(kind: 'IPPool' | 'IPReservation', o: KubeObject): void {
    const what = `${kind} ${o.metadata.name}`;
    const meta = o.metadata;
    const resource = {
      kind,
      apiVersion: 'projectcalico.org/v3',
      metadata: {
        name: meta.name,
        ...(meta.uid !== undefined && { uid: meta.uid }),
        ...(typeof meta['creationTimestamp'] === 'string' && { creationTimestamp: meta['creationTimestamp'] }),
        ...(meta.labels && Object.keys(meta.labels).length > 0 && { labels: meta.labels }),
        ...(meta.annotations && Object.keys(meta.annotations).length > 0 && { annotations: meta.annotations }),
      },
      spec: o.spec ?? {},
    };
    const problems = kind === 'IPPool' ? validateIPPool(resource) : validateIPReservation(resource);
    for (const p of problems) this.problem(what, p.message);
    if (problems.length === 0) this.records.push({ kind, key: resourceKey(kind === 'IPPool' ? 'ippools' : 'ipreservations', meta.name), value: stringifyJsonLossless(resource) });
  }

  ipamConfig(o: KubeObject): void {
    const what = `IPAMConfig ${o.metadata.name}`;
    if (o.metadata.name !== 'default') return this.problem(what, "Calico reads only the IPAMConfig named 'default'");
    const s = this.spec(what, o);
    if (!s) return;
    const bool = (f: string) => {
      const v = s[f];
      if (v !== undefined && typeof v !== 'boolean') this.problem(what, `spec.${f} must be a boolean`);
      return v === true;
    };
    const count = (f: string) => {
      const v = s[f];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) this.problem(what, `spec.${f} must be a non-negative integer`);
      return typeof v === 'number' ? v : 0;
    };
    const persistence = s['kubeVirtVMAddressPersistence'];
    if (persistence !== undefined && persistence !== 'Enabled' && persistence !== 'Disabled') this.problem(what, 'spec.kubeVirtVMAddressPersistence must be Enabled or Disabled');
    const value = encodeIpamConfig({
      strictAffinity: bool('strictAffinity'),
      autoAllocateBlocks: bool('autoAllocateBlocks'),
      maxBlocksPerHost: count('maxBlocksPerHost'),
      kubeVirtVMAddressPersistence: persistence === 'Disabled' ? 'Disabled' : 'Enabled',
      ipCooldownSeconds: count('ipCooldownSeconds'),
    });
    this.records.push({ kind: 'IPAMConfig', key: ipamConfigKey(), value });
  }

  block(o: KubeObject): void {
    const what = `IPAMBlock ${o.metadata.name}`;
    const s = this.spec(what, o);
    if (!s) return;
    if (s['deleted'] === true) return void this.skipped.push(`${what} (marked deleted)`);
    const cidr = this.cidr(what, s['cidr']);
    if (!cidr) return;
    if (o.metadata.name !== cidrToName(cidr)) return this.problem(what, `its name should be ${cidrToName(cidr)} for spec.cidr ${String(s['cidr'])}`);
    // The etcd value's field names: affinity omitted here means null there; the claim time is spelled affinity_claim_time.
    const etcdShape = {
      cidr: s['cidr'],
      affinity: s['affinity'] ?? null,
      ...(s['affinityClaimTime'] !== undefined && s['affinityClaimTime'] !== null && { affinity_claim_time: s['affinityClaimTime'] }),
      allocations: s['allocations'] ?? [],
      unallocated: s['unallocated'] ?? [],
      attributes: s['attributes'] ?? [],
      sequenceNumber: s['sequenceNumber'] ?? 0,
      sequenceNumberForAllocation: s['sequenceNumberForAllocation'] ?? {},
      deleted: false,
    };
    try {
      const block = decodeBlock(stringifyJsonLossless(etcdShape));
      this.records.push({ kind: 'IPAMBlock', key: blockKey(block.cidr), value: encodeBlock(block) });
    } catch (err) {
      this.problem(what, (err as Error).message);
    }
  }

  affinity(o: KubeObject): void {
    const what = `BlockAffinity ${o.metadata.name}`;
    const s = this.spec(what, o);
    if (!s) return;
    const deleted = typeof s['deleted'] === 'string' ? parseGoBool(s['deleted']) : s['deleted'] === undefined ? false : undefined;
    if (deleted === undefined) return this.problem(what, `spec.deleted ${JSON.stringify(s['deleted'])} is not "true" or "false"`);
    if (deleted) return void this.skipped.push(`${what} (marked deleted)`);
    const cidr = this.cidr(what, s['cidr']);
    if (!cidr) return;
    const node = s['node'];
    if (typeof node !== 'string' || node === '' || node.includes('/')) return this.problem(what, `spec.node ${JSON.stringify(node)} is not a node name`);
    const type = s['type'] === undefined || s['type'] === '' ? 'host' : s['type'];
    if (type !== 'host' && type !== 'virtual') return this.problem(what, `spec.type ${JSON.stringify(type)} is neither host nor virtual`);
    const state = s['state'] === undefined || s['state'] === '' ? 'confirmed' : s['state'];
    if (state !== 'pending' && state !== 'confirmed' && state !== 'pendingDeletion') return this.problem(what, `spec.state ${JSON.stringify(state)} is not pending, confirmed or pendingDeletion`);
    if (o.metadata.name !== affinityName(node, cidr)) return this.problem(what, `its name should be ${affinityName(node, cidr)} for node ${node} and ${String(s['cidr'])}`);
    this.records.push({ kind: 'BlockAffinity', key: affinityKey({ type, host: node, cidr }), value: encodeAffinity({ state: state as AffinityState, deleted: false }) });
  }

  handle(o: KubeObject): void {
    const what = `IPAMHandle ${o.metadata.name}`;
    const s = this.spec(what, o);
    if (!s) return;
    if (s['deleted'] === true) return void this.skipped.push(`${what} (marked deleted)`);
    const id = s['handleID'];
    if (typeof id !== 'string' || id === '' || id.includes('/')) return this.problem(what, `spec.handleID ${JSON.stringify(id)} cannot be a handle ID`);
    if (o.metadata.name !== handleName(id)) return this.problem(what, `its name should be ${handleName(id)} for spec.handleID ${id}`);
    const block = s['block'] ?? {};
    if (block === null || typeof block !== 'object' || Array.isArray(block)) return this.problem(what, 'spec.block must map block CIDRs to counts');
    const counts: Record<string, number> = {};
    for (const [c, n] of Object.entries(block)) {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return this.problem(what, `spec.block[${c}] must be a non-negative integer`);
      counts[c] = n;
    }
    this.records.push({ kind: 'IPAMHandle', key: handleKey(id), value: encodeHandle({ block: counts, deleted: false }) });
  }

  node(o: KubeObject): void {
    const a = o.metadata.annotations ?? {};
    const ipip = a[TUNNEL_ANNOTATIONS.ipip];
    const vxlan = a[TUNNEL_ANNOTATIONS.vxlan];
    const vxlanV6 = a[TUNNEL_ANNOTATIONS.vxlanV6];
    if (!ipip && !vxlan && !vxlanV6) return;
    const resource = {
      kind: 'Node',
      apiVersion: 'projectcalico.org/v3',
      metadata: {
        name: o.metadata.name,
        ...(o.metadata.uid !== undefined && { uid: o.metadata.uid }),
        ...(typeof o.metadata['creationTimestamp'] === 'string' && { creationTimestamp: o.metadata['creationTimestamp'] }),
        // Pools' nodeSelectors match these until the node agent registers the node itself.
        ...(o.metadata.labels && { labels: o.metadata.labels }),
      },
      spec: { ...(ipip && { bgp: { ipv4IPIPTunnelAddr: ipip } }), ...(vxlan && { ipv4VXLANTunnelAddr: vxlan }), ...(vxlanV6 && { ipv6VXLANTunnelAddr: vxlanV6 }) },
    };
    this.records.push({ kind: 'Node', key: resourceKey('nodes', o.metadata.name), value: stringifyJsonLossless(resource) });
  }
}

/** Every object of the source as records, with what could not be mapped. */
export function recordsFromKdd(source: KddSource): Conversion {
  const c = new Converter();
  for (const o of source.objects.ippools) c.resource('IPPool', o);
  for (const o of source.objects.ipreservations) c.resource('IPReservation', o);
  for (const o of source.objects.ipamconfigs) c.ipamConfig(o);
  for (const o of source.objects.ipamblocks) c.block(o);
  for (const o of source.objects.blockaffinities) c.affinity(o);
  for (const o of source.objects.ipamhandles) c.handle(o);
  for (const o of source.nodes) c.node(o);
  return { records: c.records, problems: c.problems, skipped: c.skipped };
}

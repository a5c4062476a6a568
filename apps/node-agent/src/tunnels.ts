import { IntendedUse, type AllocatorClients } from '@atoll/api';
import { parseJsonLossless, parseSelector, type IPPool, applyIPPoolDefaults } from '@atoll/model';
import { parseCidr, cidrContains, parseIp } from '@atoll/ipmath';
import type { Logger } from 'pino';
import type { NodeRecord } from './node-registration';

// Tunnel addresses, as calico-node allocates them: when an enabled pool that selects this
// node uses IPIP or VXLAN, the node needs an address for the tunnel device, assigned with
// intended use Tunnel (so Workload-only pools are never used) under Calico's handle, and
// recorded on the Node. When no pool needs it any more, it is released.

type TunnelKind = 'ipip' | 'vxlan' | 'vxlan-v6';

interface TunnelSpec {
  readonly kind: TunnelKind;
  readonly handle: (node: string) => string;
  readonly type: string; // the `type` attribute
  readonly version: 4 | 6;
  readonly wants: (p: ReturnType<typeof applyIPPoolDefaults>) => boolean;
  readonly get: (spec: Record<string, unknown>) => string | undefined;
  readonly set: (spec: Record<string, unknown>, addr: string | undefined) => Record<string, unknown>;
}

const TUNNELS: readonly TunnelSpec[] = [
  {
    kind: 'ipip',
    handle: (n) => `ipip-tunnel-addr-${n}`,
    type: 'ipipTunnelAddress',
    version: 4,
    wants: (p) => p.spec.ipipMode !== 'Never',
    get: (s) => (s['bgp'] as Record<string, string> | undefined)?.['ipv4IPIPTunnelAddr'],
    set: (s, a) => {
      const bgp = { ...((s['bgp'] as Record<string, unknown>) ?? {}) };
      if (a) bgp['ipv4IPIPTunnelAddr'] = a;
      else delete bgp['ipv4IPIPTunnelAddr'];
      const out: Record<string, unknown> = { ...s, bgp };
      if (Object.keys(bgp).length === 0) delete out['bgp'];
      return out;
    },
  },
  {
    kind: 'vxlan',
    handle: (n) => `vxlan-tunnel-addr-${n}`,
    type: 'vxlanTunnelAddress',
    version: 4,
    wants: (p) => p.spec.vxlanMode !== 'Never',
    get: (s) => s['ipv4VXLANTunnelAddr'] as string | undefined,
    set: (s, a) => {
      const out = { ...s };
      if (a) out['ipv4VXLANTunnelAddr'] = a;
      else delete out['ipv4VXLANTunnelAddr'];
      return out;
    },
  },
  {
    kind: 'vxlan-v6',
    handle: (n) => `vxlan-v6-tunnel-addr-${n}`,
    type: 'vxlanV6TunnelAddress',
    version: 6,
    wants: (p) => p.spec.vxlanMode !== 'Never',
    get: (s) => s['ipv6VXLANTunnelAddr'] as string | undefined,
    set: (s, a) => {
      const out = { ...s };
      if (a) out['ipv6VXLANTunnelAddr'] = a;
      else delete out['ipv6VXLANTunnelAddr'];
      return out;
    },
  },
];

type Clients = Pick<AllocatorClients, 'ipam' | 'resources'>;

export class TunnelAddresses {
  constructor(
    private readonly clients: Clients,
    private readonly node: NodeRecord,
    private readonly log: Logger,
  ) {}

  /** Makes the node's tunnel addresses match what the pools ask for. */
  async reconcile(): Promise<void> {
    const node = await this.node.read();
    const labels = node.metadata.labels ?? {};
    const pools = (await this.clients.resources.list({ kind: 'IPPool' })).resourceJson
      .map((j) => applyIPPoolDefaults(parseJsonLossless(j) as unknown as IPPool))
      .filter((p) => !p.spec.disabled && safeMatch(p.spec.nodeSelector, labels));
    for (const t of TUNNELS) {
      const eligible = pools.filter((p) => t.wants(p) && parseCidr(p.spec.cidr).version === t.version);
      await this.reconcileOne(t, eligible.map((p) => p.spec.cidr), node.spec as Record<string, unknown>);
    }
  }

  private async reconcileOne(t: TunnelSpec, poolCidrs: string[], spec: Record<string, unknown>): Promise<void> {
    const name = this.node.nodeName;
    const handleId = t.handle(name);
    const held = await this.clients.ipam.ipsByHandle({ handleId }).then(
      (r) => r.ips,
      (err: { code?: string }) => {
        if (err.code === 'not-found') return [] as string[];
        throw err;
      },
    );
    const inEligible = (ip: string) => poolCidrs.some((c) => cidrContains(parseCidr(c), parseIp(ip)));
    const keep = held.find(inEligible);
    // Release what is no longer wanted (or is in a pool that no longer qualifies).
    const stale = held.filter((ip) => ip !== keep);
    if (stale.length > 0) {
      await this.clients.ipam.releaseIPs({ options: stale.map((address) => ({ address, handleId, sequenceNumber: '' })) });
      this.log.info({ node: name, handle: handleId, ips: stale }, 'released tunnel address');
    }
    let address = keep;
    if (!address && poolCidrs.length > 0) {
      try {
        const r = await this.clients.ipam.autoAssign({
          num4: t.version === 4 ? 1 : 0,
          num6: t.version === 6 ? 1 : 0,
          handleId,
          attributes: { node: name, type: t.type },
          hostname: name,
          ipv4Pools: t.version === 4 ? poolCidrs : [],
          ipv6Pools: t.version === 6 ? poolCidrs : [],
          maxBlocksPerHost: 0,
          intendedUse: IntendedUse.INTENDED_USE_TUNNEL,
          namespaceLabels: {},
          allOrNothing: true,
        });
        address = (t.version === 4 ? r.ipv4?.ips[0] : r.ipv6?.ips[0])?.split('/')[0];
        this.log.info({ node: name, handle: handleId, ip: address }, 'assigned tunnel address');
      } catch (err) {
        this.log.warn({ node: name, handle: handleId, code: (err as { code?: string }).code, reason: (err as Error).message }, 'no tunnel address');
      }
    }
    if (t.get(spec) !== address) {
      await this.node.update((n) => ({ ...n, spec: t.set(n.spec as Record<string, unknown>, address) as typeof n.spec }));
    }
  }
}

function safeMatch(selector: string, labels: Readonly<Record<string, string>>): boolean {
  try {
    return parseSelector(selector).matches(labels);
  } catch {
    return false;
  }
}

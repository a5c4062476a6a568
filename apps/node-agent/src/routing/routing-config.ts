import { formatIp, tryParseIp } from '@atoll/ipmath';

// The routing flags (with ATOLL_* equivalents; config.ts merges them into the agent's
// table). Routing is off unless asked for: the agent then never touches routes, iptables
// or sysctls.

export const ROUTING_FLAGS = {
  routing: { env: 'ATOLL_ROUTING', default: 'none', help: "routes to other nodes' pods: host-gw (kernel routes via the nodes' addresses, NAT for natOutgoing pools) or none" },
  'route-protocol': { env: 'ATOLL_ROUTE_PROTOCOL', default: '197', help: 'with --routing=host-gw: the routing protocol number that marks the routes the agent owns (5 to 255)' },
  'route-resync-seconds': { env: 'ATOLL_ROUTE_RESYNC_SECONDS', default: '30', help: 'with --routing=host-gw: how often routes and NAT rules are checked against what they should be' },
  'node-ip': { env: 'ATOLL_NODE_IP', default: '', help: "this node's address for other nodes' routes: one IPv4 and/or one IPv6, comma-separated, optional prefix length (default: the Kubernetes Node's InternalIP)" },
} as const;

export type RoutingFlag = keyof typeof ROUTING_FLAGS;

export interface RoutingConfig {
  readonly mode: 'host-gw' | 'none';
  /** Marks the agent's routes; it lists, changes and deletes only routes with this protocol. */
  readonly protocol: number;
  readonly resyncMs: number;
}

/** This node's addresses as written to its Calico Node (`spec.bgp.ipv4Address` / `ipv6Address`), e.g. "172.30.0.11/24". */
export interface NodeAddresses {
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/** Numbers the kernel and iproute2 use themselves (unspec, redirect, kernel, boot, static). */
const FIRST_FREE_PROTOCOL = 5;

export function parseRoutingFlags(get: (flag: RoutingFlag) => string, fail: (message: string) => Error): { routing: RoutingConfig; nodeIp?: NodeAddresses } {
  const mode = get('routing');
  if (mode !== 'host-gw' && mode !== 'none') throw fail(`--routing: expected host-gw or none, got ${JSON.stringify(mode)}`);
  const protocolText = get('route-protocol');
  const protocol = Number(protocolText);
  if (!/^\d{1,3}$/.test(protocolText) || protocol < FIRST_FREE_PROTOCOL || protocol > 255) {
    throw fail(`--route-protocol: expected a number from ${FIRST_FREE_PROTOCOL} to 255 (0 to 4 are the kernel's own), got ${JSON.stringify(protocolText)}`);
  }
  const resyncText = get('route-resync-seconds');
  if (!/^\d+$/.test(resyncText) || Number(resyncText) < 1 || Number(resyncText) > 86400) {
    throw fail(`--route-resync-seconds: expected a whole number from 1 to 86400, got ${JSON.stringify(resyncText)}`);
  }
  const nodeIp = parseNodeIp(get('node-ip'), fail);
  return { routing: { mode, protocol, resyncMs: Number(resyncText) * 1000 }, ...(nodeIp && { nodeIp }) };
}

/** `172.30.0.11/24,fd00::11` → one address per family, canonical, prefix length kept. Empty: undefined. */
export function parseNodeIp(text: string, fail: (message: string) => Error): NodeAddresses | undefined {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  const out: { ipv4?: string; ipv6?: string } = {};
  for (const part of parts) {
    const [addressText = '', prefix, extra] = part.split('/');
    const ip = tryParseIp(addressText);
    const maxPrefix = ip?.version === 6 ? 128 : 32;
    if (!ip || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix))) {
      throw fail(`--node-ip: ${JSON.stringify(part)} is not an IP address with an optional prefix length (e.g. 172.30.0.11/24)`);
    }
    const key = ip.version === 4 ? 'ipv4' : 'ipv6';
    if (out[key]) throw fail(`--node-ip: at most one IPv${ip.version} address, got ${JSON.stringify(text)}`);
    out[key] = `${formatIp(ip)}${prefix !== undefined ? `/${Number(prefix)}` : ''}`;
  }
  return out;
}

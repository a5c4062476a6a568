import { createNetns, runCommand, type Netns } from '../netns/netns';

// Kubernetes nodes on one network segment, made of network namespaces: a "lan" namespace
// holds a bridge; each node namespace and an "outside" namespace (the router / internet
// stand-in) hang off it by a veth whose namespace side is `eth0`. Nothing is created in,
// or routed to, the machine's own network.

export const LAN_IPV4_SUBNET = '172.30.0.0/24';
export const LAN_IPV6_SUBNET = 'fd00:30::/64';
export const OUTSIDE_IPV4 = '172.30.0.1';
export const OUTSIDE_IPV6 = 'fd00:30::1';
/** The namespace side of every host's link to the lan bridge. */
export const LAN_INTERFACE = 'eth0';
const MAX_NODES = 200;

export interface LanHost {
  /** `node-1`, `node-2`, … or `outside`. */
  readonly name: string;
  readonly netns: Netns;
  readonly ipv4: string;
  readonly ipv6: string;
}

export interface NodeLan {
  readonly prefix: string;
  /** The namespace holding the bridge `br0`. */
  readonly lan: Netns;
  readonly nodes: readonly LanHost[];
  /** 172.30.0.1 / fd00:30::1, the nodes' default gateway; it routes nothing but the lan itself. */
  readonly outside: LanHost;
  /** Deletes every namespace (and with them every veth); deleting twice is fine. */
  delete(): Promise<void>;
}

async function ipBatch(ns: string, commands: readonly string[]): Promise<void> {
  const r = await runCommand('ip', ['-n', ns, '-batch', '-'], { input: `${commands.join('\n')}\n` });
  if (r.code !== 0) throw new Error(`ip -n ${ns} -batch failed (${r.code}): ${r.stderr.trim()}\n${commands.join('\n')}`);
}

async function sysctls(netns: Netns, settings: Readonly<Record<string, string>>): Promise<void> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  const r = await runCommand('nsenter', [`--net=${netns.path}`, 'sysctl', '-q', '-w', ...args]);
  if (r.code !== 0) throw new Error(`sysctl in ${netns.name} failed: ${r.stderr.trim()}`);
}

/**
 * Host i gets 172.30.0.(10+i)/24 and fd00:30::(10+i)/64 (node-1 → .11), with duplicate
 * address detection off so the addresses work at once. Nodes route by default via the
 * outside host and forward packets (net.ipv4.ip_forward, IPv6 forwarding), as Kubernetes
 * nodes do.
 */
export async function createNodeLan(opts: { prefix: string; nodes: number }): Promise<NodeLan> {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES) throw new Error(`nodes must be 1..${MAX_NODES}`);
  const created: Netns[] = [];
  const remove = async () => {
    for (const ns of [...created].reverse()) await ns.delete();
  };
  try {
    const lan = await createNetns(`${opts.prefix}lan`);
    created.push(lan);
    await ipBatch(lan.name, ['link add br0 type bridge', 'link set br0 up']);

    const attach = async (name: string, port: number, v4: string, v6: string): Promise<LanHost> => {
      const netns = await createNetns(`${opts.prefix}${name}`);
      created.push(netns);
      // before eth0 exists, so the link-local address skips DAD too
      await sysctls(netns, { 'net.ipv6.conf.default.accept_dad': '0', 'net.ipv6.conf.all.accept_dad': '0' });
      await ipBatch(netns.name, [
        `link add ${LAN_INTERFACE} type veth peer name p${port} netns ${lan.name}`,
        `addr add ${v4}/24 dev ${LAN_INTERFACE}`,
        `addr add ${v6}/64 dev ${LAN_INTERFACE} nodad`,
        `link set ${LAN_INTERFACE} up`,
      ]);
      await ipBatch(lan.name, [`link set p${port} master br0`, `link set p${port} up`]);
      return { name, netns, ipv4: v4, ipv6: v6 };
    };

    const outside = await attach('outside', 1, OUTSIDE_IPV4, OUTSIDE_IPV6);
    const nodes: LanHost[] = [];
    for (let i = 1; i <= opts.nodes; i++) {
      const host = await attach(`node-${i}`, i + 1, `172.30.0.${10 + i}`, `fd00:30::${10 + i}`);
      await sysctls(host.netns, { 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' });
      await ipBatch(host.netns.name, [`route add default via ${OUTSIDE_IPV4}`, `route add default via ${OUTSIDE_IPV6}`]);
      nodes.push(host);
    }
    return { prefix: opts.prefix, lan, nodes, outside, delete: remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

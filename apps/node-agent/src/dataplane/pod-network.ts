import { parseIp } from '@atoll/ipmath';
import { HOST_LINK_MAC, hostLinkName, IPV4_GATEWAY, IPV6_GATEWAY, podLinkMac } from './link-names';
import { NetCommandError, type NetCommands } from './net-commands';

// Wires a pod the way Calico does: a veth pair with the host side in the node's namespace,
// the pod's addresses as /32 (/128) on the pod side, an on-link default route through a
// gateway that only the host side answers for (169.254.1.1 with proxy ARP; for IPv6 the host
// side's own link-local address), and a host route per pod address to the host side. No
// subnet is shared with anything, so static addresses, borrowed addresses and addresses of
// any block work the same way.

export interface PodAttachment {
  readonly containerId: string;
  readonly ifname: string;
  readonly netnsPath: string;
  /** Plain addresses, IPv4 and/or IPv6 (any prefix the allocator gave is dropped). */
  readonly addresses: readonly string[];
  readonly mtu: number;
}

export interface AttachedPod {
  readonly hostLink: { readonly name: string; readonly mac: string };
  readonly podLink: { readonly name: string; readonly mac: string; readonly sandbox: string };
  /** Each address as configured: /32 or /128. */
  readonly addresses: readonly { readonly cidr: string; readonly version: 4 | 6 }[];
  readonly gateways: { readonly 4?: string; readonly 6?: string };
}

export class PodNetworkError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'PodNetworkError';
  }
}

function hostCidr(address: string): { cidr: string; version: 4 | 6 } {
  const ip = address.split('/')[0]!;
  const version = parseIp(ip).version;
  return { cidr: `${ip}/${version === 4 ? 32 : 128}`, version };
}

/** A veth pair made for a pod before its addresses are known (see PodNetwork.prepare). */
export interface PreparedPod {
  readonly containerId: string;
  readonly ifname: string;
  readonly netnsPath: string;
  readonly hostName: string;
  readonly podMac: string;
}

export class PodNetwork {
  constructor(private readonly commands: NetCommands) {}

  /** Creates and configures the pod's veth pair; on failure leaves nothing behind. */
  async attach(pod: PodAttachment): Promise<AttachedPod> {
    return this.configure(await this.prepare(pod), pod.addresses);
  }

  /**
   * The half of wiring that needs no address: the veth pair (host side down, pod side in the
   * pod's namespace) and the host side's proxy ARP. An ADD runs it while the allocator is
   * still choosing the addresses. On failure leaves nothing behind.
   */
  async prepare(pod: Omit<PodAttachment, 'addresses'>): Promise<PreparedPod> {
    const prepared = { containerId: pod.containerId, ifname: pod.ifname, netnsPath: pod.netnsPath, hostName: hostLinkName(pod.containerId, pod.ifname), podMac: podLinkMac(pod.containerId, pod.ifname) };
    const create = `link add ${prepared.hostName} mtu ${pod.mtu} address ${HOST_LINK_MAC} type veth peer name ${pod.ifname} mtu ${pod.mtu} address ${prepared.podMac} netns ${pod.netnsPath}`;
    try {
      await this.commands.ipBatch([create]);
    } catch (err) {
      if (!(err instanceof NetCommandError && err.alreadyExists)) throw new PodNetworkError(`failed to create the veth pair for ${pod.ifname}: ${(err as Error).message}`, err);
      // A veth of this very attachment left by an ADD whose DEL never came: remove it and
      // try once more. If the pod's namespace itself has the interface name, this fails
      // the same way and says so.
      await this.detachLink(prepared.hostName).catch(() => undefined);
      try {
        await this.commands.ipBatch([create]);
      } catch (again) {
        const exists = again instanceof NetCommandError && again.alreadyExists;
        throw new PodNetworkError(exists ? `an interface named ${pod.ifname} already exists in ${pod.netnsPath}` : `failed to create the veth pair for ${pod.ifname}: ${(again as Error).message}`, again);
      }
    }
    try {
      // Answer the pod's ARP for 169.254.1.1 (and anything else it asks for) at once; the
      // default proxy delay is up to 0.8 s.
      await this.commands.writeSysctl(`/proc/sys/net/ipv4/conf/${prepared.hostName}/proxy_arp`, '1');
      await this.commands.writeSysctl(`/proc/sys/net/ipv4/neigh/${prepared.hostName}/proxy_delay`, '0');
    } catch (err) {
      await this.discard(prepared);
      throw new PodNetworkError(`failed to enable proxy ARP on ${prepared.hostName}: ${(err as Error).message}`, err);
    }
    return prepared;
  }

  /**
   * The half that needs the addresses: the node side (up, the IPv6 gateway address, a route
   * per address) and the pod side (addresses, gateway, default routes), side by side. On
   * failure removes the veth pair.
   */
  async configure(prepared: PreparedPod, addressList: readonly string[]): Promise<AttachedPod> {
    const addresses = addressList.map(hostCidr);
    const has4 = addresses.some((a) => a.version === 4);
    const has6 = addresses.some((a) => a.version === 6);
    const hostLines = [
      // The host side's link-local address is the pod's IPv6 gateway: set it without
      // duplicate address detection, or the pod could not reach it for about a second.
      ...(has6 ? [`link set ${prepared.hostName} addrgenmode none`] : []),
      `link set ${prepared.hostName} up`,
      ...(has6 ? [`addr add ${IPV6_GATEWAY}/64 dev ${prepared.hostName} nodad`] : []),
      ...addresses.map((a) => `route add ${a.cidr} dev ${prepared.hostName}${a.version === 4 ? ' scope link' : ''}`),
    ];
    const results = await Promise.allSettled([this.commands.ipBatch(hostLines), this.commands.ipBatch(podSideLines(prepared.ifname, addresses), prepared.netnsPath)]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.discard(prepared);
      throw new PodNetworkError(`failed to configure ${prepared.ifname} in ${prepared.netnsPath}: ${(failed.reason as Error).message}`, failed.reason);
    }
    return {
      hostLink: { name: prepared.hostName, mac: HOST_LINK_MAC },
      podLink: { name: prepared.ifname, mac: prepared.podMac, sandbox: prepared.netnsPath },
      addresses,
      gateways: { ...(has4 && { 4: IPV4_GATEWAY }), ...(has6 && { 6: IPV6_GATEWAY }) },
    };
  }

  /** Removes a prepared veth pair (an ADD that got no addresses); never throws. */
  async discard(prepared: PreparedPod): Promise<void> {
    await this.detachLink(prepared.hostName).catch(() => undefined);
  }

  /**
   * Removes the pod's veth pair (and with it the host routes to the pod). Needs nothing but
   * the attachment: a DEL without a namespace or prevResult cleans up the same. Resolves
   * whether there was anything to remove.
   */
  async detach(containerId: string, ifname: string): Promise<boolean> {
    return this.detachLink(hostLinkName(containerId, ifname));
  }

  private async detachLink(hostName: string): Promise<boolean> {
    try {
      await this.commands.ipBatch([`link del ${hostName}`]);
      return true;
    } catch (err) {
      if (err instanceof NetCommandError && err.noSuchDevice) return false;
      throw err;
    }
  }

  /** For CHECK: what is wrong with the attachment, or an empty list. */
  async problems(pod: Omit<PodAttachment, 'mtu'>): Promise<string[]> {
    const hostName = hostLinkName(pod.containerId, pod.ifname);
    const problems: string[] = [];
    try {
      await this.commands.ipJson(['link', 'show', 'dev', hostName]);
    } catch {
      problems.push(`host interface ${hostName} is missing`);
    }
    let configured: string[] = [];
    try {
      const links = (await this.commands.ipJson(['addr', 'show', 'dev', pod.ifname], pod.netnsPath)) as { addr_info?: { local: string; prefixlen: number; scope: string }[] }[];
      configured = links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`));
    } catch {
      problems.push(`interface ${pod.ifname} is missing in ${pod.netnsPath}`);
      return problems;
    }
    for (const want of pod.addresses.map((a) => hostCidr(a).cidr)) {
      if (!configured.includes(want)) problems.push(`${pod.ifname} does not have ${want}`);
    }
    return problems;
  }
}

function podSideLines(ifname: string, addresses: readonly { cidr: string; version: 4 | 6 }[]): string[] {
  const lines = [`link set ${ifname} up`];
  if (addresses.some((a) => a.version === 4)) {
    lines.push(
      ...addresses.filter((a) => a.version === 4).map((a) => `addr add ${a.cidr} dev ${ifname}`),
      `route add ${IPV4_GATEWAY} dev ${ifname} scope link`,
      `route add default via ${IPV4_GATEWAY} dev ${ifname}`,
      // Known from the start: the first packet needs no ARP round trip.
      `neigh replace ${IPV4_GATEWAY} lladdr ${HOST_LINK_MAC} dev ${ifname} nud permanent`,
    );
  }
  if (addresses.some((a) => a.version === 6)) {
    lines.push(
      ...addresses.filter((a) => a.version === 6).map((a) => `addr add ${a.cidr} dev ${ifname} nodad`),
      `route add default via ${IPV6_GATEWAY} dev ${ifname}`,
      `neigh replace ${IPV6_GATEWAY} lladdr ${HOST_LINK_MAC} dev ${ifname} nud permanent`,
    );
  }
  return lines;
}

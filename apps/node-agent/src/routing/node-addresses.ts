import { formatIp, tryParseIp } from '@atoll/ipmath';
import type { Logger } from 'pino';
import type { NodeAddresses } from './routing-config';

// This node's addresses, the gateways other nodes route its blocks through: --node-ip when
// given, else the Kubernetes Node's InternalIP(s) (the first of each family). Without
// either, the Node record is left as it is, and with --routing=host-gw that is an error
// worth a line in the log (once, until an address turns up): other nodes cannot reach
// this node's pods, though CNI requests are still served.

export interface NodeAddressSourceOptions {
  readonly flag?: NodeAddresses;
  /** The Kubernetes Node's InternalIP addresses (undefined: no Kubernetes, or no Node). */
  readonly internalIPs?: () => Promise<readonly string[] | undefined>;
  readonly routing: boolean;
  readonly log: Logger;
}

export class NodeAddressSource {
  private reportedMissing = false;

  constructor(private readonly opts: NodeAddressSourceOptions) {}

  /** The addresses to record on the Node; undefined when none is known (leave the record alone). */
  async resolve(): Promise<NodeAddresses | undefined> {
    const found = this.opts.flag ?? firstOfEachFamily((await this.opts.internalIPs?.()) ?? []);
    if (found) {
      if (this.reportedMissing) this.opts.log.info({ addresses: found }, 'this node has an address for routes again');
      this.reportedMissing = false;
      return found;
    }
    if (this.opts.routing && !this.reportedMissing) {
      this.reportedMissing = true;
      this.opts.log.error(
        'this node has no address for other nodes to route its pods through: set --node-ip (ATOLL_NODE_IP), or give the Kubernetes Node an InternalIP address. CNI requests are still served',
      );
    }
    return undefined;
  }
}

/** The first IPv4 and the first IPv6 address among `addresses`; undefined when there is neither. */
export function firstOfEachFamily(addresses: readonly string[]): NodeAddresses | undefined {
  let ipv4: string | undefined;
  let ipv6: string | undefined;
  for (const text of addresses) {
    const ip = tryParseIp(text);
    if (ip?.version === 4) ipv4 ??= formatIp(ip);
    if (ip?.version === 6) ipv6 ??= formatIp(ip);
  }
  return ipv4 || ipv6 ? { ...(ipv4 && { ipv4 }), ...(ipv6 && { ipv6 }) } : undefined;
}

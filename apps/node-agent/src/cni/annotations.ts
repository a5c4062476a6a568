import { formatIp, IpAddress, parseIp } from '@atoll/ipmath';
import { PoolRequestError, resolvePoolRequest } from '@atoll/model';
import { ADDRESS_LIST_ANNOTATION, entriesAtOrdinal, parseAddressList, statefulSetOrdinal, type AddressList } from './address-list';
import type { CniArgs } from './cni-args';
import { CniCode, CniFailure } from './errors';
import type { NetConf } from './netconf';
import type { OwnerReference } from './ports';

// Calico's pod and namespace annotations, turned into one address request. Precedence:
// pod annotations over namespace annotations over the CNI configuration. A specific
// address (ipAddrs) comes only from the pod, and beats everything else; then IP= in
// CNI_ARGS; then Atoll's address list (atoll.io/ipAddrsList, address-list.ts).

export const Annotations = {
  ipv4Pools: 'cni.projectcalico.org/ipv4pools',
  ipv6Pools: 'cni.projectcalico.org/ipv6pools',
  ipFamilies: 'cni.projectcalico.org/ipFamilies',
  ipAddrs: 'cni.projectcalico.org/ipAddrs',
  ipAddrsNoIpam: 'cni.projectcalico.org/ipAddrsNoIpam',
  ipAddrsList: ADDRESS_LIST_ANNOTATION,
} as const;

/** Annotations larger than this are refused: no legitimate value comes close. */
const MAX_ANNOTATION_BYTES = 16 * 1024;

export type AddressRequest =
  /** Specific addresses through IPAM (at most one per family), canonical text. */
  | { readonly kind: 'static'; readonly ips: readonly string[] }
  /**
   * `atoll.io/ipAddrsList`: a StatefulSet pod's entries at its ordinal (`atOrdinal`), else
   * the first free entry of each family.
   */
  | { readonly kind: 'list'; readonly list: AddressList; readonly atOrdinal?: readonly string[] }
  /** Addresses used as given, without IPAM (feature ip_addrs_no_ipam). */
  | { readonly kind: 'no-ipam'; readonly ips: readonly string[] }
  | {
      readonly kind: 'auto';
      readonly assignIpv4: boolean;
      readonly assignIpv6: boolean;
      readonly ipv4Pools: readonly string[];
      readonly ipv6Pools: readonly string[];
    };

function bad(message: string): never {
  throw new CniFailure(CniCode.badAddressRequest, message);
}

/** Parses a list of specific addresses with Calico's rules and messages. */
export function parseSpecificIps(source: string, raw: string | readonly string[]): string[] {
  let list: unknown;
  if (typeof raw === 'string') {
    if (Buffer.byteLength(raw) > MAX_ANNOTATION_BYTES) bad(`annotation "${source}" is larger than ${MAX_ANNOTATION_BYTES} bytes`);
    try {
      list = JSON.parse(raw);
    } catch (err) {
      bad(`failed to parse IPs ${raw} for annotation "${source}": failed to parse '${raw}' as JSON: ${(err as Error).message}`);
    }
  } else list = raw;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) bad(`annotation "${source}" must be a JSON list of IP addresses, got ${JSON.stringify(raw)}`);
  if (list.length === 0) bad(`annotation "${source}" specified but empty`);
  const parsed: IpAddress[] = (list as string[]).map((text) => {
    let ip: IpAddress;
    // No trimming: Go's net.ParseIP, which Calico uses, refuses "10.50.0.9 " too.
    try {
      ip = parseIp(text);
    } catch {
      return bad(`invalid IP format: ${text}`);
    }
    // Go reads "::ffff:a.b.c.d" as IPv4; we refuse the ambiguity rather than guess.
    if (ip.version === 6 && ip.value >> 32n === 0xffffn) bad(`invalid IP format: ${text} (write the IPv4 address as a.b.c.d)`);
    return ip;
  });
  for (const [version, name] of [[4, 'IPv4'], [6, 'IPv6']] as const) {
    if (parsed.filter((ip) => ip.version === version).length > 1) {
      bad(`cannot have more than one ${name} address for "${source}" annotation`);
    }
  }
  return parsed.map(formatIp);
}

export interface ResolveInput {
  readonly netconf: NetConf;
  readonly args: CniArgs;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly namespaceAnnotations: Readonly<Record<string, string>>;
  /** The pod's owners, for a StatefulSet pod's ordinal in an address list. */
  readonly ownerReferences?: readonly OwnerReference[];
}

export function resolveAddressRequest({ netconf, args, podAnnotations: pod, namespaceAnnotations: ns, ownerReferences }: ResolveInput): AddressRequest {
  const ipAddrs = pod[Annotations.ipAddrs];
  const noIpam = pod[Annotations.ipAddrsNoIpam];
  if (ipAddrs !== undefined && noIpam !== undefined) {
    bad("can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time");
  }
  if (noIpam !== undefined) {
    if (!netconf.ipAddrsNoIpam) bad('requested feature is not enabled: ip_addrs_no_ipam');
    return { kind: 'no-ipam', ips: parseSpecificIps(Annotations.ipAddrsNoIpam, noIpam) };
  }
  if (ipAddrs !== undefined) return { kind: 'static', ips: parseSpecificIps(Annotations.ipAddrs, ipAddrs) };
  if (args.ips.length > 0) return { kind: 'static', ips: parseSpecificIps('IP', args.ips) };
  const listText = pod[Annotations.ipAddrsList];
  if (listText !== undefined) {
    const list = parseAddressList(listText);
    const sts = args.podName ? statefulSetOrdinal(args.podName, ownerReferences) : undefined;
    return sts ? { kind: 'list', list, atOrdinal: entriesAtOrdinal(list, args.podName!, sts) } : { kind: 'list', list };
  }

  // the same precedence `atollctl ipam explain` shows (@atoll/model cni/pool-request.ts)
  try {
    return { kind: 'auto', ...resolvePoolRequest(netconf, ns, pod).settings };
  } catch (err) {
    if (!(err instanceof PoolRequestError)) throw err;
    return bad(err.message);
  }
}

import { IpParseError, IpVersion, parseCidr, parseCidrDetailed, parseIp } from '@atoll/ipmath';
import {
  PlainObject,
  readEnum,
  readObject,
  readObjectList,
  readString,
  readStringList,
  rejectUnknownFields,
} from './field-types';
import { ApiVersion, nameOf, ObjectMeta, validateEnvelope } from './metadata';
import { resourceNameProblems } from './names';
import { fieldPath, ProblemList } from './problem-list';
import { ValidationError } from './validation-error';

// Calico's v3 Node (libcalico-go/lib/apis/v3/node.go). For IPAM the labels matter most:
// pools' nodeSelector is matched against metadata.labels.

export interface NodeBGPSpec {
  /** A number, or a string in plain or dotted ("1.10") notation. */
  asNumber?: number | string;
  /** Address and subnet, e.g. 10.244.0.1/24; a bare address is accepted. */
  ipv4Address?: string;
  ipv6Address?: string;
  ipv4IPIPTunnelAddr?: string;
  routeReflectorClusterID?: string;
}

export interface OrchRef {
  nodeName?: string;
  orchestrator: string;
}

export type NodeAddressType = 'CalicoNodeIP' | 'InternalIP' | 'ExternalIP';
export const NODE_ADDRESS_TYPES: readonly NodeAddressType[] = ['CalicoNodeIP', 'InternalIP', 'ExternalIP'];

export interface NodeAddress {
  address: string;
  type?: NodeAddressType;
}

export interface NodeWireguardSpec {
  interfaceIPv4Address?: string;
  interfaceIPv6Address?: string;
}

export interface NodeInterface {
  name?: string;
  addresses?: string[];
}

export interface NodeSpec {
  bgp?: NodeBGPSpec;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: OrchRef[];
  wireguard?: NodeWireguardSpec;
  addresses?: NodeAddress[];
  interfaces?: NodeInterface[];
}

/** Written by Calico components (wireguard keys, podCIDRs); kept as-is, never interpreted here. */
export type NodeStatus = Record<string, unknown>;

export interface Node {
  apiVersion: ApiVersion;
  kind: 'Node';
  metadata: ObjectMeta;
  spec: NodeSpec;
  status?: NodeStatus;
}

/** Nothing to default on a Node; returns a copy so callers can rely on "never the same object". */
export function applyNodeDefaults(node: Node): Node {
  const copy = structuredClone(node);
  return { ...copy, spec: copy.spec ?? {} };
}

/** All problems of a Node: DNS-1123 name, Kubernetes label rules, addresses of the right family. Never throws. */
export function validateNode(value: unknown): ValidationError[] {
  const problems = new ProblemList('Node', nameOf(value));
  const spec = validateEnvelope(problems, value, { allowStatus: true });
  if (!spec) return problems.problems;
  rejectUnknownFields(problems, spec, 'spec', [
    'bgp',
    'ipv4VXLANTunnelAddr',
    'vxlanTunnelMACAddr',
    'ipv6VXLANTunnelAddr',
    'vxlanTunnelMACAddrV6',
    'orchRefs',
    'wireguard',
    'addresses',
    'interfaces',
  ]);
  validateBgp(problems, readObject(problems, spec['bgp'], 'spec.bgp'));
  checkAddress(problems, spec, 'ipv4VXLANTunnelAddr', 'spec', 4);
  checkAddress(problems, spec, 'ipv6VXLANTunnelAddr', 'spec', 6);
  checkMac(problems, spec, 'vxlanTunnelMACAddr', 'spec');
  checkMac(problems, spec, 'vxlanTunnelMACAddrV6', 'spec');

  for (const { entry, field } of readObjectList(problems, spec, 'orchRefs', 'spec') ?? []) {
    rejectUnknownFields(problems, entry, field, ['nodeName', 'orchestrator']);
    readString(problems, entry, 'nodeName', field);
    if (readString(problems, entry, 'orchestrator', field) === undefined && entry['orchestrator'] == null) {
      problems.add(fieldPath(field, 'orchestrator'), 'is required');
    }
  }

  const wireguard = readObject(problems, spec['wireguard'], 'spec.wireguard');
  if (wireguard) {
    rejectUnknownFields(problems, wireguard, 'spec.wireguard', ['interfaceIPv4Address', 'interfaceIPv6Address']);
    checkAddress(problems, wireguard, 'interfaceIPv4Address', 'spec.wireguard', 4);
    checkAddress(problems, wireguard, 'interfaceIPv6Address', 'spec.wireguard', 6);
  }

  for (const { entry, field } of readObjectList(problems, spec, 'addresses', 'spec') ?? []) {
    rejectUnknownFields(problems, entry, field, ['address', 'type']);
    readEnum(problems, entry, 'type', field, NODE_ADDRESS_TYPES, { emptyMeansAbsent: true });
    const address = readString(problems, entry, 'address', field);
    if (address === undefined) {
      if (entry['address'] == null) problems.add(fieldPath(field, 'address'), 'is required');
    } else if (!isNetwork(address)) {
      problems.add(fieldPath(field, 'address'), 'must be an IP address or a strictly masked CIDR', address);
    }
  }

  for (const { entry, field } of readObjectList(problems, spec, 'interfaces', 'spec') ?? []) {
    rejectUnknownFields(problems, entry, field, ['name', 'addresses']);
    const name = readString(problems, entry, 'name', field);
    if (name) for (const reason of resourceNameProblems(name)) problems.add(fieldPath(field, 'name'), reason, name);
    readStringList(problems, entry, 'addresses', field);
  }
  return problems.problems;
}

function validateBgp(problems: ProblemList, bgp: PlainObject | undefined): void {
  if (!bgp) return;
  const field = 'spec.bgp';
  rejectUnknownFields(problems, bgp, field, [
    'asNumber',
    'ipv4Address',
    'ipv6Address',
    'ipv4IPIPTunnelAddr',
    'routeReflectorClusterID',
  ]);
  // Calico: "Spec.BGP should not be empty" — an empty bgp section is a mistake, omit it instead.
  if (Object.values(bgp).every((v) => v === undefined || v === null || v === '')) {
    problems.add(field, 'should not be empty; omit spec.bgp when BGP is not used');
  }
  const asNumber = bgp['asNumber'];
  if (asNumber !== undefined && asNumber !== null && !isAsNumber(asNumber)) {
    problems.add(
      fieldPath(field, 'asNumber'),
      'must be an AS number from 0 to 4294967295, or in dotted notation such as "1.10"',
      asNumber,
    );
  }
  checkAddressAndSubnet(problems, bgp, 'ipv4Address', field, 4);
  checkAddressAndSubnet(problems, bgp, 'ipv6Address', field, 6);
  checkAddress(problems, bgp, 'ipv4IPIPTunnelAddr', field, 4);
  checkAddress(problems, bgp, 'routeReflectorClusterID', field, 4);
}

function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (err instanceof IpParseError) return undefined;
    throw err;
  }
}

/** A bare address of the given family (Calico's `ipv4` / `ipv6` validators). */
function checkAddress(problems: ProblemList, object: PlainObject, key: string, parent: string, version: IpVersion): void {
  const text = readString(problems, object, key, parent);
  if (!text) return;
  if (tryParse(() => parseIp(text))?.version !== version) {
    problems.add(fieldPath(parent, key), `must be an IPv${version} address`, text);
  }
}

/** An address with optional subnet, not necessarily masked (Calico's `cidrv4` / `cidrv6`). */
function checkAddressAndSubnet(
  problems: ProblemList,
  object: PlainObject,
  key: string,
  parent: string,
  version: IpVersion,
): void {
  const text = readString(problems, object, key, parent);
  if (!text) return;
  if (tryParse(() => parseCidr(text, { allowBareAddress: true }))?.version !== version) {
    const example = version === 4 ? '10.0.0.1/24' : 'fd00::1/64';
    problems.add(fieldPath(parent, key), `must be an IPv${version} address, optionally with a subnet (e.g. ${example})`, text);
  }
}

/** An address, or a strictly masked CIDR (Calico's `net` validator). */
function isNetwork(text: string): boolean {
  return tryParse(() => parseCidrDetailed(text, { allowBareAddress: true }))?.strictlyMasked === true;
}

function checkMac(problems: ProblemList, object: PlainObject, key: string, parent: string): void {
  const text = readString(problems, object, key, parent);
  if (text && !isMacAddress(text)) problems.add(fieldPath(parent, key), 'must be a MAC address', text);
}

const HEX2 = '[0-9A-Fa-f]{2}';
const HEX4 = '[0-9A-Fa-f]{4}';
// Go's net.ParseMAC: 6, 8 or 20 octets, written as hex pairs separated by ":" or "-", or as
// dot-separated groups of four hex digits.
const MAC_FORMS = [6, 8, 20].flatMap((octets) => [
  new RegExp(`^${HEX2}(:${HEX2}){${octets - 1}}$`),
  new RegExp(`^${HEX2}(-${HEX2}){${octets - 1}}$`),
  new RegExp(`^${HEX4}(\\.${HEX4}){${octets / 2 - 1}}$`),
]);

export function isMacAddress(text: string): boolean {
  return MAC_FORMS.some((form) => form.test(text));
}

const UINT32_MAX = 4294967295;
const UINT16_MAX = 65535;

/** Calico's numorstring.ASNumber: a 32-bit number, as a JSON number or a string, or "high.low" with 16-bit halves. */
function isAsNumber(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
  if (typeof value !== 'string') return false;
  if (/^\d{1,10}$/.test(value)) return Number(value) <= UINT32_MAX;
  const dotted = /^(\d{1,5})\.(\d{1,5})$/.exec(value);
  return dotted !== null && Number(dotted[1]) <= UINT16_MAX && Number(dotted[2]) <= UINT16_MAX;
}


import { formatIp, IpParseError, IpVersion, parseCidrDetailed, ParsedCidr } from '@atoll/ipmath';
import { ApiVersion, ObjectMeta } from './metadata';

/** When IPIP or VXLAN encapsulation is used for traffic to this pool. */
export type EncapsulationMode = 'Never' | 'Always' | 'CrossSubnet';
export const ENCAPSULATION_MODES: readonly EncapsulationMode[] = ['Never', 'Always', 'CrossSubnet'];

/** What addresses from the pool may be used for. */
export type IPPoolAllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
export const IPPOOL_ALLOWED_USES: readonly IPPoolAllowedUse[] = ['Workload', 'Tunnel', 'LoadBalancer'];

/** `Manual` pools are used only when a request names them. */
export type AssignmentMode = 'Automatic' | 'Manual';
export const ASSIGNMENT_MODES: readonly AssignmentMode[] = ['Automatic', 'Manual'];

/** `spec` of an IPPool, JSON names as in Calico's api/pkg/apis/projectcalico/v3/ippool.go. */
export interface IPPoolSpec {
  cidr: string;
  blockSize?: number;
  ipipMode?: EncapsulationMode;
  vxlanMode?: EncapsulationMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  /** Empty or missing: every namespace matches. */
  namespaceSelector?: string;
  allowedUses?: IPPoolAllowedUse[];
  assignmentMode?: AssignmentMode;
}

/** Written by Calico v3.32+ (`conditions[type=Allocatable]`); kept as-is, never interpreted here. */
export type IPPoolStatus = Record<string, unknown>;

export interface IPPool {
  apiVersion: ApiVersion;
  kind: 'IPPool';
  metadata: ObjectMeta;
  spec: IPPoolSpec;
  status?: IPPoolStatus;
}

/** An IPPool after applyIPPoolDefaults: every defaultable field is set. */
export interface DefaultedIPPoolSpec extends IPPoolSpec {
  blockSize: number;
  ipipMode: EncapsulationMode;
  vxlanMode: EncapsulationMode;
  natOutgoing: boolean;
  disabled: boolean;
  disableBGPExport: boolean;
  nodeSelector: string;
  allowedUses: IPPoolAllowedUse[];
  assignmentMode: AssignmentMode;
}

export interface DefaultedIPPool extends IPPool {
  spec: DefaultedIPPoolSpec;
}

export const DEFAULT_BLOCK_SIZE: Readonly<Record<IpVersion, number>> = { 4: 26, 6: 122 };
export const BLOCK_SIZE_RANGE: Readonly<Record<IpVersion, { min: number; max: number }>> = {
  4: { min: 20, max: 32 },
  6: { min: 116, max: 128 },
};
export const DEFAULT_NODE_SELECTOR = 'all()';
export const DEFAULT_ALLOWED_USES: readonly IPPoolAllowedUse[] = ['Workload', 'Tunnel'];

/** The parsed CIDR text, or undefined when it is not a CIDR (validation reports that). */
export function parsePoolCidr(text: unknown): ParsedCidr | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseCidrDetailed(text);
  } catch (err) {
    if (err instanceof IpParseError) return undefined;
    throw err;
  }
}

/**
 * Canonical text of a pool CIDR: the address as written in canonical form, then the prefix
 * ("fd00:0::/122" → "fd00::/122"). Host bits are kept, not masked away: Calico reports
 * "IPPool CIDR is not strictly masked" for "10.0.0.5/24", and a defaulting step that
 * silently masked the CIDR would turn that refusal into a different pool.
 */
export function canonicalPoolCidr(text: string): string {
  const parsed = parsePoolCidr(text);
  return parsed ? `${formatIp(parsed.address)}/${parsed.cidr.prefix}` : text;
}

/** The family the CIDR text names; a guess from the text when it does not parse. */
function familyOf(text: unknown): IpVersion {
  const parsed = parsePoolCidr(text);
  if (parsed) return parsed.cidr.version;
  return typeof text === 'string' && text.includes(':') ? 6 : 4;
}

function isUnset(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/**
 * Fills in Calico's defaults (clientv3 validateAndSetDefaults / convertIpPoolFromStorage):
 * blockSize 26 or 122 by family (also for 0, Go's zero value), ipipMode/vxlanMode Never,
 * natOutgoing/disabled/disableBGPExport false, nodeSelector all() (also for ""), allowedUses
 * [Workload, Tunnel] when missing or empty, assignmentMode Automatic, and the CIDR in canonical
 * text. Pure: returns a new object and never mutates its input. Total: never throws, even on
 * ill-typed input; a value of the wrong type is left for validation to report.
 */
export function applyIPPoolDefaults(pool: IPPool): DefaultedIPPool {
  const copy = structuredClone(pool);
  const spec: IPPoolSpec = copy.spec ?? ({} as IPPoolSpec);
  const defaulted: DefaultedIPPoolSpec = {
    ...spec,
    cidr: typeof spec.cidr === 'string' ? canonicalPoolCidr(spec.cidr) : spec.cidr,
    blockSize: isUnset(spec.blockSize) || spec.blockSize === 0 ? DEFAULT_BLOCK_SIZE[familyOf(spec.cidr)] : spec.blockSize,
    ipipMode: isUnset(spec.ipipMode) || (spec.ipipMode as string) === '' ? 'Never' : spec.ipipMode,
    vxlanMode: isUnset(spec.vxlanMode) || (spec.vxlanMode as string) === '' ? 'Never' : spec.vxlanMode,
    natOutgoing: spec.natOutgoing ?? false,
    disabled: spec.disabled ?? false,
    disableBGPExport: spec.disableBGPExport ?? false,
    nodeSelector: isUnset(spec.nodeSelector) || spec.nodeSelector === '' ? DEFAULT_NODE_SELECTOR : spec.nodeSelector,
    allowedUses:
      isUnset(spec.allowedUses) || (Array.isArray(spec.allowedUses) && spec.allowedUses.length === 0)
        ? [...DEFAULT_ALLOWED_USES]
        : spec.allowedUses,
    assignmentMode: spec.assignmentMode ?? 'Automatic',
  };
  return { ...copy, spec: defaulted };
}

// Which families and pools a pod's automatic assignment asks for: the CNI configuration's
// ipam settings, overridden by the namespace's annotations, overridden by the pod's
// (Calico's precedence). One implementation, used by the node agent for every ADD and by
// `atollctl ipam explain` to show the same decision.

export const PoolAnnotations = {
  ipv4Pools: 'cni.projectcalico.org/ipv4pools',
  ipv6Pools: 'cni.projectcalico.org/ipv6pools',
  ipFamilies: 'cni.projectcalico.org/ipFamilies',
} as const;

/** Annotations that ask for specific addresses instead: no pool is chosen for such a pod. */
export const SpecificAddressAnnotations = {
  ipAddrs: 'cni.projectcalico.org/ipAddrs',
  ipAddrsNoIpam: 'cni.projectcalico.org/ipAddrsNoIpam',
} as const;

export interface PoolSettings {
  readonly assignIpv4: boolean;
  readonly assignIpv6: boolean;
  /** Pool names or CIDRs; empty: every pool that qualifies. */
  readonly ipv4Pools: readonly string[];
  readonly ipv6Pools: readonly string[];
}

/** A malformed setting: in the CNI configuration (`config`) or in an annotation (`annotation`). */
export class PoolRequestError extends Error {
  constructor(
    readonly where: 'config' | 'annotation',
    message: string,
  ) {
    super(message);
    this.name = 'PoolRequestError';
  }
}

/** Annotations larger than this are refused: no legitimate value comes close. */
const MAX_ANNOTATION_BYTES = 16 * 1024;

function configList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new PoolRequestError('config', `ipam.${field} must be a list of pool names or CIDRs`);
  return v as string[];
}

/**
 * Calico's flags are strings: assign_ipv4 defaults to true and only "false" turns it off;
 * assign_ipv6 defaults to false and only "true" turns it on.
 */
function calicoFlag(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw new PoolRequestError('config', `ipam.${field} must be the string "true" or "false", got ${JSON.stringify(v)}`);
  return dflt ? v !== 'false' : v === 'true';
}

/** The pool settings of a network configuration's `ipam` section. */
export function poolSettingsOfIpamConfig(ipam: Readonly<Record<string, unknown>>): PoolSettings {
  return {
    assignIpv4: calicoFlag(ipam['assign_ipv4'], 'assign_ipv4', true),
    assignIpv6: calicoFlag(ipam['assign_ipv6'], 'assign_ipv6', false),
    ipv4Pools: configList(ipam['ipv4_pools'], 'ipv4_pools'),
    ipv6Pools: configList(ipam['ipv6_pools'], 'ipv6_pools'),
  };
}

function parseJson(name: string, value: string): unknown {
  if (Buffer.byteLength(value) > MAX_ANNOTATION_BYTES) throw new PoolRequestError('annotation', `annotation "${name}" is larger than ${MAX_ANNOTATION_BYTES} bytes`);
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new PoolRequestError('annotation', `failed to parse annotation "${name}" as JSON: ${(err as Error).message}`);
  }
}

function stringArray(name: string, value: string): string[] {
  const v = parseJson(name, value);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new PoolRequestError('annotation', `annotation "${name}" must be a JSON list of strings, got ${value}`);
  return v as string[];
}

/** One annotation that took effect, for explaining the decision. */
export interface PoolAnnotationEffect {
  readonly source: 'namespace' | 'pod';
  readonly annotation: string;
  readonly value: string;
}

export interface ResolvedPoolRequest {
  readonly settings: PoolSettings;
  /** The annotations that were applied, in order: a later one overrides an earlier one of the same key. */
  readonly applied: readonly PoolAnnotationEffect[];
}

/** The CNI configuration's settings, then the namespace's annotations, then the pod's. */
export function resolvePoolRequest(
  config: PoolSettings,
  namespaceAnnotations: Readonly<Record<string, string>>,
  podAnnotations: Readonly<Record<string, string>>,
): ResolvedPoolRequest {
  let { assignIpv4, assignIpv6, ipv4Pools, ipv6Pools } = config;
  const applied: PoolAnnotationEffect[] = [];
  for (const [source, annotations] of [
    ['namespace', namespaceAnnotations],
    ['pod', podAnnotations],
  ] as const) {
    const v4 = annotations[PoolAnnotations.ipv4Pools];
    if (v4 !== undefined) {
      ipv4Pools = stringArray(PoolAnnotations.ipv4Pools, v4);
      applied.push({ source, annotation: PoolAnnotations.ipv4Pools, value: v4 });
    }
    const v6 = annotations[PoolAnnotations.ipv6Pools];
    if (v6 !== undefined) {
      ipv6Pools = stringArray(PoolAnnotations.ipv6Pools, v6);
      applied.push({ source, annotation: PoolAnnotations.ipv6Pools, value: v6 });
    }
    const families = annotations[PoolAnnotations.ipFamilies];
    if (families !== undefined) {
      const v = parseJson(PoolAnnotations.ipFamilies, families);
      if (!Array.isArray(v) || v.length === 0 || !v.every((f) => f === 'IPv4' || f === 'IPv6')) throw new PoolRequestError('annotation', `error parsing ipFamilies: ${families}`);
      assignIpv4 = (v as string[]).includes('IPv4');
      assignIpv6 = (v as string[]).includes('IPv6');
      applied.push({ source, annotation: PoolAnnotations.ipFamilies, value: families });
    }
  }
  if (!assignIpv4 && !assignIpv6) throw new PoolRequestError('annotation', 'no IP family requested: assign_ipv4 and assign_ipv6 are both off');
  return { settings: { assignIpv4, assignIpv6, ipv4Pools, ipv6Pools }, applied };
}

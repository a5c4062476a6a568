import { cidrsOverlap, overlapsLinkLocal, parseCidr } from '@atoll/ipmath';
import {
  PlainObject,
  readBoolean,
  readEnum,
  readInteger,
  readString,
  readStringList,
  rejectUnknownFields,
} from './field-types';
import {
  ASSIGNMENT_MODES,
  BLOCK_SIZE_RANGE,
  DEFAULT_ALLOWED_USES,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_NODE_SELECTOR,
  ENCAPSULATION_MODES,
  EncapsulationMode,
  parsePoolCidr,
} from './ippool';
import { nameOf, validateEnvelope } from './metadata';
import { indexPath, ProblemList } from './problem-list';
import { validateSelectorField } from './selector-field';
import { ValidationError } from './validation-error';

const IPV4_MAPPED = parseCidr('::ffff:0:0/96');

const POOL_SPEC_FIELDS = [
  'cidr',
  'blockSize',
  'ipipMode',
  'vxlanMode',
  'natOutgoing',
  'disabled',
  'disableBGPExport',
  'nodeSelector',
  'namespaceSelector',
  'allowedUses',
  'assignmentMode',
  // APIv1 leftovers Calico still decodes but refuses when set (mustBeNil / mustBeFalse).
  'ipip',
  'nat-outgoing',
] as const;

function encapsulationOn(mode: EncapsulationMode | undefined): boolean {
  return mode === 'Always' || mode === 'CrossSubnet';
}

/**
 * All problems of an IPPool, as Calico's clientv3 (validateAndSetDefaults) and v3 validator
 * (validateIPPoolSpec, field tags) would report them, plus strict decoding (unknown fields,
 * wrong types). Works on raw input and on defaulted pools alike: missing fields are judged by
 * their default values, so validateIPPool(x) and validateIPPool(applyIPPoolDefaults(x)) agree.
 * Never throws and never mutates. Checks that need other objects (overlap, updates, existing
 * blocks) are in ippool-existing.ts.
 */
export function validateIPPool(value: unknown): ValidationError[] {
  const problems = new ProblemList('IPPool', nameOf(value));
  const spec = validateEnvelope(problems, value, { allowStatus: true });
  if (spec) validatePoolSpec(problems, spec);
  return problems.problems;
}

function validatePoolSpec(problems: ProblemList, spec: PlainObject): void {
  rejectUnknownFields(problems, spec, 'spec', POOL_SPEC_FIELDS);

  const cidrText = readString(problems, spec, 'cidr', 'spec');
  const blockSize = readInteger(problems, spec, 'blockSize', 'spec');
  const ipipMode = readEnum(problems, spec, 'ipipMode', 'spec', ENCAPSULATION_MODES, { emptyMeansAbsent: true });
  const vxlanMode = readEnum(problems, spec, 'vxlanMode', 'spec', ENCAPSULATION_MODES, { emptyMeansAbsent: true });
  readBoolean(problems, spec, 'natOutgoing', 'spec');
  const disabled = readBoolean(problems, spec, 'disabled', 'spec') ?? false;
  const disableBGPExport = readBoolean(problems, spec, 'disableBGPExport', 'spec') ?? false;
  const nodeSelector = readString(problems, spec, 'nodeSelector', 'spec');
  const namespaceSelector = readString(problems, spec, 'namespaceSelector', 'spec');
  const allowedUses = readStringList(problems, spec, 'allowedUses', 'spec');
  readEnum(problems, spec, 'assignmentMode', 'spec', ASSIGNMENT_MODES);

  if (spec['ipip'] !== undefined && spec['ipip'] !== null) {
    problems.add('spec.ipip', 'is an APIv1 field and must not be set; use spec.ipipMode');
  }
  if (spec['nat-outgoing'] !== undefined && spec['nat-outgoing'] !== null && spec['nat-outgoing'] !== false) {
    problems.add('spec.nat-outgoing', 'is an APIv1 field and must not be set; use spec.natOutgoing', spec['nat-outgoing']);
  }

  if (nodeSelector) validateSelectorField(problems, nodeSelector, 'spec.nodeSelector');
  if (namespaceSelector) validateSelectorField(problems, namespaceSelector, 'spec.namespaceSelector');

  const isLoadBalancer = validateAllowedUses(problems, spec['allowedUses'], allowedUses);

  const ipipOn = encapsulationOn(ipipMode);
  const vxlanOn = encapsulationOn(vxlanMode);
  if (ipipOn && vxlanOn) {
    problems.add('spec.vxlanMode', 'Cannot enable both VXLAN and IPIP on the same IPPool', vxlanMode);
  }
  if (isLoadBalancer) {
    if (ipipOn || vxlanOn) {
      problems.add(
        ipipOn ? 'spec.ipipMode' : 'spec.vxlanMode',
        'Neither IPIPMode nor VXLANMode can be enabled on AllowedUses LoadBalancer IP pool',
      );
    }
    // Calico refuses disableBGPExport=true here but its message says "must have
    // DisableBGPExport set to true", the opposite of the check; ours says what is checked.
    if (disableBGPExport) {
      problems.add(
        'spec.disableBGPExport',
        'IP Pool with AllowedUse LoadBalancer must have DisableBGPExport set to false',
        true,
      );
    }
    const effectiveNodeSelector = nodeSelector ? nodeSelector : DEFAULT_NODE_SELECTOR;
    if (effectiveNodeSelector !== DEFAULT_NODE_SELECTOR) {
      problems.add(
        'spec.nodeSelector',
        'IP Pool with AllowedUse LoadBalancer must have node selector set to all()',
        nodeSelector,
      );
    }
  }

  const rawCidr = spec['cidr'];
  if (rawCidr === undefined || rawCidr === null || rawCidr === '') {
    problems.add('spec.cidr', 'IPPool CIDR must be specified');
    return;
  }
  if (cidrText === undefined) return; // wrong type, already reported
  const parsed = parsePoolCidr(cidrText);
  if (!parsed) {
    // Calico stops here: everything below depends on the CIDR.
    problems.add('spec.cidr', 'IPPool CIDR must be a valid subnet', cidrText);
    return;
  }
  const { cidr } = parsed;
  const effectiveBlockSize = blockSize === undefined || blockSize === 0 ? DEFAULT_BLOCK_SIZE[cidr.version] : blockSize;
  const range = BLOCK_SIZE_RANGE[cidr.version];
  if (effectiveBlockSize < range.min || effectiveBlockSize > range.max) {
    problems.add('spec.blockSize', `IPv${cidr.version} block size must be between ${range.min} and ${range.max}`, blockSize);
  }
  // A pool smaller than one block cannot be carved; a disabled pool is never carved.
  if (!disabled && cidr.prefix > effectiveBlockSize) {
    problems.add(
      'spec.cidr',
      'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.',
      cidrText,
    );
  }
  if (cidr.version === 6 && ipipOn) {
    problems.add('spec.ipipMode', 'IPIP is not supported on an IPv6 IP pool', ipipMode);
  }
  if (!parsed.strictlyMasked) {
    problems.add('spec.cidr', 'IPPool CIDR is not strictly masked', cidrText);
  }
  if (cidr.version === 6 && cidrsOverlap(cidr, IPV4_MAPPED)) {
    // Pods would get ::ffff:a.b.c.d addresses, which every IPv4 stack reads as IPv4.
    problems.add('spec.cidr', 'IPPool CIDR overlaps with the IPv4-mapped IPv6 range ::ffff:0:0/96; use the IPv4 CIDR instead', cidrText);
  }
  if (overlapsLinkLocal(cidr)) {
    problems.add(
      'spec.cidr',
      cidr.version === 4
        ? 'IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16'
        : 'IPPool CIDR overlaps with IPv6 Link Local range fe80::/10',
      cidrText,
    );
  }
}

/**
 * Checks each allowed use (Calico: "unknown use: X", "LoadBalancer cannot be used at the
 * same time as: X") and answers whether the pool is a LoadBalancer pool. A missing or empty
 * list means the default [Workload, Tunnel].
 */
function validateAllowedUses(problems: ProblemList, raw: unknown, uses: readonly string[] | undefined): boolean {
  const effective = uses && uses.length > 0 ? uses : DEFAULT_ALLOWED_USES;
  const isLoadBalancer = effective.includes('LoadBalancer');
  if (!Array.isArray(raw)) return isLoadBalancer;
  raw.forEach((use: unknown, i) => {
    if (typeof use !== 'string' || use === 'LoadBalancer') return;
    const field = indexPath('spec.allowedUses', i);
    if (use === 'Workload' || use === 'Tunnel') {
      if (isLoadBalancer) problems.add(field, `LoadBalancer cannot be used at the same time as: ${use}`);
    } else {
      problems.add(field, `unknown use: ${use}`);
    }
  });
  return isLoadBalancer;
}

import { applyIPPoolDefaults, IPPool, validateIPPool, ValidationError } from './index';

function pool(spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'p1' }): IPPool {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata, spec } as unknown as IPPool;
}

function problems(value: unknown): Array<[string, string]> {
  return validateIPPool(value).map((p) => [p.field, p.reason]);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

describe('applyIPPoolDefaults', () => {
  it('fills in every default for a minimal IPv4 pool', () => {
    expect(applyIPPoolDefaults(pool({ cidr: '10.0.0.0/16' })).spec).toEqual({
      cidr: '10.0.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      natOutgoing: false,
      disabled: false,
      disableBGPExport: false,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    });
  });

  it.each([
    ['uses block size 122 for an IPv6 pool', { cidr: 'fd00::/64' }, 'blockSize', 122],
    ['treats block size 0 (Go zero value) as unset', { cidr: '10.0.0.0/16', blockSize: 0 }, 'blockSize', 26],
    ['keeps an explicit block size', { cidr: '10.0.0.0/16', blockSize: 24 }, 'blockSize', 24],
    ['rewrites an empty node selector to all()', { cidr: '10.0.0.0/16', nodeSelector: '' }, 'nodeSelector', 'all()'],
    ['keeps a node selector', { cidr: '10.0.0.0/16', nodeSelector: '!all()' }, 'nodeSelector', '!all()'],
    ['defaults an empty allowedUses list', { cidr: '10.0.0.0/16', allowedUses: [] }, 'allowedUses', ['Workload', 'Tunnel']],
    ['keeps explicit allowed uses', { cidr: '10.0.0.0/16', allowedUses: ['Tunnel'] }, 'allowedUses', ['Tunnel']],
    ['rewrites an empty ipipMode to Never', { cidr: '10.0.0.0/16', ipipMode: '' }, 'ipipMode', 'Never'],
    ['keeps an explicit vxlanMode', { cidr: '10.0.0.0/16', vxlanMode: 'CrossSubnet' }, 'vxlanMode', 'CrossSubnet'],
    ['keeps Manual assignment', { cidr: '10.0.0.0/16', assignmentMode: 'Manual' }, 'assignmentMode', 'Manual'],
    ['writes an IPv6 CIDR in canonical form', { cidr: 'FD00:0:0:0::/122' }, 'cidr', 'fd00::/122'],
    ['keeps host bits so validation can still refuse them', { cidr: '10.0.0.5/24' }, 'cidr', '10.0.0.5/24'],
    ['leaves a CIDR that does not parse as written', { cidr: 'ten/8' }, 'cidr', 'ten/8'],
    ['guesses the IPv6 block size for an IPv6-looking CIDR that does not parse', { cidr: 'fd00::g/64' }, 'blockSize', 122],
  ])('%s', (_title, spec, field, expected) => {
    expect((applyIPPoolDefaults(pool(spec)).spec as unknown as Record<string, unknown>)[field]).toEqual(expected);
  });

  it('leaves namespaceSelector unset, since empty already means every namespace', () => {
    expect(applyIPPoolDefaults(pool({ cidr: '10.0.0.0/16' })).spec).not.toHaveProperty('namespaceSelector');
  });

  it('never mutates its input and never returns it', () => {
    const input = deepFreeze(pool({ cidr: 'fd00:0::/122', allowedUses: [] }, { name: 'p1', labels: { a: 'b' } }));
    const output = applyIPPoolDefaults(input);
    expect(output).not.toBe(input);
    expect(output.metadata).not.toBe(input.metadata);
    expect(input.spec).toEqual({ cidr: 'fd00:0::/122', allowedUses: [] });
  });

  it('returns an unchanged pool when applied to a defaulted pool', () => {
    const once = applyIPPoolDefaults(pool({ cidr: 'fd00:0::/122', nodeSelector: '' }));
    expect(applyIPPoolDefaults(once)).toEqual(once);
  });
});

describe('validateIPPool', () => {
  it.each([
    ['a minimal IPv4 pool', { cidr: '10.0.0.0/16' }],
    ['a minimal IPv6 pool', { cidr: 'fd00::/64' }],
    ['a pool exactly one block large', { cidr: '10.0.0.0/26' }],
    ['a pool smaller than a block when it is disabled', { cidr: '10.0.0.0/28', disabled: true }],
    ['a small pool with a matching small block size', { cidr: '10.0.0.0/30', blockSize: 32 }],
    ['block sizes at the ends of the IPv4 range', { cidr: '10.0.0.0/16', blockSize: 20 }],
    ['block sizes at the ends of the IPv6 range', { cidr: 'fd00::/64', blockSize: 128 }],
    ['VXLAN on an IPv6 pool', { cidr: 'fd00::/64', vxlanMode: 'Always' }],
    ['IPIP set to Never on an IPv6 pool', { cidr: 'fd00::/64', ipipMode: 'Never' }],
    ['IPIP with VXLAN explicitly Never', { cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'Never' }],
    ['a pool kept away from automatic assignment by nodeSelector !all()', { cidr: '10.0.0.0/16', nodeSelector: '!all()' }],
    ['a LoadBalancer pool with the default node selector', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'] }],
    ['a Workload-only pool', { cidr: '10.0.0.0/16', allowedUses: ['Workload'] }],
    ['a namespace selector', { cidr: '10.0.0.0/16', namespaceSelector: 'team == "a"' }],
    ['Manual assignment', { cidr: '10.0.0.0/16', assignmentMode: 'Manual' }],
    ['null fields, which mean unset', { cidr: '10.0.0.0/16', blockSize: null, nodeSelector: null }],
    ['the APIv1 nat-outgoing flag left false', { cidr: '10.0.0.0/16', 'nat-outgoing': false }],
  ])('accepts %s', (_title, spec) => {
    expect(problems(pool(spec))).toEqual([]);
  });

  it.each([
    ['refuses a missing CIDR', {}, 'spec.cidr', 'IPPool CIDR must be specified'],
    ['refuses an empty CIDR', { cidr: '' }, 'spec.cidr', 'IPPool CIDR must be specified'],
    ['refuses a bare address as CIDR', { cidr: '10.0.0.0' }, 'spec.cidr', 'IPPool CIDR must be a valid subnet'],
    ['refuses text that is not a CIDR', { cidr: '10.0.0.300/24' }, 'spec.cidr', 'IPPool CIDR must be a valid subnet'],
    ['refuses a CIDR with host bits set', { cidr: '10.0.0.5/24' }, 'spec.cidr', 'IPPool CIDR is not strictly masked'],
    ['refuses an IPv4 link-local pool', { cidr: '169.254.0.0/16' }, 'spec.cidr', 'IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16'],
    ['refuses an IPv4 pool containing link-local', { cidr: '169.0.0.0/8' }, 'spec.cidr', 'IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16'],
    ['refuses an IPv6 link-local pool', { cidr: 'fe80::/64' }, 'spec.cidr', 'IPPool CIDR overlaps with IPv6 Link Local range fe80::/10'],
    ['refuses an IPv4 block size below 20', { cidr: '10.0.0.0/8', blockSize: 19 }, 'spec.blockSize', 'IPv4 block size must be between 20 and 32'],
    ['refuses an IPv4 block size above 32', { cidr: '10.0.0.0/16', blockSize: 33 }, 'spec.blockSize', 'IPv4 block size must be between 20 and 32'],
    ['refuses an IPv6 block size below 116', { cidr: 'fd00::/64', blockSize: 115 }, 'spec.blockSize', 'IPv6 block size must be between 116 and 128'],
    ['refuses an IPv6 block size above 128', { cidr: 'fd00::/64', blockSize: 129 }, 'spec.blockSize', 'IPv6 block size must be between 116 and 128'],
    ['refuses an IPv6 block size on an IPv4 pool', { cidr: '10.0.0.0/16', blockSize: 122 }, 'spec.blockSize', 'IPv4 block size must be between 20 and 32'],
    [
      'refuses an enabled pool smaller than one block',
      { cidr: '10.0.0.0/28' },
      'spec.cidr',
      'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.',
    ],
    ['refuses IPIP on an IPv6 pool', { cidr: 'fd00::/64', ipipMode: 'CrossSubnet' }, 'spec.ipipMode', 'IPIP is not supported on an IPv6 IP pool'],
    ['refuses IPIP together with VXLAN', { cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }, 'spec.vxlanMode', 'Cannot enable both VXLAN and IPIP on the same IPPool'],
    ['refuses an ipipMode Calico does not know', { cidr: '10.0.0.0/16', ipipMode: 'always' }, 'spec.ipipMode', 'must be one of Never, Always, CrossSubnet'],
    ['refuses a vxlanMode Calico does not know', { cidr: '10.0.0.0/16', vxlanMode: 'Sometimes' }, 'spec.vxlanMode', 'must be one of Never, Always, CrossSubnet'],
    ['refuses an unknown assignmentMode', { cidr: '10.0.0.0/16', assignmentMode: 'Auto' }, 'spec.assignmentMode', 'must be one of Automatic, Manual'],
    ['refuses an empty assignmentMode', { cidr: '10.0.0.0/16', assignmentMode: '' }, 'spec.assignmentMode', 'must be one of Automatic, Manual'],
    ['refuses an unknown allowed use', { cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Pods'] }, 'spec.allowedUses[1]', 'unknown use: Pods'],
    [
      'refuses LoadBalancer combined with Workload',
      { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer', 'Workload'] },
      'spec.allowedUses[1]',
      'LoadBalancer cannot be used at the same time as: Workload',
    ],
    [
      'refuses Tunnel combined with LoadBalancer',
      { cidr: '10.0.0.0/16', allowedUses: ['Tunnel', 'LoadBalancer'] },
      'spec.allowedUses[0]',
      'LoadBalancer cannot be used at the same time as: Tunnel',
    ],
    [
      'refuses VXLAN on a LoadBalancer pool',
      { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], vxlanMode: 'Always' },
      'spec.vxlanMode',
      'Neither IPIPMode nor VXLANMode can be enabled on AllowedUses LoadBalancer IP pool',
    ],
    [
      'refuses IPIP on a LoadBalancer pool',
      { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], ipipMode: 'Always' },
      'spec.ipipMode',
      'Neither IPIPMode nor VXLANMode can be enabled on AllowedUses LoadBalancer IP pool',
    ],
    [
      'refuses disableBGPExport on a LoadBalancer pool',
      { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], disableBGPExport: true },
      'spec.disableBGPExport',
      'IP Pool with AllowedUse LoadBalancer must have DisableBGPExport set to false',
    ],
    [
      'refuses a node selector other than all() on a LoadBalancer pool',
      { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], nodeSelector: 'zone == "a"' },
      'spec.nodeSelector',
      'IP Pool with AllowedUse LoadBalancer must have node selector set to all()',
    ],
    ['refuses an unknown spec field', { cidr: '10.0.0.0/16', blocksize: 26 }, 'spec.blocksize', 'unknown field "blocksize"'],
    ['refuses a block size written as a string', { cidr: '10.0.0.0/16', blockSize: '26' }, 'spec.blockSize', 'must be an integer'],
    ['refuses a fractional block size', { cidr: '10.0.0.0/16', blockSize: 26.5 }, 'spec.blockSize', 'must be an integer'],
    ['refuses a CIDR written as a number', { cidr: 10 }, 'spec.cidr', 'must be a string'],
    ['refuses YAML 1.1 "yes" for a boolean', { cidr: '10.0.0.0/16', natOutgoing: 'yes' }, 'spec.natOutgoing', 'must be true or false'],
    ['refuses allowedUses that is not a list', { cidr: '10.0.0.0/16', allowedUses: 'Workload' }, 'spec.allowedUses', 'must be a list of strings'],
    ['refuses a non-string allowed use', { cidr: '10.0.0.0/16', allowedUses: [1] }, 'spec.allowedUses[0]', 'must be a string'],
    ['refuses the APIv1 ipip section', { cidr: '10.0.0.0/16', ipip: { enabled: true } }, 'spec.ipip', 'is an APIv1 field and must not be set; use spec.ipipMode'],
    ['refuses the APIv1 nat-outgoing flag', { cidr: '10.0.0.0/16', 'nat-outgoing': true }, 'spec.nat-outgoing', 'is an APIv1 field and must not be set; use spec.natOutgoing'],
  ])('%s', (_title, spec, field, reason) => {
    expect(problems(pool(spec))).toContainEqual([field, reason]);
  });

  it.each([
    ['nodeSelector', 'zone == ', 'position 8'],
    ['namespaceSelector', 'has(', 'position 4'],
  ])('refuses a %s that does not parse, naming the field and the position', (key, selector, position) => {
    const [problem, ...rest] = validateIPPool(pool({ cidr: '10.0.0.0/16', [key]: selector }));
    expect(rest).toEqual([]);
    expect(problem?.field).toBe(`spec.${key}`);
    expect(problem?.reason).toContain(position);
    expect(problem?.reason).toContain(JSON.stringify(selector));
  });

  it('reports every problem of a pool, not just the first', () => {
    expect(problems(pool({ cidr: 'fd00::1/64', ipipMode: 'Always', blockSize: 100 }))).toEqual([
      ['spec.blockSize', 'IPv6 block size must be between 116 and 128'],
      ['spec.ipipMode', 'IPIP is not supported on an IPv6 IP pool'],
      ['spec.cidr', 'IPPool CIDR is not strictly masked'],
    ]);
  });

  it('reports a problem as a ValidationError naming kind, resource, field and value', () => {
    const [problem] = validateIPPool(pool({ cidr: '10.0.0.0/16', blockSize: 40 }, { name: 'p2' }));
    expect(problem).toBeInstanceOf(ValidationError);
    expect(problem).toMatchObject({
      name: 'ValidationError',
      kind: 'IPPool',
      resourceName: 'p2',
      field: 'spec.blockSize',
      reason: 'IPv4 block size must be between 20 and 32',
      value: 40,
      detail: 'spec.blockSize: IPv4 block size must be between 20 and 32, got 40',
      message: 'IPPool "p2": spec.blockSize: IPv4 block size must be between 20 and 32, got 40',
    });
  });

  it.each([
    ['a missing name', {}, 'metadata.name', 'name is required'],
    ['an empty name', { name: '' }, 'metadata.name', 'name is required'],
    [
      'upper case in the name',
      { name: 'Pool1' },
      'metadata.name',
      "name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)",
    ],
    ['an underscore in the name', { name: 'pool_1' }, 'metadata.name', expect.stringContaining("lower case alphanumeric characters, '-' or '.'")],
    ['a name longer than 253 bytes', { name: 'a'.repeat(254) }, 'metadata.name', 'name is too long by 1 bytes'],
    ['a namespace on a cluster-scoped resource', { name: 'p1', namespace: 'default' }, 'metadata.namespace', 'IPPool is cluster-scoped: remove the namespace'],
    ['an unknown metadata field', { name: 'p1', owner: 'me' }, 'metadata.owner', 'unknown field "owner"'],
    ['a label value that is not a string', { name: 'p1', labels: { zone: 1 } }, 'metadata.labels["zone"]', 'must be a string'],
    ['an invalid label key', { name: 'p1', labels: { 'bad key': 'x' } }, 'metadata.labels["bad key"]', expect.stringContaining('invalid label key')],
  ])('refuses %s', (_title, metadata, field, reason) => {
    expect(problems(pool({ cidr: '10.0.0.0/16' }, metadata))).toContainEqual([field, reason]);
  });

  it.each([
    ['a wrong apiVersion', { apiVersion: 'crd.projectcalico.org/v1' }, 'apiVersion', 'must be "projectcalico.org/v3"'],
    ['a missing apiVersion', { apiVersion: undefined }, 'apiVersion', 'must be "projectcalico.org/v3"'],
    ['another kind', { kind: 'IPReservation' }, 'kind', 'must be "IPPool"'],
    ['an unknown top-level field', { extra: 1 }, 'extra', 'unknown field "extra"'],
    ['a spec that is not an object', { spec: 'cidr' }, 'spec', 'must be an object'],
  ])('refuses %s', (_title, override, field, reason) => {
    expect(problems({ ...pool({ cidr: '10.0.0.0/16' }), ...override })).toContainEqual([field, reason]);
  });

  it('accepts the status Calico v3.32+ writes', () => {
    const withStatus = { ...pool({ cidr: '10.0.0.0/16' }), status: { conditions: [{ type: 'Allocatable', status: 'True' }] } };
    expect(problems(withStatus)).toEqual([]);
  });

  it('judges missing fields by their defaults, so raw and defaulted pools get the same verdict', () => {
    const raw = pool({ cidr: '10.0.0.0/28', allowedUses: [], nodeSelector: '' });
    expect(problems(applyIPPoolDefaults(raw))).toEqual(problems(raw));
  });

  it('never mutates the pool it validates', () => {
    const input = deepFreeze(pool({ cidr: '10.0.0.5/24', blockSize: 0, allowedUses: [] }));
    expect(() => validateIPPool(input)).not.toThrow();
  });
});

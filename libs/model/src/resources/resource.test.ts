import fc from 'fast-check';
import {
  applyDefaults,
  applyIPPoolDefaults,
  assertValidResource,
  IPPool,
  Resource,
  validateIPPool,
  validateResource,
  ValidationError,
} from './index';

const meta = { name: 'x1' };

describe('validateResource', () => {
  it.each([
    ['IPPool', { cidr: '10.0.0.0/16' }],
    ['IPReservation', { reservedCIDRs: ['10.0.0.1'] }],
    ['IPAMConfiguration', { strictAffinity: true }],
    ['Node', {}],
  ])('validates a resource of kind %s by its own rules', (kind, spec) => {
    const value = { apiVersion: 'projectcalico.org/v3', kind, metadata: { name: kind === 'IPAMConfiguration' ? 'default' : 'x1' }, spec };
    expect(validateResource(value)).toEqual([]);
    expect(validateResource({ ...value, spec: { ...spec, bogus: 1 } }).map((p) => p.field)).toEqual(['spec.bogus']);
  });

  it.each([
    ['an unknown kind', { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: meta }, 'BGPPeer'],
    ['a missing kind', { apiVersion: 'projectcalico.org/v3', metadata: meta }, 'resource'],
    ['something that is not an object', 'IPPool', 'resource'],
  ])('refuses %s, listing the kinds it knows', (_title, value, kind) => {
    const [problem, ...rest] = validateResource(value);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ kind, field: 'kind', reason: 'must be one of IPPool, IPReservation, IPAMConfiguration, Node' });
  });
});

describe('assertValidResource', () => {
  it('throws the first problem as a ValidationError', () => {
    const value = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: '10.0.0.1/24' } };
    expect(() => assertValidResource(value)).toThrow(ValidationError);
    expect(() => assertValidResource(value)).toThrow('IPPool "p1": spec.cidr: IPPool CIDR is not strictly masked, got "10.0.0.1/24"');
  });

  it('returns quietly for a valid resource', () => {
    expect(() =>
      assertValidResource({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n1' }, spec: {} }),
    ).not.toThrow();
  });
});

describe('applyDefaults', () => {
  it.each([
    ['IPPool', { cidr: '10.0.0.0/16' }, { blockSize: 26, nodeSelector: 'all()' }],
    ['IPReservation', {}, { reservedCIDRs: [] }],
    ['IPAMConfiguration', {}, { autoAllocateBlocks: true }],
    ['Node', {}, {}],
  ])("applies the %s kind's defaults", (kind, spec, expected) => {
    const resource = { apiVersion: 'projectcalico.org/v3', kind, metadata: meta, spec } as unknown as Resource;
    expect(applyDefaults(resource).spec).toMatchObject(expected);
  });
});

// Random pool specs: a mix of valid and invalid values for every field, including wrong
// types, so the properties cover what a user can write in a file.
const cidrArb = fc.oneof(
  fc.constantFrom('10.0.0.0/16', '10.0.0.5/24', '192.168.0.0/30', '169.254.0.0/16', 'fd00::/64', 'FD00:0::/122', 'fe80::/64', 'fd00::1/120'),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, prefix]) => `${ip}/${prefix}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, prefix]) => `${ip}/${prefix}`),
  fc.string(),
  fc.constant(''),
  fc.integer(),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const poolSpecArb = fc.record(
  {
    cidr: cidrArb,
    blockSize: optional(fc.oneof(fc.integer({ min: -5, max: 140 }), fc.constant(0), fc.constant('26'), fc.double())),
    ipipMode: optional(fc.constantFrom('Never', 'Always', 'CrossSubnet', '', 'always', 7)),
    vxlanMode: optional(fc.constantFrom('Never', 'Always', 'CrossSubnet', '', null)),
    natOutgoing: optional(fc.oneof(fc.boolean(), fc.constant('yes'))),
    disabled: optional(fc.oneof(fc.boolean(), fc.constant(null))),
    disableBGPExport: optional(fc.boolean()),
    nodeSelector: optional(fc.oneof(fc.constantFrom('', 'all()', '!all()', 'zone == "a"', 'zone ==', 'has('), fc.string())),
    namespaceSelector: optional(fc.oneof(fc.constantFrom('', 'team in {"a"}', '(('), fc.string())),
    allowedUses: optional(
      fc.oneof(
        fc.subarray(['Workload', 'Tunnel', 'LoadBalancer', 'Pods']),
        fc.constant([]),
        fc.constant('Workload'),
        fc.array(fc.anything(), { maxLength: 3 }),
      ),
    ),
    assignmentMode: optional(fc.constantFrom('Automatic', 'Manual', '', 'Auto')),
    extra: optional(fc.string()),
  },
  { requiredKeys: ['cidr'] },
);
const poolArb = fc
  .tuple(poolSpecArb, fc.oneof(fc.constant('p1'), fc.string()))
  .map(([spec, name]) => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec }) as unknown as IPPool);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

const asPairs = (problems: readonly ValidationError[]) => problems.map((p) => [p.field, p.reason]);

describe('IPPool properties', () => {
  it('applyDefaults is idempotent: a defaulted pool re-defaulted is unchanged', () => {
    fc.assert(
      fc.property(poolArb, (pool) => {
        const once = applyIPPoolDefaults(pool);
        expect(applyIPPoolDefaults(once)).toEqual(once);
      }),
    );
  });

  it('applyDefaults never mutates its input', () => {
    fc.assert(
      fc.property(poolArb, (pool) => {
        const snapshot = structuredClone(pool);
        applyIPPoolDefaults(deepFreeze(pool));
        expect(pool).toEqual(snapshot);
      }),
    );
  });

  it('validate(applyDefaults(x)) never throws, and the throwing form throws only ValidationError', () => {
    fc.assert(
      fc.property(poolArb, (pool) => {
        const defaulted = deepFreeze(applyIPPoolDefaults(pool));
        expect(Array.isArray(validateIPPool(defaulted))).toBe(true);
        try {
          assertValidResource(defaulted);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
        }
      }),
    );
  });

  it('validation gives the same verdict before and after defaulting', () => {
    fc.assert(
      fc.property(poolArb, (pool) => {
        expect(asPairs(validateIPPool(applyIPPoolDefaults(pool)))).toEqual(asPairs(validateIPPool(pool)));
      }),
    );
  });

  it('validateResource never throws, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ apiVersion: fc.anything(), kind: fc.constantFrom('IPPool', 'IPReservation', 'IPAMConfiguration', 'Node'), metadata: fc.anything(), spec: fc.anything() }),
        ),
        (value) => {
          expect(Array.isArray(validateResource(value))).toBe(true);
        },
      ),
    );
  });
});

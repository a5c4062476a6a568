import { applyIPAMConfigurationDefaults, IPAMConfiguration, validateIPAMConfiguration } from './index';

function config(spec: Record<string, unknown>, name = 'default'): IPAMConfiguration {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfiguration', metadata: { name }, spec } as unknown as IPAMConfiguration;
}

function problems(value: unknown): Array<[string, string]> {
  return validateIPAMConfiguration(value).map((p) => [p.field, p.reason]);
}

describe('validateIPAMConfiguration', () => {
  it.each([
    ['an empty spec (every setting defaulted)', {}],
    ['strict affinity with a block limit', { strictAffinity: true, maxBlocksPerHost: 4 }],
    ['strict affinity without automatic block allocation', { strictAffinity: true, autoAllocateBlocks: false }],
    ['the largest block limit', { strictAffinity: true, maxBlocksPerHost: 1_000_000 }],
    ['the longest cooldown', { ipCooldownSeconds: 1200 }],
    ['KubeVirt persistence Enabled', { kubeVirtVMAddressPersistence: 'Enabled' }],
    ['KubeVirt persistence Disabled', { kubeVirtVMAddressPersistence: 'Disabled' }],
    ['a block limit of 0 without strict affinity (0 means the built-in limit)', { maxBlocksPerHost: 0 }],
  ])('accepts %s', (_title, spec) => {
    expect(problems(config(spec))).toEqual([]);
  });

  it.each([
    ['a name other than default', {}, 'cluster', 'metadata.name', 'Cannot create an IPAMConfiguration resource with a name other than "default"'],
    ['a negative block limit', { strictAffinity: true, maxBlocksPerHost: -1 }, 'default', 'spec.maxBlocksPerHost', 'must be between 0 and 1000000'],
    ['a block limit above a million', { strictAffinity: true, maxBlocksPerHost: 1_000_001 }, 'default', 'spec.maxBlocksPerHost', 'must be between 0 and 1000000'],
    ['a fractional block limit', { strictAffinity: true, maxBlocksPerHost: 2.5 }, 'default', 'spec.maxBlocksPerHost', 'must be an integer'],
    ['a block limit written as a string', { maxBlocksPerHost: '4' }, 'default', 'spec.maxBlocksPerHost', 'must be an integer'],
    ['a negative cooldown', { ipCooldownSeconds: -1 }, 'default', 'spec.ipCooldownSeconds', 'must be between 0 and 1200'],
    ['a cooldown above 1200 seconds', { ipCooldownSeconds: 1201 }, 'default', 'spec.ipCooldownSeconds', 'must be between 0 and 1200'],
    ['an unknown persistence value', { kubeVirtVMAddressPersistence: 'On' }, 'default', 'spec.kubeVirtVMAddressPersistence', 'must be one of Enabled, Disabled'],
    ['a strictAffinity that is not a boolean', { strictAffinity: 'true' }, 'default', 'spec.strictAffinity', 'must be true or false'],
    [
      'disabling both strict affinity and automatic block allocation',
      { strictAffinity: false, autoAllocateBlocks: false },
      'default',
      'spec.autoAllocateBlocks',
      "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time",
    ],
    [
      'disabling automatic block allocation when strict affinity is left at its default (false)',
      { autoAllocateBlocks: false },
      'default',
      'spec.autoAllocateBlocks',
      "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time",
    ],
    [
      'a block limit without strict affinity',
      { maxBlocksPerHost: 4 },
      'default',
      'spec.maxBlocksPerHost',
      'MaxBlocksPerHost requires StrictAffinity to be enabled',
    ],
    ['an unknown spec field', { strict_affinity: true }, 'default', 'spec.strict_affinity', 'unknown field "strict_affinity"'],
  ])('refuses %s', (_title, spec, name, field, reason) => {
    expect(problems(config(spec, name))).toContainEqual([field, reason]);
  });
});

describe('applyIPAMConfigurationDefaults', () => {
  it("fills in Calico's defaults for missing settings", () => {
    expect(applyIPAMConfigurationDefaults(config({})).spec).toEqual({
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
      kubeVirtVMAddressPersistence: 'Enabled',
      ipCooldownSeconds: 0,
    });
  });

  it('keeps explicit settings and is idempotent', () => {
    const once = applyIPAMConfigurationDefaults(config({ strictAffinity: true, autoAllocateBlocks: false, maxBlocksPerHost: 3 }));
    expect(once.spec).toMatchObject({ strictAffinity: true, autoAllocateBlocks: false, maxBlocksPerHost: 3 });
    expect(applyIPAMConfigurationDefaults(once)).toEqual(once);
  });

  it('never mutates its input', () => {
    const input = Object.freeze(config(Object.freeze({})));
    applyIPAMConfigurationDefaults(input);
    expect(input.spec).toEqual({});
  });
});

import { readBoolean, readEnum, readInteger, rejectUnknownFields } from './field-types';
import { ApiVersion, nameOf, ObjectMeta, validateEnvelope } from './metadata';
import { ProblemList } from './problem-list';
import { ValidationError } from './validation-error';

/** The IPAMConfiguration singleton's only allowed name. */
export const IPAM_CONFIGURATION_NAME = 'default';

export type VMAddressPersistence = 'Enabled' | 'Disabled';
export const VM_ADDRESS_PERSISTENCE_VALUES: readonly VMAddressPersistence[] = ['Enabled', 'Disabled'];

export const MAX_BLOCKS_PER_HOST_LIMIT = 1_000_000;
export const IP_COOLDOWN_SECONDS_LIMIT = 1200;

export interface IPAMConfigurationSpec {
  /** When true, a host never borrows addresses from another host's block. */
  strictAffinity?: boolean;
  /** When false, hosts do not claim new blocks. */
  autoAllocateBlocks?: boolean;
  /** 0 means the built-in limit (20 blocks per host). */
  maxBlocksPerHost?: number;
  kubeVirtVMAddressPersistence?: VMAddressPersistence;
  /** Seconds a released address stays unassignable. */
  ipCooldownSeconds?: number;
}

export interface IPAMConfiguration {
  apiVersion: ApiVersion;
  kind: 'IPAMConfiguration';
  metadata: ObjectMeta;
  spec: IPAMConfigurationSpec;
}

export interface DefaultedIPAMConfiguration extends IPAMConfiguration {
  spec: Required<IPAMConfigurationSpec>;
}

/**
 * Calico's defaults for a missing setting: strictAffinity false, autoAllocateBlocks true,
 * maxBlocksPerHost 0, kubeVirtVMAddressPersistence Enabled (Calico's code comment; the docs
 * table says Disabled, the code wins), ipCooldownSeconds 0. Pure.
 */
export function applyIPAMConfigurationDefaults(config: IPAMConfiguration): DefaultedIPAMConfiguration {
  const copy = structuredClone(config);
  const spec = copy.spec ?? {};
  return {
    ...copy,
    spec: {
      ...spec,
      strictAffinity: spec.strictAffinity ?? false,
      autoAllocateBlocks: spec.autoAllocateBlocks ?? true,
      maxBlocksPerHost: spec.maxBlocksPerHost ?? 0,
      kubeVirtVMAddressPersistence: spec.kubeVirtVMAddressPersistence ?? 'Enabled',
      ipCooldownSeconds: spec.ipCooldownSeconds ?? 0,
    },
  };
}

/**
 * All problems of an IPAMConfiguration: the name must be "default", value ranges, and the
 * two cross-field rules Calico's SetIPAMConfig enforces (missing fields judged by their
 * defaults). Never throws.
 */
export function validateIPAMConfiguration(value: unknown): ValidationError[] {
  const problems = new ProblemList('IPAMConfiguration', nameOf(value));
  const spec = validateEnvelope(problems, value, {
    allowStatus: false,
    checkName: (name) =>
      name === IPAM_CONFIGURATION_NAME
        ? []
        : [`Cannot create an IPAMConfiguration resource with a name other than "${IPAM_CONFIGURATION_NAME}"`],
  });
  if (!spec) return problems.problems;
  rejectUnknownFields(problems, spec, 'spec', [
    'strictAffinity',
    'autoAllocateBlocks',
    'maxBlocksPerHost',
    'kubeVirtVMAddressPersistence',
    'ipCooldownSeconds',
  ]);
  const strictAffinity = readBoolean(problems, spec, 'strictAffinity', 'spec') ?? false;
  const autoAllocateBlocks = readBoolean(problems, spec, 'autoAllocateBlocks', 'spec') ?? true;
  const maxBlocksPerHost = readInteger(problems, spec, 'maxBlocksPerHost', 'spec');
  readEnum(problems, spec, 'kubeVirtVMAddressPersistence', 'spec', VM_ADDRESS_PERSISTENCE_VALUES);
  const cooldown = readInteger(problems, spec, 'ipCooldownSeconds', 'spec');

  if (maxBlocksPerHost !== undefined && (maxBlocksPerHost < 0 || maxBlocksPerHost > MAX_BLOCKS_PER_HOST_LIMIT)) {
    problems.add('spec.maxBlocksPerHost', `must be between 0 and ${MAX_BLOCKS_PER_HOST_LIMIT}`, maxBlocksPerHost);
  }
  if (cooldown !== undefined && (cooldown < 0 || cooldown > IP_COOLDOWN_SECONDS_LIMIT)) {
    problems.add('spec.ipCooldownSeconds', `must be between 0 and ${IP_COOLDOWN_SECONDS_LIMIT}`, cooldown);
  }
  if (!strictAffinity && !autoAllocateBlocks) {
    problems.add('spec.autoAllocateBlocks', "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time");
  }
  if (maxBlocksPerHost !== undefined && maxBlocksPerHost > 0 && !strictAffinity) {
    problems.add('spec.maxBlocksPerHost', 'MaxBlocksPerHost requires StrictAffinity to be enabled');
  }
  return problems.problems;
}

import {
  API_VERSION,
  applyIPAMConfigurationDefaults,
  DEFAULT_IPAM_CONFIG,
  decodeIpamConfig,
  IPAM_CONFIGURATION_NAME,
  IPAMConfiguration,
  ipamConfigKey,
  IpamConfig,
  RecordDecodeError,
} from '@atoll/model';
import { Datastore, Kv, StoreConflictError } from '@atoll/store';
import { validateIpamConfig } from '../config';
import { IpamError, isIpamError } from '../errors';
import type { Ipam } from '../ipam';
import { commitChanges, configChange, io } from '../io';
import { retryOnConflict } from '../retry';
import { alreadyExists, updateConflict } from './resource-errors';

// The IPAMConfiguration resource is a view of the IPAM library's config singleton.
//
// Calico has two places for this configuration in etcd mode: the v3 resource key
// (/calico/resources/v3/projectcalico.org/ipamconfigurations/default), which its resource
// client writes, and the IPAM library's own record (/calico/ipam/v2/config, snake_case,
// every field omitempty), which `calicoctl ipam configure` writes and the allocation code
// reads. Only the second one changes how addresses are assigned, so a resource written to
// the first would be accepted and then ignored. Atoll therefore keeps ONE copy: applying
// the resource writes the library record, getting it renders that record as a resource.
//
// Consequences:
// - the only name is "default"; there is no uid or creationTimestamp (the record has no
//   metadata), and labels/annotations given on apply are not kept;
// - metadata.resourceVersion is the record's mod revision, absent while nothing is stored
//   (the defaults are in effect);
// - delete resets to Calico's defaults (DEFAULT_IPAM_CONFIG): the configuration cannot be
//   absent, only default.

type ConfigEngine = Pick<Ipam, 'setIPAMConfig'>;

function toIpamConfig(resource: IPAMConfiguration): IpamConfig {
  const spec = applyIPAMConfigurationDefaults(resource).spec;
  return {
    strictAffinity: spec.strictAffinity,
    autoAllocateBlocks: spec.autoAllocateBlocks,
    maxBlocksPerHost: spec.maxBlocksPerHost,
    kubeVirtVMAddressPersistence: spec.kubeVirtVMAddressPersistence,
    ipCooldownSeconds: spec.ipCooldownSeconds,
  };
}

/** The config as a v3 resource; `revision` undefined when nothing is stored. */
export function renderIpamConfiguration(config: IpamConfig, revision: bigint | undefined): IPAMConfiguration {
  return {
    kind: 'IPAMConfiguration',
    apiVersion: API_VERSION,
    metadata: {
      name: IPAM_CONFIGURATION_NAME,
      ...(revision !== undefined && { resourceVersion: revision.toString() }),
    },
    spec: {
      strictAffinity: config.strictAffinity,
      autoAllocateBlocks: config.autoAllocateBlocks,
      maxBlocksPerHost: config.maxBlocksPerHost,
      kubeVirtVMAddressPersistence: config.kubeVirtVMAddressPersistence,
      ipCooldownSeconds: config.ipCooldownSeconds,
    },
  } as IPAMConfiguration;
}

function sameConfig(a: IpamConfig, b: IpamConfig): boolean {
  return (Object.keys(a) as (keyof IpamConfig)[]).every((k) => a[k] === b[k]);
}

/** The engine's config rules ('config-invalid') reported like every other resource problem. */
function asInvalidArgument(err: unknown): unknown {
  return isIpamError(err, 'config-invalid') ? new IpamError('invalid-argument', err.message, { cause: err }) : err;
}

export class IpamConfigurationResources {
  constructor(
    private readonly ds: Datastore,
    private readonly engine: ConfigEngine,
  ) {}

  private async read(): Promise<{ kv: Kv | undefined; config: IpamConfig }> {
    const kv = await io(() => this.ds.get(ipamConfigKey()));
    if (!kv) return { kv, config: DEFAULT_IPAM_CONFIG };
    try {
      return { kv, config: decodeIpamConfig(kv.value) };
    } catch (err) {
      if (err instanceof RecordDecodeError) {
        throw new IpamError('internal', `stored IPAM configuration at ${kv.key} cannot be read: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  /** The configuration in effect (the stored record, or the defaults when none is stored). */
  async get(): Promise<IPAMConfiguration> {
    const { kv, config } = await this.read();
    return renderIpamConfiguration(config, kv?.revision);
  }

  /**
   * Without an expected revision: the engine's setIPAMConfig (cross-field rules, a compare
   * on the revision it read, no write when nothing changes). With one: the write compares
   * exactly that revision, which the engine's API cannot express, so it goes through the
   * engine's transaction helper here.
   */
  async apply(resource: IPAMConfiguration, expected: bigint | undefined): Promise<IPAMConfiguration> {
    const next = toIpamConfig(resource);
    if (expected === undefined) {
      await this.engine.setIPAMConfig(next).catch((err: unknown) => {
        throw asInvalidArgument(err);
      });
      return this.get();
    }
    const { kv, config } = await this.read();
    if (!kv || kv.revision !== expected) throw updateConflict('IPAMConfiguration', IPAM_CONFIGURATION_NAME);
    if (sameConfig(config, next)) return renderIpamConfiguration(config, kv.revision);
    return this.write(expected, next);
  }

  /** Stores a configuration where none is stored yet; 'already-exists' otherwise. */
  async create(resource: IPAMConfiguration): Promise<IPAMConfiguration> {
    return this.write('absent', toIpamConfig(resource));
  }

  /** Writes Calico's defaults over what is stored; returns what was in effect before. */
  async reset(): Promise<IPAMConfiguration> {
    return retryOnConflict(async () => {
      const { kv, config } = await this.read();
      if (kv && !sameConfig(config, DEFAULT_IPAM_CONFIG)) {
        await commitChanges(this.ds, [configChange(kv, DEFAULT_IPAM_CONFIG)]);
      }
      return renderIpamConfiguration(config, kv?.revision);
    });
  }

  private async write(expect: bigint | 'absent', next: IpamConfig): Promise<IPAMConfiguration> {
    try {
      validateIpamConfig(next);
    } catch (err) {
      throw asInvalidArgument(err);
    }
    try {
      const revision = await commitChanges(this.ds, [configChange(expect === 'absent' ? undefined : { revision: expect }, next)]);
      return renderIpamConfiguration(next, revision);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      throw expect === 'absent'
        ? alreadyExists('IPAMConfiguration', IPAM_CONFIGURATION_NAME)
        : updateConflict('IPAMConfiguration', IPAM_CONFIGURATION_NAME, err);
    }
  }
}

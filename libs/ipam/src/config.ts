import { DEFAULT_IPAM_CONFIG, IpamConfig } from '@atoll/model';
import { Datastore } from '@atoll/store';
import { IpamError, Messages } from './errors';
import { commitChanges, configChange, IpamRecords } from './io';
import { retryOnConflict } from './retry';

export const MAX_BLOCKS_PER_HOST_LIMIT = 1_000_000;
export const IP_COOLDOWN_SECONDS_LIMIT = 1200;

/** Calico's SetIPAMConfig rules plus the v3 IPAMConfiguration ranges. */
export function validateIpamConfig(c: IpamConfig): void {
  if (!c.strictAffinity && !c.autoAllocateBlocks) throw new IpamError('config-invalid', Messages.bothDisabled);
  if (c.maxBlocksPerHost > 0 && !c.strictAffinity) throw new IpamError('config-invalid', Messages.maxBlocksNeedsStrict);
  if (!Number.isInteger(c.maxBlocksPerHost) || c.maxBlocksPerHost < 0 || c.maxBlocksPerHost > MAX_BLOCKS_PER_HOST_LIMIT) {
    throw new IpamError('config-invalid', `maxBlocksPerHost must be an integer between 0 and ${MAX_BLOCKS_PER_HOST_LIMIT}, got ${c.maxBlocksPerHost}`);
  }
  if (!Number.isInteger(c.ipCooldownSeconds) || c.ipCooldownSeconds < 0 || c.ipCooldownSeconds > IP_COOLDOWN_SECONDS_LIMIT) {
    throw new IpamError('config-invalid', `ipCooldownSeconds must be an integer between 0 and ${IP_COOLDOWN_SECONDS_LIMIT}, got ${c.ipCooldownSeconds}`);
  }
  if (c.kubeVirtVMAddressPersistence !== 'Enabled' && c.kubeVirtVMAddressPersistence !== 'Disabled') {
    throw new IpamError('config-invalid', `kubeVirtVMAddressPersistence must be Enabled or Disabled, got ${String(c.kubeVirtVMAddressPersistence)}`);
  }
}

/** The stored config, or Calico's defaults when none is stored (not written: master's behaviour). */
export async function getIpamConfig(ds: Datastore): Promise<IpamConfig> {
  return (await new IpamRecords(ds).getConfig())?.value ?? DEFAULT_IPAM_CONFIG;
}

function sameConfig(a: IpamConfig, b: IpamConfig): boolean {
  return (Object.keys(a) as (keyof IpamConfig)[]).every((k) => a[k] === b[k]);
}

/**
 * Writes the config after validating it. Unlike Calico's unconditional Put, the write
 * compares the revision it read, so two operators changing different fields at once
 * cannot silently undo each other: the later one re-reads. `update` gets the current
 * config and returns the new one.
 */
export async function updateIpamConfig(ds: Datastore, update: (current: IpamConfig) => IpamConfig): Promise<IpamConfig> {
  const records = new IpamRecords(ds);
  return retryOnConflict(async () => {
    const read = await records.getConfig();
    const current = read?.value ?? DEFAULT_IPAM_CONFIG;
    const next = update(current);
    validateIpamConfig(next);
    if (read && sameConfig(current, next)) return current;
    await commitChanges(ds, [configChange(read, next)]);
    return next;
  });
}

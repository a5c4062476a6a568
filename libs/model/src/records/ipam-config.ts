import { parseJsonLossless } from '../json';
import { asObject, optionalBoolean, RecordDecodeError } from './record-error';

// The IPAM library's configuration singleton at /calico/ipam/v2/config. Calico marks
// every field omitempty, so a stored config without `auto_allocate_blocks` means false —
// only a missing key means the defaults below.

export type KubeVirtPersistence = 'Enabled' | 'Disabled';

export interface IpamConfig {
  readonly strictAffinity: boolean;
  readonly autoAllocateBlocks: boolean;
  /** 0 means the built-in limit (20 blocks per host). */
  readonly maxBlocksPerHost: number;
  readonly kubeVirtVMAddressPersistence: KubeVirtPersistence;
  /** How long a released address stays unavailable (0..1200). */
  readonly ipCooldownSeconds: number;
}

export const DEFAULT_IPAM_CONFIG: IpamConfig = Object.freeze({
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
  kubeVirtVMAddressPersistence: 'Enabled',
  ipCooldownSeconds: 0,
});

function nonNegativeInt(field: string, v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new RecordDecodeError('IPAM config', field, 'expected a non-negative integer');
  }
  return v;
}

export function decodeIpamConfig(json: string): IpamConfig {
  const o = asObject('IPAM config', '(value)', parseJsonLossless(json));
  const persistence = o['kubeVirtVMAddressPersistence'];
  if (persistence !== undefined && persistence !== 'Enabled' && persistence !== 'Disabled' && persistence !== '') {
    throw new RecordDecodeError('IPAM config', 'kubeVirtVMAddressPersistence', 'expected Enabled or Disabled');
  }
  return {
    strictAffinity: optionalBoolean('IPAM config', 'strict_affinity', o['strict_affinity']),
    autoAllocateBlocks: optionalBoolean('IPAM config', 'auto_allocate_blocks', o['auto_allocate_blocks']),
    maxBlocksPerHost: nonNegativeInt('maxBlocksPerHost', o['maxBlocksPerHost']),
    kubeVirtVMAddressPersistence: persistence === 'Disabled' ? 'Disabled' : 'Enabled',
    ipCooldownSeconds: nonNegativeInt('ipCooldownSeconds', o['ipCooldownSeconds']),
  };
}

/** Writes the config with Calico's omitempty: false, 0 and the default persistence are left out. */
export function encodeIpamConfig(c: IpamConfig): string {
  return JSON.stringify({
    ...(c.strictAffinity && { strict_affinity: true }),
    ...(c.autoAllocateBlocks && { auto_allocate_blocks: true }),
    ...(c.maxBlocksPerHost > 0 && { maxBlocksPerHost: c.maxBlocksPerHost }),
    kubeVirtVMAddressPersistence: c.kubeVirtVMAddressPersistence,
    ...(c.ipCooldownSeconds > 0 && { ipCooldownSeconds: c.ipCooldownSeconds }),
  });
}

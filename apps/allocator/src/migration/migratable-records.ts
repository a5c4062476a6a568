import { IpamError } from '@atoll/ipam';
import {
  decodeAffinity,
  decodeBlock,
  decodeHandle,
  decodeIpamConfig,
  ipamConfigKey,
  parseAffinityKey,
  parseBlockKey,
  parseHandleKey,
  parseJsonLossless,
  parseResourceKey,
} from '@atoll/model';

// Which stored records a migration may read and write, and the check that a value is one
// Atoll can read back: a migration must never leave a record the engine would trip over.

/** Every migratable key lives under this prefix (read in one snapshot). */
export const MIGRATION_PREFIX = '/calico/';

const RESOURCE_KINDS: Readonly<Record<string, string>> = { ippools: 'IPPool', ipreservations: 'IPReservation', nodes: 'Node' };

export type RecordKind = 'block' | 'affinity' | 'handle' | 'ipam-config' | 'resource';

/** The kind of a migratable key; undefined for any other key. */
export function migratableKind(key: string): RecordKind | undefined {
  if (parseBlockKey(key)) return 'block';
  if (parseAffinityKey(key)) return 'affinity';
  if (parseHandleKey(key) !== undefined) return 'handle';
  if (key === ipamConfigKey()) return 'ipam-config';
  const r = parseResourceKey(key);
  if (r && RESOURCE_KINDS[r.plural]) return 'resource';
  return undefined;
}

function checkResource(key: string, value: string): void {
  const { plural, name } = parseResourceKey(key)!;
  const o = parseJsonLossless(value) as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown } } | null;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('expected a JSON object');
  if (o.apiVersion !== 'projectcalico.org/v3') throw new Error(`apiVersion must be projectcalico.org/v3, not ${JSON.stringify(o.apiVersion)}`);
  if (o.kind !== RESOURCE_KINDS[plural]) throw new Error(`kind must be ${RESOURCE_KINDS[plural]}, not ${JSON.stringify(o.kind)}`);
  if (o.metadata?.name !== name) throw new Error(`metadata.name must be ${JSON.stringify(name)} (the key's name)`);
}

/** Throws an invalid-argument IpamError naming the key when it is not migratable or its value does not decode. */
export function checkMigratableWrite(key: string, value: string | undefined): void {
  const kind = migratableKind(key);
  if (!kind) throw new IpamError('invalid-argument', `key ${key} is not an IPAM record, pool, reservation or node in Calico's etcd layout`);
  if (value === undefined) return;
  try {
    switch (kind) {
      case 'block': {
        const block = decodeBlock(value);
        if (parseBlockKey(key)!.base !== block.cidr.base || parseBlockKey(key)!.prefix !== block.cidr.prefix) throw new Error('the cidr differs from the key');
        break;
      }
      case 'affinity':
        decodeAffinity(value);
        break;
      case 'handle':
        decodeHandle(value);
        break;
      case 'ipam-config':
        decodeIpamConfig(value);
        break;
      case 'resource':
        checkResource(key, value);
        break;
    }
  } catch (err) {
    throw new IpamError('invalid-argument', `value for ${key} cannot be stored: ${(err as Error).message}`);
  }
}

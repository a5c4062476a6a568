import { blockAt, blockCount, Cidr } from '@atoll/ipmath';

// Which of a pool's blocks a host tries first. Calico starts at a per-host pseudo-random
// block and then walks the pool in order with wrap-around, so that hosts spread out over
// the pool instead of all fighting for its first block. The start is derived from the
// FNV-1 (not 1a) 32-bit hash of the host name, as Calico seeds it.

export function fnv1Hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash = Math.imul(hash, 0x01000193) >>> 0;
    hash = (hash ^ byte) >>> 0;
  }
  return hash;
}

/** Every block of the pool exactly once, starting at the host's block. */
export function* hostBlockOrder(pool: Cidr, blockPrefix: number, host: string): Generator<Cidr> {
  const count = blockCount(pool, blockPrefix);
  const start = BigInt(fnv1Hash32(host)) % count;
  for (let i = 0n; i < count; i++) yield blockAt(pool, blockPrefix, (start + i) % count);
}

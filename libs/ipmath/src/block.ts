import { bitsOf, IpAddress } from './address';
import { Cidr, cidrContains, cidrFromAddress, cidrSize, formatCidr } from './cidr';

// Blocks are the fixed-size pieces a pool is carved into. An ordinal is an address's
// offset from its block's base; it indexes a block's `allocations` array, so it is a
// plain number (blocks are at most 2^12 addresses: /20 for IPv4, /116 for IPv6).

/** The block of size `blockPrefix` that holds `ip`. */
export function blockCidrFor(ip: IpAddress, blockPrefix: number): Cidr {
  return cidrFromAddress(ip, blockPrefix);
}

/** How many blocks of `blockPrefix` a pool holds. */
export function blockCount(pool: Cidr, blockPrefix: number): bigint {
  assertCarvable(pool, blockPrefix);
  return 1n << BigInt(blockPrefix - pool.prefix);
}

/** The `index`-th block of the pool, counting from the pool's base. */
export function blockAt(pool: Cidr, blockPrefix: number, index: bigint): Cidr {
  const count = blockCount(pool, blockPrefix);
  if (index < 0n || index >= count) throw new RangeError(`block index ${index} outside 0..${count - 1n} of ${formatCidr(pool)}`);
  return { version: pool.version, base: pool.base + index * (1n << BigInt(bitsOf(pool.version) - blockPrefix)), prefix: blockPrefix };
}

/** Index of `block` within the pool (inverse of blockAt). */
export function blockIndex(pool: Cidr, block: Cidr): bigint {
  if (block.version !== pool.version || block.prefix < pool.prefix || !cidrContains(pool, { version: block.version, value: block.base })) {
    throw new RangeError(`${formatCidr(block)} is not a block of ${formatCidr(pool)}`);
  }
  return (block.base - pool.base) / cidrSize(block);
}

/** Every block of the pool in address order. Lazy: a /8 of /26 blocks is 262144 blocks. */
export function* carveBlocks(pool: Cidr, blockPrefix: number): Generator<Cidr> {
  const count = blockCount(pool, blockPrefix);
  for (let i = 0n; i < count; i++) yield blockAt(pool, blockPrefix, i);
}

/** Number of addresses in a block, as the length of its allocations array. */
export function blockLength(block: Cidr): number {
  const size = cidrSize(block);
  if (size > 1n << 16n) throw new RangeError(`${formatCidr(block)} is too large to be a block`);
  return Number(size);
}

/** Offset of `ip` within `block`. */
export function ordinalOf(block: Cidr, ip: IpAddress): number {
  if (!cidrContains(block, ip)) throw new RangeError(`address is not in block ${formatCidr(block)}`);
  return Number(ip.value - block.base);
}

/** The address at `ordinal` within `block`. */
export function addressAt(block: Cidr, ordinal: number): IpAddress {
  if (!Number.isInteger(ordinal) || ordinal < 0 || BigInt(ordinal) >= cidrSize(block)) {
    throw new RangeError(`ordinal ${ordinal} outside block ${formatCidr(block)}`);
  }
  return { version: block.version, value: block.base + BigInt(ordinal) };
}

function assertCarvable(pool: Cidr, blockPrefix: number): void {
  if (!Number.isInteger(blockPrefix) || blockPrefix < pool.prefix || blockPrefix > bitsOf(pool.version)) {
    throw new RangeError(`block size /${blockPrefix} cannot carve ${formatCidr(pool)}`);
  }
}

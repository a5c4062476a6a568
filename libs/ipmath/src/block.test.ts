import fc from 'fast-check';
import {
  addressAt,
  blockAt,
  blockCidrFor,
  blockCount,
  blockIndex,
  carveBlocks,
  cidrContainsCidr,
  cidrsOverlap,
  cidrSize,
  formatCidr,
  formatIp,
  ordinalOf,
  parseCidr,
  parseIp,
} from './index';

describe('carving pools into blocks', () => {
  it.each([
    ['10.10.0.0/24', 26, 4n],
    ['10.10.0.0/16', 20, 16n],
    ['10.10.0.0/24', 32, 256n],
    ['fd00::/120', 122, 4n],
    ['fd00::/112', 116, 16n],
  ])('carves %s into %d-bit blocks: %d of them', (pool, size, count) => {
    expect(blockCount(parseCidr(pool), size)).toBe(count);
  });

  it('finds the block of an address', () => {
    expect(formatCidr(blockCidrFor(parseIp('10.0.0.77'), 26))).toBe('10.0.0.64/26');
    expect(formatCidr(blockCidrFor(parseIp('fd00::1:5'), 122))).toBe('fd00::1:0/122');
  });

  it('maps ordinals to addresses and back', () => {
    const block = parseCidr('10.0.0.64/26');
    expect(formatIp(addressAt(block, 0))).toBe('10.0.0.64');
    expect(formatIp(addressAt(block, 63))).toBe('10.0.0.127');
    expect(ordinalOf(block, parseIp('10.0.0.100'))).toBe(36);
    expect(() => addressAt(block, 64)).toThrow(RangeError);
    expect(() => ordinalOf(block, parseIp('10.0.0.128'))).toThrow(RangeError);
  });

  it('refuses a block size that cannot carve the pool', () => {
    expect(() => blockCount(parseCidr('10.0.0.0/24'), 20)).toThrow(RangeError);
    expect(() => blockCount(parseCidr('10.0.0.0/24'), 33)).toThrow(RangeError);
  });

  const poolArb = fc.oneof(
    fc.record({ version: fc.constant(4 as const), prefix: fc.integer({ min: 16, max: 30 }), seed: fc.bigInt({ min: 0n, max: 0xffffffffn }) }),
    fc.record({ version: fc.constant(6 as const), prefix: fc.integer({ min: 108, max: 126 }), seed: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }) }),
  );

  it('carves every pool into blocks that lie inside it, do not overlap and cover it', () => {
    fc.assert(
      fc.property(poolArb, fc.integer({ min: 0, max: 8 }), ({ version, prefix, seed }, extra) => {
        const bits = version === 4 ? 32 : 128;
        const pool = parseCidr(`${formatIp({ version, value: seed })}/${prefix}`);
        const blockPrefix = Math.min(bits, prefix + extra);
        const blocks = [...carveBlocks(pool, blockPrefix)];
        expect(BigInt(blocks.length)).toBe(blockCount(pool, blockPrefix));
        let covered = 0n;
        blocks.forEach((b, i) => {
          expect(cidrContainsCidr(pool, b)).toBe(true);
          expect(blockIndex(pool, b)).toBe(BigInt(i));
          if (i > 0) expect(cidrsOverlap(blocks[i - 1]!, b)).toBe(false);
          if (i > 0) expect(b.base).toBe(blocks[i - 1]!.base + cidrSize(b));
          covered += cidrSize(b);
        });
        expect(covered).toBe(cidrSize(pool));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips ordinals within any block', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.integer({ min: 20, max: 32 }), (value, prefix) => {
        const ip = { version: 4 as const, value };
        const block = blockCidrFor(ip, prefix);
        expect(addressAt(block, ordinalOf(block, ip))).toEqual(ip);
        expect(blockAt(parseCidr('0.0.0.0/0'), prefix, blockIndex(parseCidr('0.0.0.0/0'), block))).toEqual(block);
      }),
    );
  });
});

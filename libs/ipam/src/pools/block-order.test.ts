import { blockCount, formatCidr, parseCidr } from '@atoll/ipmath';
import { fnv1Hash32, hostBlockOrder } from './block-order';

describe('the order in which a host tries a pool\'s blocks', () => {
  it.each([
    ['10.10.0.0/24', 26],
    ['10.10.0.0/16', 20],
    ['10.10.0.0/24', 32],
    ['fd00::/120', 122],
    ['fd00::/112', 116],
    ['fd00::/120', 128],
  ])('returns every block of %s at /%d exactly once, all inside the pool', (pool, size) => {
    const cidr = parseCidr(pool);
    for (const host of ['node-1', 'node-2', 'a-very-long-host-name.example.com']) {
      const seen = [...hostBlockOrder(cidr, size, host)].map(formatCidr);
      expect(seen).toHaveLength(Number(blockCount(cidr, size)));
      expect(new Set(seen).size).toBe(seen.length);
      for (const b of seen) expect(parseCidr(b).prefix).toBe(size);
    }
  });

  it('starts different hosts at different blocks, and the same host always at the same one', () => {
    const pool = parseCidr('10.0.0.0/16');
    const first = (h: string) => formatCidr(hostBlockOrder(pool, 26, h).next().value!);
    const starts = new Set(Array.from({ length: 50 }, (_, i) => first(`node-${i}`)));
    expect(starts.size).toBeGreaterThan(40);
    expect(first('node-7')).toBe(first('node-7'));
  });

  it.each([
    ['', 0x811c9dc5],
    ['a', 0x050c5d7e],
    ['foobar', 0x31f0b262],
  ])('hashes %j with 32-bit FNV-1 as Go\'s hash/fnv New32 does', (text, want) => {
    expect(fnv1Hash32(text)).toBe(want);
  });
});

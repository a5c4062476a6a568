import { compareKeys } from './key-order';

describe('compareKeys', () => {
  it.each([
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['/p', '/p/', -1],
    ['/p/A', '/p/a', -1],
    ['/p/é', '/p/ｚ', -1],
    ['/p/ｚ', '/p/😀', -1], // U+FF5A before U+1F600, though UTF-16 units say otherwise
    ['/p/😀', '/p/😁', -1],
  ])('orders %j against %j like their UTF-8 bytes', (a, b, expected) => {
    expect(Math.sign(compareKeys(a, b))).toBe(expected);
    expect(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))).toBe(expected);
  });
});

import fc from 'fast-check';
import {
  cidrContains,
  cidrContainsCidr,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  IpParseError,
  lastAddress,
  formatIp,
  overlapsLinkLocal,
  parseCidr,
  parseCidrDetailed,
  parseIp,
} from './index';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.0/24', true],
    ['10.0.0.5/24', '10.0.0.0/24', false],
    ['192.168.0.0/16', '192.168.0.0/16', true],
    ['fd00::/122', 'fd00::/122', true],
    ['fd00::1/64', 'fd00::/64', false],
    ['0.0.0.0/0', '0.0.0.0/0', true],
    ['10.1.2.3/32', '10.1.2.3/32', true],
  ])('parses %s as %s (strictly masked: %s)', (text, canonical, strict) => {
    const parsed = parseCidrDetailed(text);
    expect(formatCidr(parsed.cidr)).toBe(canonical);
    expect(parsed.strictlyMasked).toBe(strict);
  });

  it.each([['10.0.0.0/33'], ['fd00::/129'], ['10.0.0.0/'], ['10.0.0.0/024'], ['10.0.0.0/-1'], ['10.0.0.0'], ['/24']])(
    'refuses %j',
    (text) => {
      expect(() => parseCidr(text)).toThrow(IpParseError);
    },
  );

  it('accepts a bare address as a single-address CIDR only when asked', () => {
    expect(formatCidr(parseCidr('10.0.0.7', { allowBareAddress: true }))).toBe('10.0.0.7/32');
    expect(formatCidr(parseCidr('fd00::7', { allowBareAddress: true }))).toBe('fd00::7/128');
    expect(() => parseCidr('10.0.0.7')).toThrow('missing "/prefix"');
  });
});

describe('containment and overlap', () => {
  const c = (t: string) => parseCidr(t);
  it.each([
    ['10.0.0.0/24', '10.0.0.255', true],
    ['10.0.0.0/24', '10.0.1.0', false],
    ['10.0.0.0/24', '::ffff:10.0.0.1', false],
    ['fd00::/120', 'fd00::ff', true],
  ])('%s contains %s: %s', (cidr, ip, expected) => {
    expect(cidrContains(c(cidr), parseIp(ip))).toBe(expected);
  });

  it.each([
    ['10.0.0.0/16', '10.0.5.0/24', true, true],
    ['10.0.5.0/24', '10.0.0.0/16', false, true],
    ['10.0.0.0/24', '10.0.1.0/24', false, false],
    ['10.0.0.0/8', 'fd00::/8', false, false],
  ])('%s vs %s: contains %s, overlaps %s', (a, b, contains, overlaps) => {
    expect(cidrContainsCidr(c(a), c(b))).toBe(contains);
    expect(cidrsOverlap(c(a), c(b))).toBe(overlaps);
    expect(cidrsOverlap(c(b), c(a))).toBe(overlaps);
  });

  it('knows the size and last address of a CIDR', () => {
    expect(cidrSize(c('10.0.0.0/26'))).toBe(64n);
    expect(cidrSize(c('fd00::/0'))).toBe(1n << 128n);
    expect(formatIp(lastAddress(c('10.0.0.0/26')))).toBe('10.0.0.63');
  });

  it.each([
    ['169.254.0.0/16', true],
    ['169.0.0.0/8', true],
    ['10.0.0.0/8', false],
    ['fe80::/64', true],
    ['fd00::/8', false],
  ])('%s overlaps link-local: %s', (cidr, expected) => {
    expect(overlapsLinkLocal(c(cidr))).toBe(expected);
  });

  it('agrees that two CIDRs overlap exactly when they share an address', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 16, max: 32 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 16, max: 32 }),
        (a, pa, b, pb) => {
          const ca = parseCidr(`10.1.${a >> 8}.${a & 255}/${pa}`);
          const cb = parseCidr(`10.1.${b >> 8}.${b & 255}/${pb}`);
          const shareFirst = cidrContains(ca, { version: 4, value: cb.base }) || cidrContains(cb, { version: 4, value: ca.base });
          expect(cidrsOverlap(ca, cb)).toBe(shareFirst);
        },
      ),
    );
  });
});

import fc from 'fast-check';
import { compareIps, formatIp, IpParseError, parseIp, tryParseIp } from './index';

describe('parseIp / formatIp', () => {
  it.each([
    ['10.0.0.1', 4, 0x0a000001n, '10.0.0.1'],
    ['0.0.0.0', 4, 0n, '0.0.0.0'],
    ['255.255.255.255', 4, 0xffffffffn, '255.255.255.255'],
    ['fd00::1', 6, (0xfd00n << 112n) | 1n, 'fd00::1'],
    ['FD00:0:0:0:0:0:0:1', 6, (0xfd00n << 112n) | 1n, 'fd00::1'],
    ['::', 6, 0n, '::'],
    ['::ffff:10.0.0.1', 6, (0xffffn << 32n) | 0x0a000001n, '::ffff:a00:1'],
    ['2001:db8:0:0:1:0:0:1', 6, 0x20010db8000000000001000000000001n, '2001:db8::1:0:0:1'],
  ])('parses %s as IPv%d with value %s and prints it canonically', (text, version, value, canonical) => {
    const ip = parseIp(text);
    expect(ip).toEqual({ version, value });
    expect(formatIp(ip)).toBe(canonical);
  });

  it.each([
    ['', 'empty'],
    [' 10.0.0.1', 'leading white space'],
    ['10.0.0.1 ', 'trailing white space'],
    ['010.0.0.1', 'a leading zero (octal in inet_aton, refused by Go)'],
    ['10.0.0.256', 'an octet above 255'],
    ['10.0.1', 'three parts'],
    ['0x0a.0.0.1', 'hex'],
    ['167772161', 'a single integer'],
    ['fe80::1%eth0', 'a zone id'],
    ['fd00::1::2', 'two double colons'],
    ['fd00:::1', 'three colons'],
    ['10.0.0.1/32', 'a prefix'],
    ['hello', 'a word'],
  ])('refuses %j (%s)', (text) => {
    expect(() => parseIp(text)).toThrow(IpParseError);
    expect(tryParseIp(text)).toBeUndefined();
  });

  it('names the bad input in the error message', () => {
    expect(() => parseIp('10.0.0.300')).toThrow('invalid IP address or CIDR "10.0.0.300"');
  });

  it('round-trips every IPv4 value through text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffffffffn }), (value) => {
        const ip = { version: 4 as const, value };
        expect(parseIp(formatIp(ip))).toEqual(ip);
      }),
    );
  });

  it('round-trips every IPv6 value through text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
        const ip = { version: 6 as const, value };
        expect(parseIp(formatIp(ip))).toEqual(ip);
      }),
    );
  });

  it('orders IPv4 before IPv6 and then by value', () => {
    const sorted = ['fd00::1', '10.0.0.2', '::1', '10.0.0.10'].map(parseIp).sort(compareIps).map(formatIp);
    expect(sorted).toEqual(['10.0.0.2', '10.0.0.10', '::1', 'fd00::1']);
  });
});

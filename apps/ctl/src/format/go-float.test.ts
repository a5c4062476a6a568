import { formatCount, formatCountWithPercent, formatGoFixed, formatGoG } from './go-float';

// Expected strings are what Go's fmt prints for the same float64.
describe("Go's %.5g", () => {
  it.each<[number, string]>([
    [0, '0'],
    [64, '64'],
    [65531, '65531'],
    [65536, '65536'],
    [99999, '99999'],
    [100000, '1e+05'],
    [123456, '1.2346e+05'],
    [4294967296, '4.295e+09'],
    [16777216, '1.6777e+07'],
    [18446744073709551616, '1.8447e+19'],
    [1208925819614629174706176, '1.2089e+24'],
    [0.5, '0.5'],
    [1.5, '1.5'],
    [123.456, '123.46'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e300, '1e+300'],
    [-64, '-64'],
  ])('prints %p as %p', (value, expected) => {
    expect(formatGoG(value)).toBe(expected);
  });

  it.each<[number, string]>([
    [123445, '1.2344e+05'],
    [123455, '1.2346e+05'],
    [999995, '1e+06'],
    [12344.5, '12344'],
    [12345.5, '12346'],
  ])('rounds the exact tie %p to even digits: %p', (value, expected) => {
    expect(formatGoG(value)).toBe(expected);
  });

  it.each<[number, string]>([
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('prints %p as Go does: %p', (value, expected) => {
    expect(formatGoG(value)).toBe(expected);
  });
});

describe("Go's %.f", () => {
  it.each<[number, string]>([
    [0, '0'],
    [0.00762939453125, '0'],
    [0.5, '0'],
    [1.5, '2'],
    [2.5, '2'],
    [12.5, '12'],
    [7.8125, '8'],
    [92.1875, '92'],
    [99.5, '100'],
    [99.99237060546875, '100'],
    [100, '100'],
    [1e21, '1000000000000000000000'],
    [NaN, 'NaN'],
  ])('prints %p as %p', (value, expected) => {
    expect(formatGoFixed(value)).toBe(expected);
  });
});

describe('counts and percentages as calicoctl ipam show prints them', () => {
  it.each<[bigint, bigint, string]>([
    [5n, 64n, '5 (8%)'],
    [59n, 64n, '59 (92%)'],
    [7n, 64n, '7 (11%)'],
    [57n, 64n, '57 (89%)'],
    [5n, 65536n, '5 (0%)'],
    [65531n, 65536n, '65531 (100%)'],
    [0n, 256n, '0 (0%)'],
    [7n, 2n ** 80n, '7 (0%)'],
    [2n ** 80n - 7n, 2n ** 80n, '1.2089e+24 (100%)'],
  ])('prints %p of %p as %p', (n, total, expected) => {
    expect(formatCountWithPercent(n, total)).toBe(expected);
  });

  it('prints an IPv6 /48 total in exponent form', () => {
    expect(formatCount(2n ** 80n)).toBe('1.2089e+24');
  });
});

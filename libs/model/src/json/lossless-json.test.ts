import fc from 'fast-check';
import { JsonSyntaxError, parseJsonLossless, stringifyJsonLossless } from './index';

describe('lossless JSON', () => {
  it('keeps a uint64 sequence number exact', () => {
    const text = '{"sequenceNumber":1786000000000000001,"sequenceNumberForAllocation":{"0":18446744073709551615}}';
    const parsed = parseJsonLossless(text) as Record<string, unknown>;
    expect(parsed['sequenceNumber']).toBe(1786000000000000001n);
    expect((parsed['sequenceNumberForAllocation'] as Record<string, unknown>)['0']).toBe(18446744073709551615n);
    expect(stringifyJsonLossless(parsed)).toBe(text);
  });

  it('returns safe integers as numbers', () => {
    expect(parseJsonLossless('[0,-5,9007199254740991,1.5,1e3]')).toEqual([0, -5, 9007199254740991, 1.5, 1000]);
  });

  const bigintsAsNumbers = (v: unknown): unknown =>
    typeof v === 'bigint'
      ? Number(v)
      : Array.isArray(v)
        ? v.map(bigintsAsNumbers)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bigintsAsNumbers(x)]))
          : v;

  it('agrees with JSON.parse on every document, but for unsafe integers being bigints', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(bigintsAsNumbers(parseJsonLossless(text))).toEqual(JSON.parse(text));
      }),
    );
  });

  it('round-trips bigints inside any structure', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 1n << 60n, max: (1n << 64n) - 1n })), fc.string(), (nums, s) => {
        const doc = { nums, s, nested: { n: nums[0] ?? null } };
        expect(parseJsonLossless(stringifyJsonLossless(doc))).toEqual(doc);
      }),
    );
  });

  it('does not turn a string that looks like the bigint mark into a number', () => {
    const doc = { s: '\u0000bigint:12', t: '"\\u0000bigint:5"' };
    expect(parseJsonLossless(stringifyJsonLossless(doc))).toEqual(doc);
  });

  it('keeps a "__proto__" key as plain data', () => {
    const v = parseJsonLossless('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([['{'], ['[1,]'], ['{"a" 1}'], ['"abc'], ['tru'], ['1 2'], ['{"a":01}'], ['[' .repeat(100) + ']'.repeat(100)]])(
    'refuses malformed JSON %j with a position',
    (text) => {
      expect(() => parseJsonLossless(text)).toThrow(JsonSyntaxError);
    },
  );
});

describe('stringifyJsonLossless', () => {
  it('writes what JSON.stringify writes for documents without bigints', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(stringifyJsonLossless(v)).toBe(JSON.stringify(v));
      }),
    );
  });

  it('leaves out undefined fields like JSON.stringify', () => {
    expect(stringifyJsonLossless({ a: undefined, b: 1, c: [undefined] })).toBe('{"b":1,"c":[null]}');
  });
});

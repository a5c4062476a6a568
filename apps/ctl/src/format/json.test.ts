import { formatJson } from './json';

describe('formatJson', () => {
  it.each<[string, unknown]>([
    ['an object', { a: 1, b: [true, null, 'x'], c: {} }],
    ['an empty list', []],
    ['nested lists', [[1], [{ k: 'v' }]]],
    ['a string with quotes', 'say "hi"\n'],
  ])('writes %s exactly as JSON.stringify with two-space indent', (_title, value) => {
    expect(formatJson(value)).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('writes bigints as exact digits', () => {
    expect(formatJson({ sequenceNumber: 1786000000000000001n })).toBe('{\n  "sequenceNumber": 1786000000000000001\n}\n');
  });

  it('leaves out undefined fields as JSON.stringify does', () => {
    expect(formatJson({ a: undefined, b: 1 })).toBe('{\n  "b": 1\n}\n');
  });
});

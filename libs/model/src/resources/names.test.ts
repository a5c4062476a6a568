import { annotationKeyProblems, isDns1123Subdomain, labelKeyProblems, labelValueProblems, resourceNameProblems } from './index';

describe('resourceNameProblems', () => {
  it.each([['p1'], ['my.ippool-1'], ['default-ipv4-ippool'], ['node-1.example.com'], ['0'], ['a'.repeat(253)]])(
    'accepts %j',
    (name) => {
      expect(resourceNameProblems(name)).toEqual([]);
    },
  );

  it.each([
    ['an empty name', '', ['name is required']],
    ['upper case', 'Pool', [expect.stringContaining("lower case alphanumeric characters, '-' or '.'")]],
    ['an underscore, which the docs allow but the code does not', 'my_pool', [expect.stringContaining('regex: ')]],
    ['a leading dash', '-pool', [expect.stringContaining('regex: ')]],
    ['a trailing dot', 'pool.', [expect.stringContaining('regex: ')]],
    ['an empty label between dots', 'a..b', [expect.stringContaining('regex: ')]],
    ['a slash', 'a/b', [expect.stringContaining('regex: ')]],
    ['more than 253 bytes', 'a'.repeat(260), ['name is too long by 7 bytes']],
  ])('refuses %s', (_title, name, expected) => {
    expect(resourceNameProblems(name)).toEqual(expected);
  });

  it('counts the length in bytes, as Go does', () => {
    expect(resourceNameProblems('é'.repeat(127))[0]).toBe('name is too long by 1 bytes');
  });
});

describe('isDns1123Subdomain', () => {
  it.each([
    ['node-1', true],
    ['node-1.zone-a', true],
    ['Node-1', false],
    ['', false],
    ['a'.repeat(254), false],
  ])('says %j is %s', (text, expected) => {
    expect(isDns1123Subdomain(text)).toBe(expected);
  });
});

describe('labelKeyProblems', () => {
  it.each([['zone'], ['Zone_A.b-c'], ['kubernetes.io/hostname'], ['topology.kubernetes.io/zone'], ['a'.repeat(63)], ['x/' + 'a'.repeat(63)]])(
    'accepts %j',
    (key) => {
      expect(labelKeyProblems(key)).toEqual([]);
    },
  );

  it.each([
    ['an empty key', '', 'name part must be non-empty'],
    ['an empty name after the prefix', 'example.com/', 'name part must be non-empty'],
    ['an empty prefix', '/zone', 'prefix part must be non-empty'],
    ['an upper-case prefix', 'Example.com/zone', expect.stringContaining('prefix part must be a lowercase RFC 1123 subdomain')],
    ['two slashes', 'a/b/c', expect.stringContaining('at most one "/"')],
    ['a name of 64 characters', 'a'.repeat(64), 'name part must be no more than 63 characters'],
    ['a space', 'my zone', expect.stringContaining("name part must consist of alphanumeric characters, '-', '_' or '.'")],
    ['a name ending in a dash', 'zone-', expect.stringContaining('must start and end with an alphanumeric character')],
  ])('refuses %s', (_title, key, expected) => {
    expect(labelKeyProblems(key)).toContainEqual(expected);
  });
});

describe('labelValueProblems', () => {
  it.each([[''], ['a'], ['rack-1_b.c'], ['A'.repeat(63)]])('accepts %j', (value) => {
    expect(labelValueProblems(value)).toEqual([]);
  });

  it.each([
    ['64 characters', 'a'.repeat(64), 'must be no more than 63 characters'],
    ['a space', 'a b', expect.stringContaining('a valid label must be an empty string or consist of alphanumeric characters')],
    ['a leading dot', '.a', expect.stringContaining('must start and end with an alphanumeric character')],
    ['a slash', 'a/b', expect.stringContaining('regex: (([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')],
  ])('refuses %s', (_title, value, expected) => {
    expect(labelValueProblems(value)).toContainEqual(expected);
  });
});

describe('annotationKeyProblems', () => {
  it('accepts an upper-case prefix, since annotation keys are checked in lower case', () => {
    expect(annotationKeyProblems('Example.COM/Note')).toEqual([]);
  });

  it('refuses a key with a space', () => {
    expect(annotationKeyProblems('my note')).not.toEqual([]);
  });
});

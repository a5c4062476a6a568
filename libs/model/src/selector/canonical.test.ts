import { parseSelector } from './index';

describe('Selector.toString', () => {
  // Expected forms follow Calico's own canonicalisation tests (parser_test.go) where
  // they overlap, so the same selector prints the same in Atoll and in Calico.
  it.each([
    ['', 'all()'],
    [' all() ', 'all()'],
    [' (all() )', 'all()'],
    ['global()', 'global()'],
    ['has( a )', 'has(a)'],
    ['! (has( b)||! has(a ))', '!(has(b) || !has(a))'],
    ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")'],
    ["a == 'b'", 'a == "b"'],
    [`a == "'"`, `a == "'"`],
    [`a == '"'`, `a == '"'`],
    [`a contains '"'`, `a contains '"'`],
    [`a startswith '"'`, `a starts with '"'`],
    [`a endswith "'"`, `a ends with "'"`],
    [`a!='"'`, `a != '"'`],
    ['a in {"d", "a", "b"}', 'a in {"a", "b", "d"}'],
    ['a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}'],
    [`a notin {'"', "'"}`, `a not in {'"', "'"}`],
    ['a in {}', 'a in {}'],
    ["a in {'a',}", 'a in {"a"}'],
    // Sorted by code point like Go, not by UTF-16 unit: U+FFFD before U+1F600.
    ['a in {"\u{1F600}", "\uFFFD"}', 'a in {"\uFFFD", "\u{1F600}"}'],
    ['!!has(a)', 'has(a)'],
    ['!!!has(a)', '!has(a)'],
    ["!(k == 'v')", '!k == "v"'],
    // Calico prints "!!has(a)" here, which would read back as has(a).
    ['!(!has(a))', '!(!has(a))'],
    ['!!(!has(a))', '!has(a)'],
    ['has(a) && has(b) && has(c)', '(has(a) && has(b) && has(c))'],
    ['has(a) && (has(b) && has(c))', '(has(a) && (has(b) && has(c)))'],
    ["a == 'x' || b == 'y' && c == 'z'", '(a == "x" || (b == "y" && c == "z"))'],
    [
      "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
      '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})',
    ],
  ])('prints %j as %j', (text, canonical) => {
    expect(parseSelector(text).toString()).toBe(canonical);
  });

  it.each([
    ['!(has(b) || !has(a))'],
    ['(a == "x" || (b == "y" && c == "z"))'],
    [`a not in {'"', "'"}`],
    ['!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})'],
    ['!(!has(a))'],
  ])('leaves the canonical form %j unchanged when parsed again', (canonical) => {
    expect(parseSelector(canonical).toString()).toBe(canonical);
  });

  it('is what String() interpolation gives', () => {
    expect(`${parseSelector("a=='b'")}`).toBe('a == "b"');
  });
});

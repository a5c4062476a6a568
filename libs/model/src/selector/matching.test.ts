import { parseSelector } from './index';

type Labels = Record<string, string>;
type Verdict = 'matches' | 'does not match';

// Rows read as sentences: [selector, verdict, labels].
function rows(selector: string, cases: Array<[Verdict, Labels]>): Array<[string, Verdict, Labels]> {
  return cases.map(([verdict, labels]) => [selector, verdict, labels]);
}

describe('Selector.matches', () => {
  describe('selectors that match everything', () => {
    it.each([
      ...rows('all()', [['matches', {}], ['matches', { a: 'b' }]]),
      ...rows('global()', [['matches', {}], ['matches', { a: 'b' }]]),
      ...rows('', [['matches', {}], ['matches', { a: 'b' }]]),
      ...rows(' \t ', [['matches', {}]]),
      ...rows(' all( ) ', [['matches', { a: 'b' }]]),
    ])('%j %s %j', (selector, verdict, labels) => {
      expect(parseSelector(selector).matches(labels)).toBe(verdict === 'matches');
    });
  });

  describe('each operator, including on absent labels', () => {
    it.each([
      ...rows('has(a)', [['matches', { a: 'x' }], ['matches', { a: '' }], ['does not match', { b: 'x' }]]),
      ...rows('!has(a)', [['matches', { b: 'x' }], ['matches', {}], ['does not match', { a: '' }]]),
      ...rows("a == 'b'", [['matches', { a: 'b', c: 'd' }], ['does not match', { a: 'c' }], ['does not match', {}]]),
      ...rows("a == ''", [['matches', { a: '' }], ['does not match', {}]]),
      ...rows("a == 'B'", [['does not match', { a: 'b' }]]),
      // "!=" matches when the label is absent (ast.go LabelNeValueNode), although the
      // Calico docs describe it as requiring the label.
      ...rows("a != 'b'", [['matches', { a: 'c' }], ['matches', {}], ['does not match', { a: 'b' }]]),
      ...rows("a in {'x', 'y'}", [['matches', { a: 'y' }], ['does not match', { a: 'z' }], ['does not match', {}]]),
      ...rows('a in {}', [['does not match', { a: '' }], ['does not match', {}]]),
      ...rows(
        "a not in {'x', 'y'}",
        [['matches', { a: 'z' }], ['matches', {}], ['does not match', { a: 'x' }]],
      ),
      ...rows('a not in {}', [['matches', {}], ['matches', { a: 'x' }]]),
      ...rows("a contains 'ell'", [
        ['matches', { a: 'hello' }],
        ['does not match', { a: 'help' }],
        ['does not match', {}],
      ]),
      ...rows("a contains ''", [['matches', { a: '' }], ['does not match', {}]]),
      ...rows("a starts with 'he'", [
        ['matches', { a: 'hello' }],
        ['does not match', { a: 'the' }],
        ['does not match', {}],
      ]),
      ...rows("a ends with 'lo'", [
        ['matches', { a: 'hello' }],
        ['does not match', { a: 'lot' }],
        ['does not match', {}],
      ]),
    ])('%j %s %j', (selector, verdict, labels) => {
      expect(parseSelector(selector).matches(labels)).toBe(verdict === 'matches');
    });
  });

  describe('negation and precedence', () => {
    it.each([
      // "!" applies to the whole comparison: "!a == 'b'" is "!(a == 'b')".
      ...rows("!a == 'b'", [['matches', {}], ['matches', { a: 'c' }], ['does not match', { a: 'b' }]]),
      ...rows("!a in {'x'}", [['matches', { a: 'y' }], ['does not match', { a: 'x' }]]),
      ...rows("!a != 'b'", [['matches', { a: 'b' }], ['does not match', {}]]),
      ...rows('!!has(a)', [['matches', { a: 'x' }], ['does not match', {}]]),
      ...rows('! ! ! has(a)', [['matches', {}], ['does not match', { a: 'x' }]]),
      // "&&" binds tighter than "||".
      ...rows(
        "a == 'x' || b == 'y' && c == 'z'",
        [['matches', { a: 'x' }], ['matches', { b: 'y', c: 'z' }], ['does not match', { b: 'y' }]],
      ),
      ...rows(
        "(a == 'x' || b == 'y') && c == 'z'",
        [['matches', { a: 'x', c: 'z' }], ['does not match', { a: 'x' }]],
      ),
      ...rows('!has(a) || has(b)', [['matches', {}], ['matches', { a: 'x', b: 'y' }], ['does not match', { a: 'x' }]]),
      ...rows('!(has(a) || has(b))', [['matches', {}], ['does not match', { b: 'y' }]]),
      ...rows('!(!has(a) || has(b))', [['matches', { a: 'x' }], ['does not match', { a: 'x', b: 'y' }]]),
      ...rows('has(a) && !has(b) && has(c)', [
        ['matches', { a: '1', c: '3' }],
        ['does not match', { a: '1', b: '2', c: '3' }],
      ]),
      ...rows('global() && has(a)', [['matches', { a: '1' }], ['does not match', {}]]),
    ])('%j %s %j', (selector, verdict, labels) => {
      expect(parseSelector(selector).matches(labels)).toBe(verdict === 'matches');
    });
  });

  describe('quoting, whitespace and label keys', () => {
    it.each([
      ...rows('a == "b"', [['matches', { a: 'b' }]]),
      ...rows(`a == '"'`, [['matches', { a: '"' }], ['does not match', { a: "'" }]]),
      ...rows(`a == "'"`, [['matches', { a: "'" }]]),
      ...rows(`a in {"'", '"', "c"}`, [
        ['matches', { a: '"' }],
        ['matches', { a: "'" }],
        ['does not match', { a: 'e' }],
      ]),
      ...rows("zone == 'eu west 1'", [['matches', { zone: 'eu west 1' }]]),
      ...rows("a == 'line\nbreak'", [['matches', { a: 'line\nbreak' }]]),
      ...rows("a=='b'&&b!='c'", [['matches', { a: 'b' }]]),
      ...rows("\ta\t==\t'b'\t", [['matches', { a: 'b' }]]),
      ...rows('has( a )', [['matches', { a: '' }]]),
      ...rows("a notin{'x'}", [['matches', { a: 'y' }], ['does not match', { a: 'x' }]]),
      ...rows("a in{'x'}", [['matches', { a: 'x' }]]),
      ...rows("a startswith'x'", [['matches', { a: 'xy' }]]),
      ...rows("a endswith 'y'", [['matches', { a: 'xy' }]]),
      ...rows("a starts \t with 'x'", [['matches', { a: 'xy' }]]),
      ...rows("k8s-app == 'kube-dns'", [['matches', { 'k8s-app': 'kube-dns' }]]),
      ...rows("projectcalico.org/namespace == 'kube-system'", [
        ['matches', { 'projectcalico.org/namespace': 'kube-system' }],
      ]),
      ...rows('has(calico/k8s_NS-.1/role)', [['matches', { 'calico/k8s_NS-.1/role': '' }]]),
      ...rows("contains contains 'contains'", [['matches', { contains: 'contains' }]]),
      ...rows("in in {'in'}", [['matches', { in: 'in' }]]),
      ...rows("all == 'x' && has == 'y' && not != 'z'", [['matches', { all: 'x', has: 'y' }]]),
      ...rows("a in {'x',}", [['matches', { a: 'x' }]]),
      ...rows('has(constructor)', [['does not match', {}]]),
      ...rows('has(__proto__)', [['does not match', {}]]),
      ...rows('has(toString) || toString == "x"', [['does not match', {}]]),
    ])('%j %s %j', (selector, verdict, labels) => {
      expect(parseSelector(selector).matches(labels)).toBe(verdict === 'matches');
    });
  });

  it('keeps the text it was given as source', () => {
    expect(parseSelector(" a=='b' ").source).toBe(" a=='b' ");
  });
});

import { tokenize } from './tokenizer';

// Compact form of a token list: kind, plus the value where there is one.
function kinds(text: string): string[] {
  return tokenize(text).map((token) =>
    token.kind !== 'invalid' && token.value !== '' ? `${token.kind}(${token.value})` : token.kind,
  );
}

describe('tokenize', () => {
  it.each<[string, string[]]>([
    ['a=="b"', ['label(a)', 'eq', 'string(b)', 'end']],
    ['contains contains "contains"', ['label(contains)', 'contains', 'string(contains)', 'end']],
    ['label contains"value"', ['label(label)', 'contains', 'string(value)', 'end']],
    ['label startswith "value"', ['label(label)', 'startsWith', 'string(value)', 'end']],
    ['label starts \t with "value"', ['label(label)', 'startsWith', 'string(value)', 'end']],
    ['endswith endswith "value"', ['label(endswith)', 'endsWith', 'string(value)', 'end']],
    [
      'a notin"bar"&&!has(foo)||b in"c"',
      ['label(a)', 'notIn', 'string(bar)', 'and', 'not', 'has(foo)', 'or', 'label(b)', 'in', 'string(c)', 'end'],
    ],
    ['has( calico/k8s_NS-.1/role )', ['has(calico/k8s_NS-.1/role)', 'end']],
    ['a not in {}', ['label(a)', 'notIn', 'lbrace', 'rbrace', 'end']],
    ['a notin\t{}', ['label(a)', 'notIn', 'lbrace', 'rbrace', 'end']],
    ['a not \t in{}', ['label(a)', 'notIn', 'lbrace', 'rbrace', 'end']],
    ['a index', ['label(a)', 'invalid']],
    ['a containsx', ['label(a)', 'invalid']],
    ['all( ) global()', ['all', 'global', 'end']],
    ['!==', ['ne', 'invalid']],
    [`a == 'say "hi"'`, ['label(a)', 'eq', 'string(say "hi")', 'end']],
  ])('reads %j as %j', (text, expected) => {
    expect(kinds(text)).toEqual(expected);
  });

  it('treats a newline outside a quoted value as an invalid character', () => {
    expect(kinds('has(a)\n')).toEqual(['has(a)', 'invalid']);
  });

  it('keeps a newline inside a quoted value', () => {
    expect(kinds("a == 'x\ny'")).toEqual(['label(a)', 'eq', 'string(x\ny)', 'end']);
  });

  it('records where each token starts and ends', () => {
    expect(tokenize(" a  == 'b'").map((t) => [t.kind, t.start, t.kind === 'invalid' ? undefined : t.end])).toEqual([
      ['label', 1, 2],
      ['eq', 4, 6],
      ['string', 7, 10],
      ['end', 10, 10],
    ]);
  });
});

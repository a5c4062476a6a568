import { parseSelector, SelectorSyntaxError } from './index';
import { MAX_NESTING } from './parser';

const OPERAND = 'a label key, "has(", "all()", "global()", "!" or "("';
const OPERATOR = 'an operator (==, !=, in, not in, contains, starts with, ends with)';
const AFTER_OPERAND = '"&&", "||" or the end of the selector';
const AFTER_NESTED_OPERAND = '"&&", "||" or ")"';

function syntaxErrorOf(text: string): SelectorSyntaxError {
  try {
    parseSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(text)} parsed, but a syntax error was expected`);
}

describe('parseSelector on invalid text', () => {
  it.each<[string, number, string]>([
    // Calico's own list of bad selectors (parser_test.go badSelectors).
    ['b == b', 5, 'a quoted value'],
    ['b contains b', 11, 'a quoted value'],
    ['b starts with b', 14, 'a quoted value'],
    ["'b1' == b", 0, OPERAND],
    ['b', 1, OPERATOR],
    ['a b', 2, OPERATOR],
    ['!', 1, OPERAND],
    ['foo == "bar" &', 13, AFTER_OPERAND],
    ['foo == "bar" |', 13, AFTER_OPERAND],
    ['foo != ||', 7, 'a quoted value'],
    ['foo in {"", ||', 12, 'a quoted value or "}"'],
    ['foo in ""', 7, '"{"'],
    ['"FOO', 0, OPERAND],
    ['(', 1, OPERAND],
    ['(a == "foo"', 11, AFTER_NESTED_OPERAND],
    [')', 0, OPERAND],
    ['()', 1, OPERAND],
    ['%', 0, OPERAND],
    ['a == "b" && %', 12, OPERAND],
    ['a == "b" || %', 12, OPERAND],
    ['a ', 2, OPERATOR],
    ['has(foo) &&', 11, OPERAND],
    // Unterminated quoted values.
    ['a == "FOO', 9, 'a closing double quote (the value opened at position 5)'],
    [`a == 'FOO"`, 10, 'a closing single quote (the value opened at position 5)'],
    ["a in {'x", 8, 'a closing single quote (the value opened at position 6)'],
    // Function-like forms.
    ['has()', 4, 'a label key inside "has("'],
    ['has(a b)', 6, '")" to close "has("'],
    ['has(a', 5, '")" to close "has("'],
    ['has (a)', 4, OPERATOR],
    ['all(x)', 4, '")" to close "all("'],
    ['all ()', 4, OPERATOR],
    ['global(', 7, '")" to close "global("'],
    // Operators.
    ["a starts 'x'", 9, '"with" after "starts"'],
    ['a ends', 6, '"with" after "ends"'],
    ["a not {'x'}", 6, '"in" after "not"'],
    ["a = 'b'", 2, OPERATOR],
    ["a index {'x'}", 2, OPERATOR],
    ["a startsfoo 'x'", 2, OPERATOR],
    ["a starts within 'x'", 9, '"with" after "starts"'],
    ["a not inside {'x'}", 6, '"in" after "not"'],
    ["a === 'b'", 4, 'a quoted value'],
    ["a !has(b)", 2, OPERATOR],
    ['!=', 0, OPERAND],
    ["zône == 'x'", 1, OPERATOR],
    // Combinators and grouping.
    ['has(a) & has(b)', 7, AFTER_OPERAND],
    ['has(a) has(b)', 7, AFTER_OPERAND],
    ['has(a))', 6, AFTER_OPERAND],
    ['((has(a))', 9, AFTER_NESTED_OPERAND],
    ['has(a) || ', 10, OPERAND],
    // Only space and tab are whitespace.
    ['has(a)\n&& has(b)', 6, AFTER_OPERAND],
    ['has(a) &&\r\nhas(b)', 9, OPERAND],
    // Sets.
    ["a in {'x' 'y'}", 10, '"," or "}"'],
    ['a in {,}', 6, 'a quoted value or "}"'],
    ["a in {'x',,}", 10, 'a quoted value or "}"'],
    ["a in {'x'", 9, '"," or "}"'],
    ['a in {', 6, 'a quoted value or "}"'],
    ["a in 'x'", 5, '"{"'],
  ])('rejects %j at position %i, expecting %s', (text, position, expected) => {
    const error = syntaxErrorOf(text);
    expect(error.position).toBe(position);
    expect(error.expected).toBe(expected);
    expect(error.selector).toBe(text);
    expect(error.message).toContain(`expected ${expected} at position ${position}`);
  });

  it.each([
    ['foo == ', 'invalid selector "foo == ": expected a quoted value at position 7'],
    ['b == b', 'invalid selector "b == b": expected a quoted value at position 5, found "b"'],
    [
      'has(a) has(b)',
      'invalid selector "has(a) has(b)": expected "&&", "||" or the end of the selector at position 7, found "has(b)"',
    ],
    [
      'a in {"x" && has(b)',
      'invalid selector "a in {\\"x\\" && has(b)": expected "," or "}" at position 10, found "&&"',
    ],
    [
      "has(a) && 'an unterminated value that goes on and on",
      `invalid selector "has(a) && 'an unterminated value that goes on and on": ` +
        `expected ${OPERAND} at position 10, found "'an unterminated value t…"`,
    ],
  ])('explains %j as %j', (text, message) => {
    expect(syntaxErrorOf(text).message).toBe(message);
  });

  it('accepts label keys of up to 512 characters, as Calico does', () => {
    const key = 'k'.repeat(512);
    expect(parseSelector(`${key} == 'x' && has(${key})`).matches({ [key]: 'x' })).toBe(true);
  });

  it.each([
    [`${'k'.repeat(513)} == 'x'`, 512],
    [`has(a) && has( ${'k'.repeat(513)})`, 527],
  ])('rejects a label key of 513 characters (case %#) at the 513th character', (text, position) => {
    const error = syntaxErrorOf(text);
    expect(error.position).toBe(position);
    expect(error.expected).toBe('a label key of at most 512 characters');
  });

  it('throws an Error subclass named SelectorSyntaxError', () => {
    const error = syntaxErrorOf('a ==');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SelectorSyntaxError');
  });

  it(`accepts parentheses nested ${MAX_NESTING} deep`, () => {
    const text = `${'('.repeat(MAX_NESTING)}has(a)${')'.repeat(MAX_NESTING)}`;
    expect(parseSelector(text).toString()).toBe('has(a)');
  });

  it(`rejects parentheses nested deeper than ${MAX_NESTING} with a syntax error, not a stack overflow`, () => {
    const text = `${'('.repeat(100_000)}has(a)${')'.repeat(100_000)}`;
    const error = syntaxErrorOf(text);
    expect(error.position).toBe(MAX_NESTING);
    expect(error.expected).toBe(`at most ${MAX_NESTING} nested parentheses`);
  });

  it('handles a long chain of "&&" without recursion', () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `has(k${i})`).join(' && ');
    expect(parseSelector(text).matches({ k0: '' })).toBe(false);
  });

  it('refuses a value that is not a string with a TypeError', () => {
    expect(() => parseSelector(undefined as unknown as string)).toThrow(TypeError);
  });
});

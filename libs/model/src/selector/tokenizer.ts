/**
 * Splits selector text into tokens the way libcalico-go/lib/selector/tokenizer does,
 * so that exactly the same texts are accepted. Differences from Calico are only in what
 * a failure reports: instead of failing on its own, the tokenizer ends the list with an
 * `invalid` token and lets the parser decide what to say, because the parser knows what
 * would have been valid at that point.
 */

export type TokenKind =
  | 'label'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eq'
  | 'ne'
  | 'in'
  | 'notIn'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'not'
  | 'and'
  | 'or'
  | 'lparen'
  | 'rparen'
  | 'has'
  | 'all'
  | 'global'
  | 'end';

export interface ValidToken {
  readonly kind: TokenKind;
  /** Offset of the token's first character. */
  readonly start: number;
  /** Offset just past the token. */
  readonly end: number;
  /** The label key (`label`, `has`) or the unquoted content (`string`); '' otherwise. */
  readonly value: string;
}

/**
 * Text no token can start with. When the text began a token that then broke off (an
 * unterminated string, `has(` without a key, `starts` without `with`), `partial` says
 * which kind it was meant to be and what was missing where.
 */
export interface InvalidToken {
  readonly kind: 'invalid';
  readonly start: number;
  readonly partial?: { readonly intended: TokenKind; readonly expected: string; readonly position: number };
}

export type Token = ValidToken | InvalidToken;

/** Calico's label key characters: the whole key must consist of these. */
export const LABEL_KEY_CHARACTERS = /[A-Za-z0-9_./-]/;

/** Calico's tokenizer refuses longer keys (tokenizer.go MaxLabelLength). */
export const MAX_LABEL_KEY_LENGTH = 512;

const ONE_WORD_OPERATORS: ReadonlyMap<string, TokenKind> = new Map([
  ['contains', 'contains'],
  ['in', 'in'],
  ['notin', 'notIn'],
  ['startswith', 'startsWith'],
  ['endswith', 'endsWith'],
]);

const TWO_WORD_OPERATORS: ReadonlyMap<string, { readonly second: string; readonly kind: TokenKind }> = new Map([
  ['not', { second: 'in', kind: 'notIn' }],
  ['starts', { second: 'with', kind: 'startsWith' }],
  ['ends', { second: 'with', kind: 'endsWith' }],
]);

/**
 * Only space and tab separate tokens in Calico (tokenizer.go trims " \t"); a newline or
 * any other whitespace outside a quoted value is a syntax error.
 */
const WHITESPACE = new Set([' ', '\t']);

/** Tokens of the whole text. The last token is `end` or `invalid`, and only the last. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  for (;;) {
    position = skipWhitespace(text, position);
    const previous = tokens.length > 0 ? tokens[tokens.length - 1]?.kind : undefined;
    const token = readTokenAt(text, position, previous);
    tokens.push(token);
    if (token.kind === 'invalid' || token.kind === 'end') return tokens;
    position = token.end;
  }
}

/**
 * The token starting at `start` (no whitespace skipped). `previous` matters because,
 * as in Calico, the word operators (`in`, `not in`, `contains`, `starts with`,
 * `ends with`) are recognised only right after a label, and anywhere else the same
 * words are label keys.
 */
export function readTokenAt(text: string, start: number, previous: TokenKind | 'invalid' | undefined): Token {
  if (start >= text.length) return valid('end', start, start);
  const char = text[start];
  const next = text[start + 1];
  switch (char) {
    case '(':
      return valid('lparen', start, start + 1);
    case ')':
      return valid('rparen', start, start + 1);
    case '{':
      return valid('lbrace', start, start + 1);
    case '}':
      return valid('rbrace', start, start + 1);
    case ',':
      return valid('comma', start, start + 1);
    case '"':
    case "'":
      return readQuoted(text, start, char);
    case '=':
      return next === '=' ? valid('eq', start, start + 2) : invalid(start);
    case '!':
      // "!=" always wins over "!" followed by "=", as in Calico.
      return next === '=' ? valid('ne', start, start + 2) : valid('not', start, start + 1);
    case '&':
      return next === '&' ? valid('and', start, start + 2) : invalid(start);
    case '|':
      return next === '|' ? valid('or', start, start + 2) : invalid(start);
    default:
      if (previous === 'label') return readWordOperator(text, start);
      if (text.startsWith('has(', start)) return readHas(text, start);
      if (text.startsWith('all(', start)) return readEmptyCall(text, start, 'all');
      if (text.startsWith('global(', start)) return readEmptyCall(text, start, 'global');
      return readLabel(text, start);
  }
}

function readQuoted(text: string, start: number, quote: '"' | "'"): Token {
  // No escapes exist: a value simply runs to the next quote of the same kind, so it may
  // hold the other quote character but never both.
  const close = text.indexOf(quote, start + 1);
  if (close < 0) {
    return invalid(start, {
      intended: 'string',
      expected: `a closing ${quote === '"' ? 'double' : 'single'} quote (the value opened at position ${start})`,
      position: text.length,
    });
  }
  return valid('string', start, close + 1, text.slice(start + 1, close));
}

// Words end where label key characters end, as in Calico's word-boundary check; the
// space inside "not in", "starts with" and "ends with" is optional ("notin" is valid).
function readWordOperator(text: string, start: number): Token {
  const wordEnd = labelEnd(text, start);
  const word = text.slice(start, wordEnd);
  const oneWord = ONE_WORD_OPERATORS.get(word);
  if (oneWord) return valid(oneWord, start, wordEnd);
  const twoWords = TWO_WORD_OPERATORS.get(word);
  if (!twoWords) return invalid(start);
  const secondStart = skipWhitespace(text, wordEnd);
  const secondEnd = labelEnd(text, secondStart);
  if (text.slice(secondStart, secondEnd) !== twoWords.second) {
    const expected = `"${twoWords.second}" after "${word}"`;
    return invalid(start, { intended: twoWords.kind, expected, position: secondStart });
  }
  return valid(twoWords.kind, start, secondEnd);
}

// "has(" must be written without a space before "(": "has (a)" is the label "has"
// followed by junk, as in Calico. Spaces inside the parentheses are fine.
function readHas(text: string, start: number): Token {
  const keyStart = skipWhitespace(text, start + 'has('.length);
  const keyEnd = labelEnd(text, keyStart);
  if (keyEnd === keyStart) {
    return invalid(start, { intended: 'has', expected: 'a label key inside "has("', position: keyStart });
  }
  if (keyEnd - keyStart > MAX_LABEL_KEY_LENGTH) return keyTooLong(start, 'has', keyStart);
  const close = skipWhitespace(text, keyEnd);
  if (text[close] !== ')') {
    return invalid(start, { intended: 'has', expected: '")" to close "has("', position: close });
  }
  return valid('has', start, close + 1, text.slice(keyStart, keyEnd));
}

function readEmptyCall(text: string, start: number, name: 'all' | 'global'): Token {
  const close = skipWhitespace(text, start + name.length + 1);
  if (text[close] !== ')') {
    return invalid(start, { intended: name, expected: `")" to close "${name}("`, position: close });
  }
  return valid(name, start, close + 1);
}

function readLabel(text: string, start: number): Token {
  const end = labelEnd(text, start);
  if (end === start) return invalid(start);
  if (end - start > MAX_LABEL_KEY_LENGTH) return keyTooLong(start, 'label', start);
  return valid('label', start, end, text.slice(start, end));
}

function keyTooLong(start: number, intended: TokenKind, keyStart: number): InvalidToken {
  const expected = `a label key of at most ${MAX_LABEL_KEY_LENGTH} characters`;
  return invalid(start, { intended, expected, position: keyStart + MAX_LABEL_KEY_LENGTH });
}

function labelEnd(text: string, start: number): number {
  let end = start;
  while (end < text.length && LABEL_KEY_CHARACTERS.test(text[end] ?? '')) end++;
  return end;
}

function skipWhitespace(text: string, start: number): number {
  let position = start;
  while (position < text.length && WHITESPACE.has(text[position] ?? '')) position++;
  return position;
}

function valid(kind: TokenKind, start: number, end: number, value = ''): ValidToken {
  return { kind, start, end, value };
}

function invalid(start: number, partial?: InvalidToken['partial']): InvalidToken {
  return partial ? { kind: 'invalid', start, partial } : { kind: 'invalid', start };
}

import { normalizeSetValues, SelectorNode, SetOperator, ValueOperator } from './ast';
import { SelectorSyntaxError } from './errors';
import { Token, TokenKind, tokenize, ValidToken } from './tokenizer';

/**
 * Parentheses nest at most this deep. Calico has no limit (Go stacks grow); here a
 * pathological "((((…" must end in a SelectorSyntaxError rather than a RangeError from
 * the call stack, and no real selector comes close.
 */
export const MAX_NESTING = 256;

const OPERAND = 'a label key, "has(", "all()", "global()", "!" or "("';
const OPERATOR = 'an operator (==, !=, in, not in, contains, starts with, ends with)';

const VALUE_OPERATORS: ReadonlyMap<string, ValueOperator> = new Map([
  ['eq', 'eq'],
  ['ne', 'ne'],
  ['contains', 'contains'],
  ['startsWith', 'startsWith'],
  ['endsWith', 'endsWith'],
]);
const SET_OPERATORS: ReadonlyMap<string, SetOperator> = new Map([
  ['in', 'in'],
  ['notIn', 'notIn'],
]);

/**
 * Parses selector text into its tree, with Calico's grammar and precedence:
 *
 *   selector  = [ or ]                      (empty text means all())
 *   or        = and { "||" and }
 *   and       = operation { "&&" operation }
 *   operation = { "!" } ( has | all | global | label comparison | "(" or ")" )
 *
 * "!" binds tighter than "&&", which binds tighter than "||"; so "!a == 'x'" is
 * "!(a == 'x')". A run of "!" collapses to one or none, as Calico's parser does.
 */
export function parseSelectorText(text: string): SelectorNode {
  return new SelectorParser(text).parse();
}

class SelectorParser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parse(): SelectorNode {
    if (this.peek().kind === 'end') return { kind: 'all' };
    const root = this.parseOr();
    this.expect(['end'], '"&&", "||" or the end of the selector');
    return root;
  }

  private parseOr(): SelectorNode {
    const operands: [SelectorNode, ...SelectorNode[]] = [this.parseAnd()];
    while (this.accept('or')) operands.push(this.parseAnd());
    return operands.length === 1 ? operands[0] : { kind: 'or', operands };
  }

  private parseAnd(): SelectorNode {
    const operands: [SelectorNode, ...SelectorNode[]] = [this.parseOperation()];
    while (this.accept('and')) operands.push(this.parseOperation());
    return operands.length === 1 ? operands[0] : { kind: 'and', operands };
  }

  private parseOperation(): SelectorNode {
    let negated = false;
    while (this.accept('not')) negated = !negated;
    const operand = this.parseOperand();
    return negated ? { kind: 'not', operand } : operand;
  }

  private parseOperand(): SelectorNode {
    const token = this.peek();
    switch (token.kind) {
      case 'has':
        this.advance();
        return { kind: 'has', key: token.value };
      case 'all':
      case 'global':
        this.advance();
        return { kind: token.kind };
      case 'label':
        this.advance();
        return this.parseComparison(token.value);
      case 'lparen':
        return this.parseParenthesized(token);
      default:
        return this.fail(token, ['has', 'all', 'global', 'label', 'lparen', 'not'], OPERAND);
    }
  }

  private parseParenthesized(open: ValidToken): SelectorNode {
    if (this.depth >= MAX_NESTING) {
      throw new SelectorSyntaxError(this.text, open.start, `at most ${MAX_NESTING} nested parentheses`);
    }
    this.advance();
    this.depth++;
    const inner = this.parseOr();
    this.expect(['rparen'], '"&&", "||" or ")"');
    this.depth--;
    return inner;
  }

  private parseComparison(key: string): SelectorNode {
    const token = this.peek();
    const valueOperator = VALUE_OPERATORS.get(token.kind);
    if (valueOperator) {
      this.advance();
      return { kind: valueOperator, key, value: this.expect(['string'], 'a quoted value').value };
    }
    const setOperator = SET_OPERATORS.get(token.kind);
    if (setOperator) {
      this.advance();
      this.expect(['lbrace'], '"{"');
      return { kind: setOperator, key, values: normalizeSetValues(this.parseSetBody()) };
    }
    return this.fail(token, ['eq', 'ne', 'contains', 'startsWith', 'endsWith', 'in', 'notIn'], OPERATOR);
  }

  // After "{": values separated by commas, then "}". Calico accepts "{}" and a trailing
  // comma ("{'a',}"), but not a leading or doubled one.
  private parseSetBody(): string[] {
    const values: string[] = [];
    for (;;) {
      if (this.accept('rbrace')) return values;
      values.push(this.expect(['string'], 'a quoted value or "}"').value);
      if (this.accept('rbrace')) return values;
      this.expect(['comma'], '"," or "}"');
    }
  }

  private peek(): Token {
    // The last token is `end` or `invalid` and is never consumed, so this stays in range.
    const token = this.tokens[this.index];
    if (!token) throw new Error('selector parser read past the last token');
    return token;
  }

  private advance(): void {
    this.index++;
  }

  private accept(kind: TokenKind): boolean {
    if (this.peek().kind !== kind) return false;
    this.advance();
    return true;
  }

  /** Consumes a token of one of `kinds` (`end` is checked, never consumed). */
  private expect(kinds: readonly TokenKind[], expected: string): ValidToken {
    const token = this.peek();
    if (token.kind !== 'invalid' && kinds.includes(token.kind)) {
      if (token.kind !== 'end') this.advance();
      return token;
    }
    return this.fail(token, kinds, expected);
  }

  /**
   * When the text broke off inside a token that would have been valid here (say an
   * unterminated quoted value where a value was expected), the token's own complaint is
   * the precise one; otherwise say what this point of the grammar accepts.
   */
  private fail(token: Token, valid: readonly TokenKind[], expected: string): never {
    if (token.kind === 'invalid' && token.partial && valid.includes(token.partial.intended)) {
      throw new SelectorSyntaxError(this.text, token.partial.position, token.partial.expected);
    }
    throw new SelectorSyntaxError(this.text, token.start, expected);
  }
}

import { readTokenAt } from './tokenizer';

/**
 * A selector that is not valid Calico selector syntax. `position` is the 0-based offset
 * (a JavaScript string index) where parsing stopped; `expected` says what would have
 * been valid there.
 */
export class SelectorSyntaxError extends Error {
  constructor(
    readonly selector: string,
    readonly position: number,
    readonly expected: string,
  ) {
    super(
      `invalid selector ${JSON.stringify(selector)}: expected ${expected} at position ${position}` +
        describeFound(selector, position),
    );
    this.name = 'SelectorSyntaxError';
  }
}

const MAX_FOUND_LENGTH = 24;

// Naming what is at the position makes a message actionable without counting
// characters; at the end of the text there is nothing to name.
function describeFound(selector: string, position: number): string {
  if (position >= selector.length) return '';
  const found = foundAt(selector, position);
  const shown = found.length > MAX_FOUND_LENGTH ? `${found.slice(0, MAX_FOUND_LENGTH)}…` : found;
  return `, found ${JSON.stringify(shown)}`;
}

function foundAt(selector: string, position: number): string {
  const token = readTokenAt(selector, position, undefined);
  if (token.kind !== 'invalid') return selector.slice(token.start, token.end);
  if (token.partial) return selector.slice(position);
  return String.fromCodePoint(selector.codePointAt(position) ?? 0);
}

/**
 * The parsed form of a Calico selector. Mirrors the node types of
 * libcalico-go/lib/selector/parser/ast.go so that evaluation and the canonical text
 * follow Calico node for node.
 */
export type SelectorNode =
  | { readonly kind: 'all' }
  | { readonly kind: 'global' }
  | { readonly kind: 'has'; readonly key: string }
  | { readonly kind: ValueOperator; readonly key: string; readonly value: string }
  | { readonly kind: SetOperator; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: 'not'; readonly operand: SelectorNode }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly SelectorNode[] };

export type ValueOperator = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
export type SetOperator = 'in' | 'notIn';

/**
 * The values of an `in` / `not in` set, sorted and without duplicates, as Calico stores
 * them: the canonical text then does not depend on how the set was written.
 */
export function normalizeSetValues(values: readonly string[]): readonly string[] {
  const sorted = [...values].sort(compareByCodePoint);
  return sorted.filter((value, i) => i === 0 || value !== sorted[i - 1]);
}

/**
 * Orders strings by Unicode code point, which is the order of their UTF-8 bytes and so
 * the order Go's `<` on strings gives. Plain `<` in JavaScript compares UTF-16 code
 * units and disagrees for characters above U+FFFF against U+E000..U+FFFF.
 */
export function compareByCodePoint(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrderOf(x) - codePointOrderOf(y);
  }
  return a.length - b.length;
}

// Moves surrogates (0xD800..0xDFFF) above 0xE000..0xFFFF, so a comparison of the first
// differing code unit agrees with a comparison of code points.
function codePointOrderOf(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

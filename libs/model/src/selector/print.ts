import { SelectorNode } from './ast';

const VALUE_OPERATOR_TEXT = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

/**
 * The canonical text of a selector: what Calico's Selector.String() produces
 * (parser/ast.go collectFragments), so the two agree on whether selectors are "the
 * same". That means: every "&&" / "||" group in parentheses, even at the top; sets
 * sorted and de-duplicated; values in double quotes unless they contain one, then in
 * single quotes. The one difference is double negation, see below.
 */
export function printSelector(node: SelectorNode): string {
  switch (node.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.key})`;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return `${node.key}${VALUE_OPERATOR_TEXT[node.kind]}${quote(node.value)}`;
    case 'in':
    case 'notIn':
      return `${node.key} ${node.kind === 'in' ? 'in' : 'not in'} {${node.values.map(quote).join(', ')}}`;
    case 'not':
      // Consecutive "!" collapse when parsed, so Calico's "!!x" for the tree of "!(!x)"
      // reads back as x: still equivalent, but no longer a fixed point. Parentheses keep
      // the tree (the one place this deliberately differs from Calico's text).
      return node.operand.kind === 'not' ? `!(${printSelector(node.operand)})` : `!${printSelector(node.operand)}`;
    case 'and':
    case 'or':
      return `(${node.operands.map(printSelector).join(node.kind === 'and' ? ' && ' : ' || ')})`;
  }
}

// There is no escape syntax, so a value holding both quote characters cannot be
// written at all; the parser can never produce one.
function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

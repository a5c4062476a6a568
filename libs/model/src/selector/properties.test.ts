import fc from 'fast-check';
import { normalizeSetValues, SelectorNode, SetOperator, ValueOperator } from './ast';
import { evaluateSelector } from './evaluate';
import { parseSelector, Selector, SelectorSyntaxError } from './index';
import { parseSelectorText } from './parser';
import { printSelector } from './print';

// A small universe of keys and values, so random label sets often hit what random
// selectors test for; plus arbitrary ones for coverage of odd characters.
const KEYS = ['a', 'b', 'k8s-app', 'projectcalico.org/zone', 'in', 'contains', 'has', 'all', 'not', 'starts'];
const VALUES = ['', 'x', 'y', 'xy', "it's", 'say "hi"', 'eu west', '\u{1F600}', '\uFFFD', 'line\nbreak'];

const keyArb = fc.oneof(fc.constantFrom(...KEYS), fc.stringMatching(/^[A-Za-z0-9_./-]{1,12}$/));

// No escape syntax exists, so no selector can hold a value with both quote characters.
const valueArb = fc
  .oneof(fc.constantFrom(...VALUES), fc.string({ unit: 'grapheme', maxLength: 8 }))
  .filter((value) => !(value.includes('"') && value.includes("'")));

const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 6 });

const leafArb: fc.Arbitrary<SelectorNode> = fc.oneof(
  fc.constant<SelectorNode>({ kind: 'all' }),
  fc.constant<SelectorNode>({ kind: 'global' }),
  fc.record({ kind: fc.constant('has' as const), key: keyArb }),
  fc.record({
    kind: fc.constantFrom<ValueOperator>('eq', 'ne', 'contains', 'startsWith', 'endsWith'),
    key: keyArb,
    value: valueArb,
  }),
  fc.record({
    kind: fc.constantFrom<SetOperator>('in', 'notIn'),
    key: keyArb,
    values: fc.array(valueArb, { maxLength: 4 }),
  }),
);

const { node: nodeArb } = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ kind: fc.constant('not' as const), operand: tie('node') }),
    fc.record({
      kind: fc.constantFrom('and' as const, 'or' as const),
      operands: fc.array(tie('node'), { minLength: 2, maxLength: 4 }),
    }),
  ),
}));

// Pieces of selector syntax, valid and not, so random texts get past the first token
// often enough to exercise the whole parser.
const FRAGMENTS = [
  'has(', 'has(a)', 'all()', 'global()', 'a', 'b', 'k8s-app', '==', '!=', '!', '&&', '||', '(', ')', '{', '}', ',',
  "'x'", '"y"', "'", '"', ' ', '\t', '\n', 'in', 'not in', 'not', 'contains', 'starts with', 'ends', 'with', '=',
  '&', '|', '%', 'é',
];
const textArb = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 14 }).map((parts) => parts.join('')),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 14 }).map((parts) => parts.join(' ')),
);

/**
 * Writes a tree as valid but non-canonical text: any quote style the value allows,
 * optional whitespace wherever Calico allows none, the operator spellings "startswith"
 * and "notin", shuffled and repeated set values with an optional trailing comma,
 * redundant parentheses and double negation. "&&" / "||" groups other than the top one
 * keep their parentheses, since removing them would change the tree.
 */
function writeLoosely(node: SelectorNode, g: fc.GeneratorValue, top = false): string {
  const space = (): string => g(fc.constantFrom, '', ' ', '\t', ' \t ');
  const someSpace = (): string => g(fc.constantFrom, ' ', '\t', '  ');
  const quoted = (value: string): string => {
    const options = [...(value.includes("'") ? [] : [`'${value}'`]), ...(value.includes('"') ? [] : [`"${value}"`])];
    return g(fc.constantFrom, ...options);
  };
  const write = (): string => {
    switch (node.kind) {
      case 'all':
      case 'global':
        return `${node.kind}(${space()})`;
      case 'has':
        return `has(${space()}${node.key}${space()})`;
      case 'eq':
        return `${node.key}${space()}==${space()}${quoted(node.value)}`;
      case 'ne':
        return `${node.key}${space()}!=${space()}${quoted(node.value)}`;
      case 'contains':
        return `${node.key}${someSpace()}contains${space()}${quoted(node.value)}`;
      case 'startsWith':
        return `${node.key}${someSpace()}starts${space()}with${space()}${quoted(node.value)}`;
      case 'endsWith':
        return `${node.key}${someSpace()}ends${space()}with${space()}${quoted(node.value)}`;
      case 'in':
      case 'notIn': {
        const operator = node.kind === 'in' ? 'in' : `not${space()}in`;
        const written = g(fc.shuffledSubarray, [...node.values, ...node.values], { minLength: node.values.length });
        const values = [...new Set([...node.values, ...written])].map(quoted);
        const trailingComma = values.length > 0 && g(fc.boolean) ? `${space()},` : '';
        const items = values.join(`${space()},${space()}`);
        return `${node.key}${someSpace()}${operator}${space()}{${space()}${items}${trailingComma}${space()}}`;
      }
      case 'not': {
        // "!" directly before "!" would collapse the two; parentheses keep the tree.
        const operand = writeLoosely(node.operand, g);
        return `!${space()}${node.operand.kind === 'not' ? `(${operand})` : operand}`;
      }
      case 'and':
      case 'or': {
        const operator = node.kind === 'and' ? '&&' : '||';
        const joined = node.operands.map((operand) => writeLoosely(operand, g)).join(`${space()}${operator}${space()}`);
        return top && g(fc.boolean) ? joined : `(${space()}${joined}${space()})`;
      }
    }
  };
  const text = write();
  if (g(fc.integer, { min: 0, max: 9 }) === 0) return `(${space()}${text}${space()})`;
  if (node.kind !== 'not' && g(fc.integer, { min: 0, max: 9 }) === 0) return `!${space()}!${space()}${text}`;
  return text;
}

function withSortedSets(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'in':
    case 'notIn':
      return { ...node, values: normalizeSetValues(node.values) };
    case 'not':
      return { ...node, operand: withSortedSets(node.operand) };
    case 'and':
    case 'or':
      return { ...node, operands: node.operands.map(withSortedSets) };
    default:
      return node;
  }
}

function parseOrSyntaxError(text: string): Selector | SelectorSyntaxError {
  try {
    return parseSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) return error;
    throw error;
  }
}

describe('selector properties', () => {
  it('parsing the printed form of any selector tree gives a selector that matches the same label sets', () => {
    fc.assert(
      fc.property(nodeArb, fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (node, labelSets) => {
        const reparsed = parseSelector(printSelector(node));
        for (const labels of labelSets) {
          expect(reparsed.matches(labels)).toBe(evaluateSelector(node, labels));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('parsing the printed form of any selector tree gives back the same tree, with sets sorted', () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        expect(parseSelectorText(printSelector(node))).toEqual(withSortedSets(node));
      }),
      { numRuns: 1000 },
    );
  });

  it('the canonical form of any selector parses back to the same canonical form', () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        const canonical = parseSelector(printSelector(node)).toString();
        expect(parseSelector(canonical).toString()).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });

  it('on any text, parsing either succeeds or throws a SelectorSyntaxError with a position inside the text', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const result = parseOrSyntaxError(text);
        if (result instanceof SelectorSyntaxError) {
          expect(result.position).toBeGreaterThanOrEqual(0);
          expect(result.position).toBeLessThanOrEqual(text.length);
          expect(result.message).toContain(`at position ${result.position}`);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('any way of writing a selector tree means the same as its canonical form', () => {
    fc.assert(
      fc.property(nodeArb, fc.gen(), fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (node, g, labelSets) => {
        const text = writeLoosely(node, g, true);
        const parsed = parseSelector(text);
        expect(parsed.toString()).toBe(parseSelector(printSelector(node)).toString());
        for (const labels of labelSets) expect(parsed.matches(labels)).toBe(evaluateSelector(node, labels));
      }),
      { numRuns: 1000 },
    );
  });
});

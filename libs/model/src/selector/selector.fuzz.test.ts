import fc from 'fast-check';
import { validateResource } from '../resources';
import { parseSelector, Selector, SelectorSyntaxError } from './index';

// What properties.test.ts does not cover yet: it round-trips selectors generated as
// trees, and feeds the parser texts of at most 30 characters. Here: any text the parser
// accepts — not only printed trees — has a canonical form that is a fixed point and
// means the same; matching never throws, whatever the labels (prototype names included);
// long texts and runs of "!" / "(" never overflow the stack; and an IPPool carrying any
// text as its nodeSelector is either valid or refused with a problem, never a crash.

const FRAGMENTS = [
  'has(a)', 'has(k8s-app)', 'all()', 'global()', 'a', 'b', 'k8s-app', 'projectcalico.org/zone', '==', '!=', '!', '&&', '||', '(', ')',
  "'x'", '"y"', "''", ' ', '\t', ' in ', ' not in ', ' notin ', ' contains ', ' starts with ', ' startswith ', ' ends with ', ' endswith ',
  '{', '}', "{'x','y',}", '{}', ',', 'constructor', '__proto__', 'toString',
];
const accepted = (text: string): Selector | undefined => {
  try {
    return parseSelector(text);
  } catch (err) {
    if (err instanceof SelectorSyntaxError) return undefined;
    throw err;
  }
};
const fragmentText = (maxLength: number) => fc.array(fc.constantFrom(...FRAGMENTS), { maxLength }).map((parts) => parts.join(''));
const LABEL_KEYS = ['a', 'b', 'k8s-app', 'projectcalico.org/zone', 'constructor', '__proto__', 'toString', 'hasOwnProperty'];
const labelsArb = fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom('', 'x', 'y', 'xy', "it's"), { maxKeys: 5 });

describe('selector fuzzing beyond properties.test.ts', () => {
  it('gives any accepted text a canonical form that is a fixed point and matches the same label sets', () => {
    let parsed = 0;
    fc.assert(
      fc.property(fragmentText(16), fc.array(labelsArb, { minLength: 1, maxLength: 6 }), (text, labelSets) => {
        const selector = accepted(text);
        if (!selector) return;
        parsed++;
        const canonical = selector.toString();
        const again = parseSelector(canonical);
        expect(again.toString()).toBe(canonical);
        for (const labels of labelSets) expect(again.matches(labels)).toBe(selector.matches(labels));
      }),
      { numRuns: 10_000 },
    );
    expect(parsed).toBeGreaterThan(500);
  });

  it('never throws while matching, whatever the labels, prototype names included', () => {
    const anyLabels = fc.dictionary(fc.oneof(fc.constantFrom(...LABEL_KEYS), fc.string({ maxLength: 6 })), fc.string({ maxLength: 6 }), { maxKeys: 6 });
    fc.assert(
      fc.property(fragmentText(12), anyLabels, (text, labels) => {
        const selector = accepted(text);
        if (selector) expect(typeof selector.matches(labels)).toBe('boolean');
        expect(typeof (selector?.matches(Object.create(null) as Record<string, string>) ?? true)).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });

  it('answers long texts and long runs of "!" or "(" with a selector or a SelectorSyntaxError', () => {
    fc.assert(
      fc.property(fc.oneof(fragmentText(400), fc.string({ minLength: 200, maxLength: 3000 })), fc.integer({ min: 0, max: 5000 }), fc.constantFrom('!', '(', '! (', '!('), (text, n, run) => {
        accepted(text);
        accepted(`${run.repeat(n)}${text}`);
      }),
      { numRuns: 300 },
    );
  });

  it('lets an IPPool carry any nodeSelector text: valid, or refused naming spec.nodeSelector', () => {
    fc.assert(
      fc.property(fc.oneof(fragmentText(12), fc.string({ maxLength: 40 })), (text) => {
        const problems = validateResource({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16', nodeSelector: text } });
        const selectorOk = accepted(text) !== undefined;
        const fields = problems.map((p) => p.field);
        expect(fields.includes('spec.nodeSelector')).toBe(!selectorOk);
      }),
      { numRuns: 3000 },
    );
  });
});

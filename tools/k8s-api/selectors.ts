import type { ResourceType } from './resources';
import { badRequest } from './status';
import type { KubeObject } from './types';

// Field and label selectors with the apiserver's grammar and semantics
// (k8s.io/apimachinery/pkg/fields and pkg/labels). Parse errors are 400 BadRequest, as
// there, so a client bug shows up here and not first in a real cluster.

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export type LabelRequirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | '!exists' }
  | { readonly key: string; readonly op: 'gt' | 'lt'; readonly value: number };

// ---------------------------------------------------------------- field selectors

/** Splits on commas that are not escaped with a backslash (values may contain `\,`). */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

function unescapeFieldValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = v[i + 1];
    if (next !== '\\' && next !== ',' && next !== '=') {
      throw badRequest(`invalid field selector: invalid escape sequence: \\${next ?? ''}`);
    }
    out += next;
    i++;
  }
  return out;
}

// Checked in this order at every position, so `a!=b` is never read as `a!` `=` `b`.
const FIELD_OPERATORS = ['!=', '==', '='] as const;

export function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === '') return [];
  return splitUnescaped(selector, ',').map((term) => {
    for (let i = 0; i < term.length; i++) {
      for (const op of FIELD_OPERATORS) {
        if (term.startsWith(op, i)) {
          return {
            field: term.slice(0, i).trim(),
            op: op === '!=' ? '!=' : '=',
            value: unescapeFieldValue(term.slice(i + op.length)),
          };
        }
      }
    }
    throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
  });
}

// ---------------------------------------------------------------- label selectors

type Token =
  | { kind: 'id'; text: string }
  | { kind: 'op'; text: '!' | '=' | '==' | '!=' | '>' | '<' | '(' | ')' | ',' }
  | { kind: 'end'; text: '' };

const SPECIAL = new Set(['!', '=', '>', '<', '(', ')', ',']);

function lexLabelSelector(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '!' || c === '=') {
      const two = s.slice(i, i + 2);
      if (two === '!=' || two === '==') {
        tokens.push({ kind: 'op', text: two });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c });
        i++;
      }
    } else if (SPECIAL.has(c)) {
      tokens.push({ kind: 'op', text: c as '>' | '<' | '(' | ')' | ',' });
      i++;
    } else {
      let j = i;
      while (j < s.length && !SPECIAL.has(s[j]!) && !/\s/.test(s[j]!)) j++;
      tokens.push({ kind: 'id', text: s.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

class LabelSelectorParser {
  private pos = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      reqs.push(this.requirement());
      const t = this.next();
      if (t.kind === 'end') return reqs;
      if (t.text !== ',') this.fail(`found '${t.text}', expected: ',' or 'end of string'`);
    }
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  private fail(why: string): never {
    throw badRequest(`unable to parse requirement: ${why} (in label selector '${this.source}')`);
  }

  private identifier(): string {
    const t = this.next();
    if (t.kind !== 'id') this.fail(`found '${t.text}', expected: identifier`);
    return t.text;
  }

  private requirement(): LabelRequirement {
    if (this.peek().text === '!') {
      this.next();
      return { key: this.identifier(), op: '!exists' };
    }
    const key = this.identifier();
    const t = this.peek();
    if (t.kind === 'end' || t.text === ',') return { key, op: 'exists' };
    this.next();
    if (t.kind === 'id' && (t.text === 'in' || t.text === 'notin')) {
      return { key, op: t.text, values: this.valueSet() };
    }
    switch (t.text) {
      case '=':
      case '==':
        return { key, op: 'in', values: [this.singleValue()] };
      case '!=':
        return { key, op: 'notin', values: [this.singleValue()] };
      case '>':
      case '<': {
        const raw = this.identifier();
        const value = Number(raw);
        if (!Number.isInteger(value)) this.fail(`for 'Gt', 'Lt' operators, the value must be an integer: ${raw}`);
        return { key, op: t.text === '>' ? 'gt' : 'lt', value };
      }
      default:
        return this.fail(`found '${t.text}', expected: '=', '!=', '==', 'in', notin'`);
    }
  }

  /** `k=` is a valid requirement meaning "the label is present with an empty value". */
  private singleValue(): string {
    const t = this.peek();
    if (t.kind === 'end' || t.text === ',') return '';
    return this.identifier();
  }

  private valueSet(): string[] {
    if (this.next().text !== '(') this.fail("found '', expected: '('");
    const values: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t.text === ')') {
        this.next();
        if (values.length === 0) this.fail('for \'in\', \'notin\' operators, values set can\'t be empty');
        return values;
      }
      if (t.text === ',') {
        // an empty element, as in `in (a,,b)` or `in (,a)`
        this.next();
        values.push('');
        continue;
      }
      values.push(this.identifier());
      const sep = this.peek();
      if (sep.text === ',') this.next();
      else if (sep.text !== ')') this.fail(`found '${sep.text}', expected: ',' or ')'`);
    }
  }
}

export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (selector.trim() === '') return [];
  return new LabelSelectorParser(selector, lexLabelSelector(selector)).parse();
}

export function labelsMatch(reqs: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const ls = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(ls, r.key);
    const v = has ? ls[r.key]! : undefined;
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        // as in Kubernetes: an object without the label matches `k!=v` and `k notin (...)`
        return !has || !r.values.includes(v!);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
}

// ---------------------------------------------------------------- both, for one kind

export type ObjectPredicate = (obj: KubeObject) => boolean;

/**
 * Builds the predicate a list or watch applies. Field labels are checked against the
 * kind up front: `fieldSelector=spec.nodeName=x` on nodes is a 400, not an empty list.
 */
export function compileSelectors(
  resource: ResourceType,
  selectors: { fieldSelector?: string; labelSelector?: string },
): ObjectPredicate {
  const fields = parseFieldSelector(selectors.fieldSelector ?? '');
  const labels = parseLabelSelector(selectors.labelSelector ?? '');
  const getters = fields.map((f) => {
    const get = resource.fieldLabels[f.field];
    if (!get) throw badRequest(`field label not supported: ${f.field}`);
    return { ...f, get };
  });
  return (obj) =>
    getters.every((f) => (f.get(obj) === f.value) === (f.op === '=')) && labelsMatch(labels, obj.metadata.labels);
}

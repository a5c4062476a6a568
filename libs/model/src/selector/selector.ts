import { SelectorNode } from './ast';
import { evaluateSelector, Labels } from './evaluate';
import { parseSelectorText } from './parser';
import { printSelector } from './print';

/** A parsed Calico label selector (IPPool `nodeSelector`, `namespaceSelector`). */
export interface Selector {
  /** The text as given to parseSelector. */
  readonly source: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
  /** The canonical form, identical to Calico's Selector.String(); "" becomes "all()". */
  toString(): string;
}

/** Parses Calico selector syntax; throws SelectorSyntaxError on invalid text. */
export function parseSelector(text: string): Selector {
  if (typeof text !== 'string') throw new TypeError(`a selector must be a string, not ${typeof text}`);
  return new ParsedSelector(text, parseSelectorText(text));
}

class ParsedSelector implements Selector {
  private readonly canonical: string;

  constructor(
    readonly source: string,
    private readonly root: SelectorNode,
  ) {
    this.canonical = printSelector(root);
  }

  matches(labels: Labels): boolean {
    return evaluateSelector(this.root, labels);
  }

  toString(): string {
    return this.canonical;
  }
}

import { describeResource } from '../resources';

/** Where in the input a problem is, and what it is. Indices are 1-based, as a user counts. */
export interface LoadProblem {
  readonly source: string;
  /** The YAML document (between `---` separators); undefined for whole-input problems. */
  readonly document?: number;
  /** The entry of a `List` document's `items`. */
  readonly item?: number;
  /** Line in the input, when known (syntax errors). */
  readonly line?: number;
  readonly kind?: string;
  readonly resourceName?: string;
  /** Path inside the resource, e.g. `spec.blockSize`. */
  readonly field?: string;
  /** What is wrong, without location (for a ValidationError: its `detail`, field included). */
  readonly text: string;
  /** The full one-line message, e.g. `pools.yaml: document 2 (IPPool "p2"): spec.blockSize: …`. */
  readonly message: string;
}

export function formatLoadProblem(problem: Omit<LoadProblem, 'message'>): string {
  let where = problem.source;
  if (problem.document !== undefined) where += `: document ${problem.document}`;
  if (problem.item !== undefined) where += `, item ${problem.item}`;
  if (problem.kind !== undefined) where += ` (${describeResource(problem.kind, problem.resourceName)})`;
  if (problem.line !== undefined) where += `, line ${problem.line}`;
  return `${where}: ${problem.text}`;
}

export function loadProblem(problem: Omit<LoadProblem, 'message'>): LoadProblem {
  return { ...problem, message: formatLoadProblem(problem) };
}

/**
 * Input that could not be loaded. Holds every problem found (`problems`); the message has
 * one line per problem and the other properties describe the first, so the common case
 * (one mistake) reads naturally.
 */
export class ResourceLoadError extends Error {
  override readonly name = 'ResourceLoadError';
  readonly source: string;
  readonly document: number | undefined;
  readonly item: number | undefined;
  readonly field: string | undefined;

  constructor(readonly problems: readonly [LoadProblem, ...LoadProblem[]]) {
    super(problems.map((p) => p.message).join('\n'));
    const [first] = problems;
    this.source = first.source;
    this.document = first.document;
    this.item = first.item;
    this.field = first.field;
  }
}

/**
 * One thing wrong with a resource. `field` is the path inside the resource
 * (`spec.cidr`, `metadata.labels["app"]`, `spec.allowedUses[1]`), `reason` is the text a
 * user reads (Calico's own wording wherever Calico has one), `value` the offending value
 * when showing it helps.
 *
 * The resource's name is `resourceName`, not `name`: `Error.name` is the error class name
 * that stack traces and `err.name === 'ValidationError'` checks rely on.
 */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  /** `field: reason[, got value]`, without the resource prefix (the loader adds its own). */
  readonly detail: string;

  constructor(
    readonly kind: string,
    readonly resourceName: string | undefined,
    readonly field: string,
    readonly reason: string,
    readonly value?: unknown,
  ) {
    const detail = `${field}: ${reason}${value === undefined ? '' : `, got ${describeValue(value)}`}`;
    super(`${describeResource(kind, resourceName)}: ${detail}`);
    this.detail = detail;
  }
}

/** `IPPool "p1"`, or just `IPPool` when the resource has no usable name. */
export function describeResource(kind: string, resourceName: string | undefined): string {
  return resourceName ? `${kind} ${JSON.stringify(resourceName)}` : kind;
}

const MAX_SHOWN_STRING = 80;

/** Short, unambiguous rendering of a value inside a message: strings quoted, containers named. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN_STRING ? `${value.slice(0, MAX_SHOWN_STRING)}…` : value;
    return JSON.stringify(shown);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * Throws the first problem, if any. Every `validate…` function returns all problems; this
 * is for callers that want the throwing style.
 */
export function throwIfInvalid(problems: readonly ValidationError[]): void {
  const first = problems[0];
  if (first) throw first;
}

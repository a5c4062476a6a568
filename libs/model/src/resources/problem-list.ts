import { ValidationError } from './validation-error';

/**
 * Collects the problems of one resource. Validation reports every problem it finds rather
 * than stopping at the first, so a user fixes a file in one round.
 */
export class ProblemList {
  readonly problems: ValidationError[] = [];

  constructor(
    readonly kind: string,
    readonly resourceName: string | undefined,
  ) {}

  add(field: string, reason: string, value?: unknown): void {
    this.problems.push(new ValidationError(this.kind, this.resourceName, field, reason, value));
  }
}

/** `spec` + `cidr` → `spec.cidr`. */
export function fieldPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/** Map entries are quoted, since label keys contain dots and slashes. */
export function mapEntryPath(parent: string, key: string): string {
  return `${parent}[${JSON.stringify(key)}]`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

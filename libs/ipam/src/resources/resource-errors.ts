import { RESOURCE_KINDS, ValidationError } from '@atoll/model';
import { IpamError } from '../errors';

// The resource API's errors, with Calico's texts (libcalico-go/lib/errors: a resource is
// named `<Kind>(<name>)`). Codes, not texts, are what callers switch on.

/** `IPPool(default-ipv4-ippool)`: how Calico names a resource in its errors. */
export function resourceId(kind: string, name: string): string {
  return `${kind}(${name})`;
}

export function notFound(kind: string, name: string): IpamError {
  return new IpamError('not-found', `resource does not exist: ${resourceId(kind, name)}`);
}

export function alreadyExists(kind: string, name: string): IpamError {
  return new IpamError('already-exists', `resource already exists: ${resourceId(kind, name)}`);
}

export function updateConflict(kind: string, name: string, cause?: unknown): IpamError {
  return new IpamError('conflict', `update conflict: ${resourceId(kind, name)}`, { cause });
}

/**
 * Validation problems as one 'invalid-argument' error: each problem's message (which names
 * the resource and the field), joined with "; ". The cause keeps the problems themselves.
 */
export function invalidResource(problems: readonly ValidationError[]): IpamError {
  const message = problems.map((p) => p.message).join('; ');
  const cause = problems.length === 1 ? problems[0] : new AggregateError(problems, message);
  return new IpamError('invalid-argument', message, { cause });
}

/** A kind this API does not serve, as `get`/`list`/`delete` take it. */
export function unknownKind(kind: string): IpamError {
  return new IpamError(
    'invalid-argument',
    `unknown resource kind ${JSON.stringify(kind)}: must be one of ${RESOURCE_KINDS.join(', ')}`,
  );
}

/** A stored value that is not a resource (written by something else); never guessed at. */
export function corruptResource(kind: string, name: string, key: string, reason: string): IpamError {
  return new IpamError('internal', `stored ${resourceId(kind, name)} at ${key} cannot be read: ${reason}`);
}

// `Status` objects byte-compatible with kube-apiserver's, and the one error class that
// carries them. Clients branch on `code` and `reason` (client-node's informer re-lists on
// code 410; kubectl prints `Error from server (NotFound): <message>`), so the field order
// and wording follow the apiserver's own output.

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'Unauthorized'
  | 'BadRequest'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  kind?: string;
  causes?: StatusCause[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): Status {
  // Key order matches the apiserver's JSON (details sits between reason and code).
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** A request the stand-in refuses; the HTTP layer answers `status.code` with `status` as body. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }

  get code(): number {
    return this.status.code;
  }
}

export const notFound = (resource: string, name: string) =>
  new ApiError(failure(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource }));

/** An unknown path under a known API group (the apiserver's wording, empty details). */
export const resourceNotFound = () =>
  new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}));

export const alreadyExists = (resource: string, name: string) =>
  new ApiError(failure(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource }));

export const conflict = (resource: string, name: string, why: string) =>
  new ApiError(
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource }),
  );

export const OBJECT_MODIFIED =
  'the object has been modified; please apply your changes to the latest version and try again';

/** `requested` is older than the oldest revision a watch can still start from. */
export const expired = (requested: number, oldest: number) =>
  failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`);

export const unauthorized = () => new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));

export const badRequest = (message: string) => new ApiError(failure(400, 'BadRequest', message));

export const invalid = (kind: string, name: string, causes: StatusCause[]) =>
  new ApiError(
    failure(
      422,
      'Invalid',
      `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { name, kind, causes },
    ),
  );

export const methodNotAllowed = () =>
  new ApiError(failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));

export const unsupportedMediaType = (contentType: string, accepted: readonly string[]) =>
  new ApiError(
    failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format (${contentType || 'none'}) - accepted media types include: ${accepted.join(', ')}`,
    ),
  );

export const requestTooLarge = (limit: number) =>
  new ApiError(failure(413, 'RequestEntityTooLarge', `request body exceeds ${limit} bytes`));

export const internalError = (message: string) =>
  new ApiError(failure(500, 'InternalError', `Internal error occurred: ${message}`));

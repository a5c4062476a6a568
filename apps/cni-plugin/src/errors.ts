// CNI error codes and the one error type the plugin throws. Codes below 100 are the CNI
// spec's well-known codes; the agent's IPAM refusals (>= 100) pass through unchanged, so a
// runtime (or a person reading kubelet events) sees the code the agent chose.

export const CniErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  /** STATUS (CNI 1.1): the plugin cannot serve ADD requests right now. */
  pluginNotAvailable: 50,
  /** skel's code for anything untyped; here: the agent answered something unreadable. */
  internal: 999,
} as const;

/** A failure the plugin reports as CNI error JSON on stdout (exit status 1). */
export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CniError';
  }
}

/**
 * The spec's error shape. `details` is omitted when empty, as Go's types.Error does, so
 * Go runtimes and plugins that re-print our error see the same bytes they would produce.
 */
export function formatCniError(err: CniError, cniVersion: string): string {
  return JSON.stringify({
    cniVersion,
    code: err.code,
    msg: err.message,
    ...(err.details !== '' && { details: err.details }),
  });
}

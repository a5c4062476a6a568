import { RpcError } from '@atoll/api';
import { oneLine } from './errors';

// Commands put the allocator's refusals in their own words ("Failed to apply 'IPPool'
// resource: …"). An unavailable allocator is different: the top level says whether it is
// unreachable or reachable but unable to serve, so those errors are passed up untouched.

export function isUnavailable(err: unknown): err is RpcError {
  return err instanceof RpcError && err.code === 'unavailable';
}

/** The allocator's message for a refused call, on one line; anything else is rethrown. */
export function refusalMessage(err: unknown): string {
  if (!(err instanceof RpcError) || err.code === 'unavailable') throw err;
  return oneLine(err.message);
}

/** True for the allocator's not-found refusals (missing resource, free address, unknown handle). */
export function isNotFound(err: unknown): boolean {
  return err instanceof RpcError && (err.code === 'not-found' || err.code === 'node-not-found');
}

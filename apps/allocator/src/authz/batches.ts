import { toCallError } from '@atoll/api';

// Batch calls (AutoAssignBatch, ReleaseByHandleBatch) carry several requests, and each is
// judged exactly as if it had been sent alone: the allowed ones reach the handler, the
// refused ones are answered with their refusal in place, in request order. A node
// releasing an empty handle (not-found) must not fail its neighbours in the batch.

/** Batch method → the single method whose rule judges each of its requests. */
export const BATCH_ITEM_METHOD: Readonly<Record<string, string>> = {
  autoAssignBatch: 'autoAssign',
  releaseByHandleBatch: 'releaseByHandle',
};

interface BatchRequest {
  readonly requests?: readonly unknown[];
}

interface BatchResponse {
  readonly outcomes: readonly unknown[];
}

export interface JudgedBatch {
  /** The requests to hand to the handler, in their original order. */
  readonly allowed: unknown[];
  /** Puts the refusals back in place around the handler's outcomes for `allowed`. */
  merge(response: BatchResponse): BatchResponse;
}

/** Judges each request of a batch with `judge` (the single method's rule). */
export async function judgeBatch(request: unknown, judge: (item: unknown) => Promise<void>): Promise<JudgedBatch> {
  const items = [...((request as BatchRequest | undefined)?.requests ?? [])];
  const refusals = await Promise.all(items.map((item) => judge(item).then(() => undefined, (err: unknown) => ({ error: toCallError(err) }))));
  const allowed = items.filter((_, i) => refusals[i] === undefined);
  return {
    allowed,
    merge(response) {
      const served = [...response.outcomes];
      return { ...response, outcomes: refusals.map((r) => r ?? served.shift()) };
    },
  };
}

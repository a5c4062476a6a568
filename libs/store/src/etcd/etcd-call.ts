import type { ComparatorBuilder } from 'etcd3';

/**
 * gRPC call options as etcd3's builders accept them (taken from etcd3's own signature, so
 * this lib does not import @grpc/grpc-js, which it does not depend on directly).
 */
export type EtcdCallOptions = NonNullable<Parameters<ComparatorBuilder['options']>[0]>;

/**
 * Call options for one operation: every attempt ends at `attemptTimeoutMs` after it was
 * sent, and none outlives the operation's absolute deadline (`timeoutMs` from now), so a
 * retry past that deadline fails at once instead of sending the request again.
 *
 * Why attempts have their own, shorter deadline: a connection that lost an answer (a
 * one-way partition, a link that dropped bytes) looks alive, and a call waiting on it
 * would wait for the whole operation bound even after the network healed. An attempt that
 * passes its deadline fails with DEADLINE_EXCEEDED, which etcd3 counts as recoverable: it
 * closes that member's channel and retries on a fresh connection, so the operation
 * follows the heal within about one attempt's time. (An attempt already on the wire may
 * still be applied by etcd: "unavailable" never means "not written"; a resent transaction
 * fails its compares, which the engine recognises as its own write.)
 *
 * etcd3 spreads these options into each attempt's own (connection-pool exec), which
 * reads `deadline` afresh every time: hence a getter, not a fixed value.
 */
export function callOptionsWithin(timeoutMs: number, attemptTimeoutMs = timeoutMs): EtcdCallOptions {
  const operationDeadline = Date.now() + timeoutMs;
  const options = {};
  Object.defineProperty(options, 'deadline', {
    enumerable: true,
    get: () => Math.min(operationDeadline, Date.now() + attemptTimeoutMs),
  });
  return options as EtcdCallOptions;
}

import type { ComparatorBuilder } from 'etcd3';

/**
 * gRPC call options as etcd3's builders accept them (taken from etcd3's own signature, so
 * this lib does not import @grpc/grpc-js, which it does not depend on directly).
 */
export type EtcdCallOptions = NonNullable<Parameters<ComparatorBuilder['options']>[0]>;

/**
 * One absolute deadline shared by every retry attempt of an operation: once it passes, a
 * retry fails at once instead of sending the request again. (An attempt already on the
 * wire at that moment may still be applied by etcd: "unavailable" never means "not written".)
 */
export function callOptionsWithin(timeoutMs: number): EtcdCallOptions {
  return { deadline: Date.now() + timeoutMs };
}

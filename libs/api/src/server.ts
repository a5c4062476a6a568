import type { handleUnaryCall, sendUnaryData, ServerUnaryCall, ServiceError, UntypedServiceImplementation } from '@grpc/grpc-js';
import { toStatus } from './errors';

/** A service's methods as async functions (index signature of grpc-js's type removed). */
export type AsyncHandlers<T> = {
  [K in keyof T as string extends K ? never : K]: T[K] extends handleUnaryCall<infer Req, infer Res>
    ? (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>
    : never;
};

/**
 * Adapts async handlers to grpc-js's callback style: a resolved value is the response, a
 * thrown error is mapped once to a status (see errors.ts). `onError` sees every failure
 * (for logs and metrics) before it is sent.
 */
export function unaryHandlers<T extends UntypedServiceImplementation>(
  handlers: AsyncHandlers<T>,
  onError: (method: string, err: unknown) => void = () => undefined,
): T {
  const out: Record<string, handleUnaryCall<unknown, unknown>> = {};
  for (const [name, fn] of Object.entries(handlers) as [string, (req: unknown, call: ServerUnaryCall<unknown, unknown>) => Promise<unknown>][]) {
    out[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      fn(call.request, call).then(
        (res) => callback(null, res),
        (err: unknown) => {
          onError(name, err);
          callback(toStatus(err) as ServiceError, null);
        },
      );
    };
  }
  return out as unknown as T;
}

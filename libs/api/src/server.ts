import type { handleUnaryCall, sendUnaryData, ServerUnaryCall, ServiceError, UntypedServiceImplementation } from '@grpc/grpc-js';
import { toStatus } from './errors';

/** A service's method names (index signature of grpc-js's type removed). */
type MethodNames<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };

/** The names of a service's unary methods. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type UnaryMethodNames<T> = { [K in MethodNames<T>]: T[K] extends handleUnaryCall<any, any> ? K : never }[MethodNames<T>];

/** The grpc-js handlers of a service's unary methods (what unaryHandlers makes). */
export type UnaryHandlers<T> = Pick<T, UnaryMethodNames<T>>;

/** A service's unary methods as async functions; streaming methods are served by handlers of their own. */
export type AsyncHandlers<T> = {
  [K in UnaryMethodNames<T>]: T[K] extends handleUnaryCall<infer Req, infer Res> ? (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> : never;
};

/**
 * Adapts async handlers to grpc-js's callback style: a resolved value is the response, a
 * thrown error is mapped once to a status (see errors.ts). `onError` sees every failure
 * (for logs and metrics) before it is sent.
 */
export function unaryHandlers<T extends UntypedServiceImplementation>(
  handlers: AsyncHandlers<T>,
  onError: (method: string, err: unknown) => void = () => undefined,
): UnaryHandlers<T> {
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
  return out as unknown as UnaryHandlers<T>;
}

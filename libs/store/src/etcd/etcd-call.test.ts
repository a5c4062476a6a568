import { resolveAttemptTimeout, DEFAULT_ATTEMPT_TIMEOUT_MS, buildEtcdClientOptions } from './etcd-client-options';
import { callOptionsWithin } from './etcd-call';
import { StoreInvalidRequestError } from '../errors';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('callOptionsWithin', () => {
  it('gives each attempt its own deadline, read afresh when etcd3 spreads the options', async () => {
    const options = callOptionsWithin(10_000, 200);
    const first = { ...options }.deadline as number;
    expect(first - Date.now()).toBeLessThanOrEqual(200);
    await sleep(120);
    const second = { ...options }.deadline as number;
    expect(second - first).toBeGreaterThanOrEqual(100);
  });

  it('never lets an attempt outlive the operation deadline', async () => {
    const options = callOptionsWithin(150, 1000);
    const start = Date.now();
    expect(({ ...options }.deadline as number) - start).toBeLessThanOrEqual(150);
    await sleep(100);
    expect(({ ...options }.deadline as number) - start).toBeLessThanOrEqual(150);
  });
});

describe('the attempt bound', () => {
  it.each([
    ['the default under the default request bound', undefined, 5000, DEFAULT_ATTEMPT_TIMEOUT_MS],
    ['a configured one', 800, 5000, 800],
    ['never more than the request bound', 3000, 1000, 1000],
  ])('is %s', (_name, attempt, request, expected) => {
    expect(resolveAttemptTimeout(attempt, request)).toBe(expected);
  });

  it('refuses a bound that is not a positive number of milliseconds, naming it', () => {
    expect(() => resolveAttemptTimeout(0, 5000)).toThrow(StoreInvalidRequestError);
    expect(() => resolveAttemptTimeout(-1, 5000)).toThrow(/attemptTimeoutMs/);
  });
});

describe('the gRPC channel options', () => {
  it('ping etcd with keepalive no more often than etcd allows, and dial a fresh connection after a failed attempt', () => {
    const grpc = buildEtcdClientOptions({ endpoints: ['http://127.0.0.1:2379'] }).grpcOptions as Record<string, number>;
    // etcd's --grpc-keepalive-min-time defaults to 5 s: pinging more often earns a GOAWAY.
    expect(grpc['grpc.keepalive_time_ms']).toBeGreaterThanOrEqual(5000);
    expect(grpc['grpc.keepalive_timeout_ms']).toBeGreaterThan(0);
    expect(grpc['grpc.keepalive_permit_without_calls']).toBe(0);
    expect(grpc['grpc.use_local_subchannel_pool']).toBe(1);
  });
});

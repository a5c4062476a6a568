import { status } from '@grpc/grpc-js';
import { CoalescingCalls, type Settled } from './coalescing-calls';
import { RpcError } from './errors';

// A fake server: records what went out, answers when the test says so.
function fakeServer() {
  const sent: { kind: 'single' | 'batch'; reqs: number[]; timeoutMs: number }[] = [];
  const pending: (() => void)[] = [];
  const answer = (req: number): Settled<string> => (req < 0 ? { error: new RpcError('invalid-argument', `bad ${req}`, false, status.INVALID_ARGUMENT) } : { ok: `r${req}` });
  let batchFailure: RpcError | undefined;
  const calls = new CoalescingCalls<number, string>({
    single: (req, opts) =>
      new Promise((resolve, reject) => {
        sent.push({ kind: 'single', reqs: [req], timeoutMs: opts.timeoutMs! });
        pending.push(() => {
          const a = answer(req);
          if ('ok' in a) resolve(a.ok);
          else reject(a.error);
        });
      }),
    batch: (reqs, opts) =>
      new Promise((resolve, reject) => {
        sent.push({ kind: 'batch', reqs: [...reqs], timeoutMs: opts.timeoutMs! });
        pending.push(() => (batchFailure ? reject(batchFailure) : resolve(reqs.map(answer))));
      }),
    maxBatch: 3,
    defaultTimeoutMs: 10_000,
  });
  const land = async () => {
    await new Promise((r) => setImmediate(r));
    const next = pending.shift();
    next?.();
    await new Promise((r) => setImmediate(r));
  };
  return {
    calls,
    sent,
    land,
    failBatches: (e: RpcError) => {
      batchFailure = e;
    },
  };
}

describe('coalescing calls', () => {
  it('sends a lone request at once as a plain call', async () => {
    const s = fakeServer();
    const p = s.calls.call(1);
    expect(s.sent).toEqual([{ kind: 'single', reqs: [1], timeoutMs: expect.any(Number) }]);
    await s.land();
    await expect(p).resolves.toBe('r1');
  });

  it('sends what queued during a flight as one batch, at most maxBatch at a time, answering each in order', async () => {
    const s = fakeServer();
    const results = [1, 2, 3, 4, 5, 6].map((n) => s.calls.call(n));
    expect(s.sent.map((x) => x.reqs)).toEqual([[1]]);
    await s.land();
    expect(s.sent.map((x) => [x.kind, x.reqs])).toEqual([
      ['single', [1]],
      ['batch', [2, 3, 4]],
    ]);
    await s.land();
    expect(s.sent.map((x) => [x.kind, x.reqs]).at(-1)).toEqual(['batch', [5, 6]]);
    await s.land();
    await expect(Promise.all(results)).resolves.toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  it('fails only the request whose outcome is an error', async () => {
    const s = fakeServer();
    const first = s.calls.call(1);
    const batch = [2, -3, 4].map((n) => s.calls.call(n).then((ok) => ({ ok }), (e: unknown) => ({ e })));
    await s.land();
    await s.land();
    await first;
    const outcomes = await Promise.all(batch);
    expect(outcomes[0]).toEqual({ ok: 'r2' });
    expect(outcomes[1]).toEqual({ e: expect.objectContaining({ code: 'invalid-argument', message: 'bad -3' }) });
    expect(outcomes[2]).toEqual({ ok: 'r4' });
  });

  it('fails every request of a batch whose call failed in transport, and goes on with the next', async () => {
    const s = fakeServer();
    const first = s.calls.call(1);
    const batch = [2, 3].map((n) => s.calls.call(n).catch((e: unknown) => e));
    s.failBatches(new RpcError('unavailable', 'connection refused', true, status.UNAVAILABLE));
    await s.land();
    await s.land();
    await first;
    expect(await Promise.all(batch)).toEqual([expect.objectContaining({ code: 'unavailable' }), expect.objectContaining({ code: 'unavailable' })]);
    const later = s.calls.call(7);
    await s.land();
    await expect(later).resolves.toBe('r7');
  });

  it('falls back to plain calls for good when the server does not know the batch call', async () => {
    const s = fakeServer();
    const first = s.calls.call(1);
    const batch = [2, 3].map((n) => s.calls.call(n));
    s.failBatches(new RpcError('internal', 'unimplemented', false, status.UNIMPLEMENTED));
    await s.land(); // the first call
    await s.land(); // the batch, refused
    await s.land(); // plain call for 2
    await s.land(); // plain call for 3
    await first;
    await expect(Promise.all(batch)).resolves.toEqual(['r2', 'r3']);
    const more = [4, 5].map((n) => s.calls.call(n));
    await s.land();
    await s.land();
    await s.land();
    await expect(Promise.all(more)).resolves.toEqual(['r4', 'r5']);
    expect(s.sent.map((x) => x.kind)).toEqual(['single', 'batch', 'single', 'single', 'single', 'single']);
  });

  it('gives a batch call the deadline of its least patient request, so the allocator sees the call end when any of its callers gives up', async () => {
    const s = fakeServer();
    const first = s.calls.call(1);
    const batch = [s.calls.call(2, { timeoutMs: 60_000 }), s.calls.call(3, { timeoutMs: 2000 }), s.calls.call(4, { timeoutMs: 30_000 })];
    await s.land();
    await first;
    expect(s.sent[1]).toMatchObject({ kind: 'batch', reqs: [2, 3, 4] });
    expect(s.sent[1]!.timeoutMs).toBeLessThanOrEqual(2000);
    expect(s.sent[1]!.timeoutMs).toBeGreaterThan(1000);
    await s.land();
    await Promise.all(batch);
  });

  it('fails a request whose deadline passed while it waited, without sending it', async () => {
    const s = fakeServer();
    const first = s.calls.call(1);
    const late = s.calls.call(2, { timeoutMs: 1 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    await s.land();
    await first;
    expect(await late).toMatchObject({ code: 'unavailable', retryable: true, grpcCode: status.DEADLINE_EXCEEDED });
    expect(s.sent.map((x) => x.reqs)).toEqual([[1]]);
  });
});

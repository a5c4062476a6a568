import { KeyedQueue } from './keyed-queue';

/** A handler that records every batch and answers each request with `<key>:<request>`. */
function recordingQueue(maxWeight: number, fail?: (key: string, reqs: readonly string[]) => Error | undefined) {
  const batches: [string, string[]][] = [];
  const queue = new KeyedQueue<string, string>(async (key, reqs) => {
    batches.push([key, [...reqs]]);
    await new Promise((resolve) => setImmediate(resolve));
    const err = fail?.(key, reqs);
    if (err) throw err;
    return reqs.map((r) => (r.startsWith('bad') ? new Error(`refused ${r}`) : `${key}:${r}`));
  }, maxWeight);
  return { queue, batches };
}

describe('a keyed queue', () => {
  it('batches the requests of one tick per key, then whatever queued while a batch ran', async () => {
    const { queue, batches } = recordingQueue(32);
    const first = Promise.all([queue.submit('x', '1'), queue.submit('x', '2'), queue.submit('y', '1')]);
    // arriving through promise chains of the same tick still joins the first batch
    const chained = Promise.resolve()
      .then(() => undefined)
      .then(() => queue.submit('x', '3'));
    await new Promise((resolve) => setImmediate(resolve));
    const later = queue.submit('x', '4');
    const late = queue.submit('x', '5');
    expect(await Promise.all([first, chained, later, late])).toEqual([['x:1', 'x:2', 'y:1'], 'x:3', 'x:4', 'x:5']);
    expect(batches).toEqual([
      ['x', ['1', '2', '3']],
      ['y', ['1']],
      ['x', ['4', '5']],
    ]);
  });

  it('bounds a batch by the weights of its requests, yet always takes one', async () => {
    const { queue, batches } = recordingQueue(4);
    await Promise.all([
      queue.submit('k', 'first'),
      queue.submit('k', 'a', 2),
      queue.submit('k', 'b', 2),
      queue.submit('k', 'c', 1),
      queue.submit('k', 'huge', 9),
      queue.submit('k', 'd'),
    ]);
    expect(batches.map(([, reqs]) => reqs)).toEqual([['first', 'a'], ['b', 'c'], ['huge'], ['d']]);
  });

  it('rejects only the requests answered with an error, and a whole batch when its handler throws', async () => {
    const { queue } = recordingQueue(32, (_key, reqs) => (reqs.includes('boom') ? new Error('store down') : undefined));
    const results = await Promise.allSettled([queue.submit('k', 'first'), queue.submit('k', 'bad-1'), queue.submit('k', 'ok')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const failed = await Promise.allSettled([queue.submit('k', 'first'), queue.submit('k', 'boom'), queue.submit('k', 'other')]);
    // one tick, one batch: the handler's failure is every request's answer
    expect(failed).toEqual([
      { status: 'rejected', reason: new Error('store down') },
      { status: 'rejected', reason: new Error('store down') },
      { status: 'rejected', reason: new Error('store down') },
    ]);
    expect(await queue.submit('k', 'later')).toBe('k:later');
  });
});

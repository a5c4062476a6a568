import { EventEmitter } from 'node:events';
import type { RouteUpdate } from '@atoll/api';
import type { ClientReadableStream } from '@grpc/grpc-js';
import pino from 'pino';
import { RouteWatch } from './route-watch';

const update = (snapshot: boolean): RouteUpdate => ({ snapshot, nodes: [], blocks: [], borrowed: [], pools: [], removedNodes: [], removedBlocks: [], removedBorrowed: [], removedPools: [] });

class FakeStream extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
  }
  end(code: number): void {
    this.emit('status', { code, details: code === 0 ? 'OK' : 'unavailable', metadata: undefined });
  }
}

describe('the route watch', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('subscribes again after a stream ends, backing off until a snapshot arrives, and stops for good', () => {
    const streams: FakeStream[] = [];
    const received: boolean[] = [];
    const watch = new RouteWatch({
      open: () => {
        const s = new FakeStream();
        streams.push(s);
        return s as unknown as ClientReadableStream<RouteUpdate>;
      },
      onUpdate: (u) => received.push(u.snapshot),
      log: pino({ level: 'silent' }),
    });
    watch.start();
    expect(streams).toHaveLength(1);
    streams[0]!.end(14);
    jest.advanceTimersByTime(199);
    expect(streams).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(streams).toHaveLength(2);
    streams[1]!.end(14);
    jest.advanceTimersByTime(399);
    expect(streams).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(streams).toHaveLength(3);
    // a snapshot, then a delta; the allocator shuts down (OK): back after the first delay again
    streams[2]!.emit('data', update(true));
    streams[2]!.emit('data', update(false));
    streams[2]!.end(0);
    jest.advanceTimersByTime(200);
    expect(streams).toHaveLength(4);
    expect(received).toEqual([true, false]);
    watch.stop();
    expect(streams[3]!.cancelled).toBe(true);
    streams[3]!.end(1);
    jest.advanceTimersByTime(60_000);
    expect(streams).toHaveLength(4);
  });
});

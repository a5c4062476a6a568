import { randomUUID } from 'node:crypto';
import { startFaultProxy, type FaultProxy } from '../../../../tools/chaos/fault-proxy';
import { StoreUnavailableError } from '../errors';
import { EtcdDatastore } from './etcd-datastore';

// A proxy between the client and the run's shared etcd loses bytes on purpose: answers only
// (a one-way partition), or everything (a blackhole). Lost bytes never come back, so the
// connection that carried them is broken for good; the client must notice and reconnect.
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
// Long enough that "the call ended at its deadline" and "the call followed the heal" are
// seconds apart, even on a loaded machine.
const REQUEST_TIMEOUT_MS = 12_000;
const FAULT_MS = 3000;
// After the heal: a keepalive round (interval + timeout), a reconnect, the retry's backoff.
const RECOVERY_BOUND_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('EtcdDatastore across a partition that heals', () => {
  let proxy: FaultProxy;
  let store: EtcdDatastore;

  beforeEach(async () => {
    proxy = await startFaultProxy(endpoints[0]!);
    store = new EtcdDatastore({ endpoints: [`http://${proxy.address}`], namespace: `/partition-${randomUUID()}`, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    await store.commit({ preconditions: [], mutations: [{ op: 'put', key: '/warm', value: 'up' }] });
  });
  afterEach(async () => {
    await store.close();
    await proxy.close();
  });

  it.each(['drop-replies', 'blackhole'] as const)('answers a call in flight soon after a %s partition heals, not at its deadline', async (mode) => {
    proxy.mode = mode;
    const started = Date.now();
    const inFlight = store.get('/warm').then(
      (kv) => ({ value: kv?.value, at: Date.now() }),
      (err: unknown) => ({ err, at: Date.now() }),
    );
    await sleep(FAULT_MS);
    proxy.mode = 'pass';
    const healedAt = Date.now();
    const outcome = await inFlight;
    expect(outcome).toEqual({ value: 'up', at: expect.any(Number) });
    expect(outcome.at - healedAt).toBeLessThan(RECOVERY_BOUND_MS);
    expect(outcome.at - started).toBeLessThan(REQUEST_TIMEOUT_MS);
  }, 30_000);

  it('commits a transaction sent during a one-way partition exactly once after the heal', async () => {
    proxy.mode = 'drop-replies';
    const inFlight = store.commit({ preconditions: [{ key: '/once', absent: true }], mutations: [{ op: 'put', key: '/once', value: '1' }] }).then(
      () => 'committed',
      (err: unknown) => err,
    );
    await sleep(FAULT_MS);
    proxy.mode = 'pass';
    const outcome = await inFlight;
    // etcd applied the first attempt (only its answer was lost); a retry's compare fails,
    // which the store reports as a conflict whose current value is the write itself.
    expect(['committed', 'conflict']).toContain(outcome === 'committed' ? outcome : (outcome as { code?: string }).code);
    expect((await store.get('/once'))?.value).toBe('1');
  }, 30_000);

  it('still fails with StoreUnavailableError at its bound when the partition does not heal', async () => {
    const short = new EtcdDatastore({ endpoints: [`http://${proxy.address}`], requestTimeoutMs: 1500 });
    try {
      await short.get('/warm').catch(() => undefined); // connected before the cut
      proxy.mode = 'drop-replies';
      const started = Date.now();
      await expect(short.get('/warm')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1500 + 1000);
    } finally {
      await short.close();
    }
  });
});

import { startEtcdCluster, freePort, type EtcdCluster } from '../../../../tools/etcd/launcher';
import type { Datastore } from '../datastore';
import { StoreUnavailableError } from '../errors';
import { recordWatch } from '../testing/watch-recorder';
import { EtcdDatastore } from './etcd-datastore';

// This file stops and restarts etcd, so it runs its own private member, never the shared one.
const REQUEST_TIMEOUT_MS = 1000;
// Scheduling slack on a loaded 2-core machine; the point is "bounded", not "exact".
const SLACK_MS = 750;

const operations: Array<[string, (store: Datastore) => Promise<unknown>]> = [
  ['get', (s) => s.get('/a')],
  ['getMany', (s) => s.getMany(['/a', '/b'])],
  ['list', (s) => s.list('/')],
  ['listKeys', (s) => s.listKeys('/')],
  ['commit', (s) => s.commit({ preconditions: [{ key: '/a', absent: true }], mutations: [{ op: 'put', key: '/a', value: '1' }] })],
  ['watch', (s) => s.watch('/', 1n, () => undefined, () => undefined)],
];

/** list() has a bound of its own (listTimeoutMs); here it is set to the same as every other call's. */
async function expectUnavailableWithinBound(work: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  const error = await work().then(
    () => undefined,
    (err: unknown) => err,
  );
  const elapsed = Date.now() - started;
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as StoreUnavailableError).retryable).toBe(true);
  expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
}

describe('EtcdDatastore when etcd is unreachable', () => {
  let cluster: EtcdCluster;
  let store: EtcdDatastore;

  beforeAll(async () => {
    cluster = await startEtcdCluster();
  });
  afterAll(async () => {
    await cluster.stop(); // stops the member by its PID and removes its data dir
  });
  beforeEach(async () => {
    if (cluster.members[0]!.child?.exitCode !== null || cluster.members[0]!.child?.signalCode !== null) {
      cluster.members[0]!.start();
      await cluster.members[0]!.waitHealthy();
    }
    store = new EtcdDatastore({ endpoints: cluster.endpoints, requestTimeoutMs: REQUEST_TIMEOUT_MS, listTimeoutMs: REQUEST_TIMEOUT_MS });
  });
  afterEach(() => store.close());

  it.each(operations)('fails %s with StoreUnavailableError within the time bound after etcd stops', async (_name, operation) => {
    // Connect first (the bound under test is for after the stop). Retried: a member just
    // restarted by the previous test may need more than the 1 s bound on a loaded machine.
    for (let attempt = 1; ; attempt++) {
      try {
        await store.commit({ preconditions: [], mutations: [{ op: 'put', key: '/warm', value: 'up' }] });
        break;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || attempt >= 10) throw err;
      }
    }
    await cluster.members[0]!.kill();
    await expectUnavailableWithinBound(() => operation(store));
  });

  it.each(operations)('fails %s with StoreUnavailableError within the time bound when nothing listens', async (_name, operation) => {
    const nowhere = new EtcdDatastore({
      endpoints: [`http://127.0.0.1:${await freePort()}`],
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      listTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    try {
      await expectUnavailableWithinBound(() => operation(nowhere));
    } finally {
      await nowhere.close();
    }
  });

  it('works again once etcd is back, without a new client', async () => {
    const member = cluster.members[0]!;
    await member.kill();
    await expect(store.get('/a')).rejects.toBeInstanceOf(StoreUnavailableError);
    member.start();
    await member.waitHealthy();
    await expect(store.list('/')).resolves.toMatchObject({ items: expect.any(Array) });
  });

  it('keeps a watch through an etcd restart and delivers what changed meanwhile, without gaps', async () => {
    const member = cluster.members[0]!;
    const { revision } = await store.commit({ preconditions: [], mutations: [{ op: 'put', key: '/w/a', value: '1' }] });
    const recording = await recordWatch(store, '/w/', revision);
    await recording.waitForEvents(1);

    await member.kill();
    member.start();
    await member.waitHealthy();
    // Written through another client right after the restart, possibly before the watch
    // has reconnected: the resumed watch must still deliver both, in order.
    const writer = new EtcdDatastore({ endpoints: cluster.endpoints });
    const second = await writer.commit({ preconditions: [], mutations: [{ op: 'put', key: '/w/b', value: '2' }] });
    const third = await writer.commit({ preconditions: [], mutations: [{ op: 'delete', key: '/w/a' }] });
    await writer.close();
    try {
      await expect(recording.waitForEvents(3, 15000)).resolves.toEqual([
        { type: 'put', key: '/w/a', value: '1', revision },
        { type: 'put', key: '/w/b', value: '2', revision: second.revision },
        { type: 'delete', key: '/w/a', revision: third.revision },
      ]);
      expect(recording.errors).toEqual([]);
    } finally {
      await recording.handle.close();
    }
  }, 30000);

  it('resumes a watch that lost etcd in the middle of replaying history without skipping events', async () => {
    const member = cluster.members[0]!;
    // etcd replays at most 1000 revisions per response and labels each response with its
    // *current* revision; etcd3 alone would resume after that label and skip the rest.
    const total = 2500;
    const first = await store.commit({ preconditions: [], mutations: [{ op: 'put', key: '/r/0', value: '0' }] });
    for (let i = 1; i < total; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, total - i) }, (_, j) =>
          store.commit({ preconditions: [], mutations: [{ op: 'put', key: `/r/${i + j}`, value: String(i + j) }] }),
        ),
      );
    }

    let killed: Promise<void> | undefined;
    const events: bigint[] = [];
    const handle = await store.watch(
      '/r/',
      first.revision,
      (e) => {
        events.push(e.revision);
        killed ??= member.kill(); // during the first replayed response
      },
      () => undefined,
    );
    try {
      await waitUntil(() => killed !== undefined, 10000);
      await killed;
      member.start();
      await member.waitHealthy();
      await waitUntil(() => events.length >= total, 20000);
      expect(events).toHaveLength(total);
      expect(new Set(events).size).toBe(total);
      expect(events).toEqual([...events].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    } finally {
      await handle.close();
    }
  }, 60000);
});

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

import type { LeaseGrant, LeasingDatastore } from '../../datastore';
import { campaign, currentLeader, type Leadership } from '../../election';
import { StoreConflictError, StoreInvalidRequestError, StoreLeaseNotFoundError, StoreUnavailableError } from '../../errors';
import { recordWatch } from '../watch-recorder';

export type LeasingStoreFactory = () => Promise<{ store: LeasingDatastore; cleanup(): Promise<void> }>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 6000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * A view of a store whose lease calls can be cut off, as for a replica partitioned from
 * etcd: keep-alives (and revokes) fail with StoreUnavailableError while `cut` is set.
 */
function partitionable(inner: LeasingDatastore): LeasingDatastore & { cut: boolean } {
  const refuse = () => Promise.reject(new StoreUnavailableError('partitioned (test)'));
  const view: LeasingDatastore & { cut: boolean } = {
    cut: false,
    get: (key) => inner.get(key),
    getMany: (keys) => inner.getMany(keys),
    list: (prefix) => inner.list(prefix),
    listKeys: (prefix) => inner.listKeys(prefix),
    commit: (txn) => inner.commit(txn),
    watch: (prefix, from, onEvent, onError) => inner.watch(prefix, from, onEvent, onError),
    close: () => Promise.resolve(),
    grantLease: (ttl) => inner.grantLease(ttl),
    keepAliveLease: (id) => (view.cut ? refuse() : inner.keepAliveLease(id)),
    revokeLease: (id) => (view.cut ? refuse() : inner.revokeLease(id)),
  };
  return view;
}

/**
 * Leases and leader election, on any LeasingDatastore. Real time: TTLs of 1–2 s (etcd's
 * minimum TTL depends on its election timeout; the test etcd's allows 1 s).
 */
export function describeLeaseContract(name: string, makeStore: LeasingStoreFactory): void {
  describe(`${name} satisfies the lease and election contract`, () => {
    let store: LeasingDatastore;
    let cleanup: () => Promise<void>;
    const leases: LeaseGrant[] = [];
    const leaderships: Leadership[] = [];
    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      for (const l of leaderships.splice(0)) await l.resign().catch(() => undefined);
      for (const l of leases.splice(0)) await store.revokeLease(l.id).catch(() => undefined);
      await cleanup();
    });
    const grant = async (ttl: number) => {
      const g = await store.grantLease(ttl);
      leases.push(g);
      return g;
    };
    const putWithLease = (key: string, value: string, lease: bigint) =>
      store.commit({ preconditions: [], mutations: [{ op: 'put', key, value, lease }] });

    describe('leases', () => {
      it('grants distinct positive IDs with at least the requested TTL', async () => {
        const [a, b] = [await grant(5), await grant(7)];
        expect(a.id).toBeGreaterThan(0n);
        expect(a.id).not.toBe(b.id);
        expect(a.ttlSeconds).toBeGreaterThanOrEqual(5);
        expect(b.ttlSeconds).toBeGreaterThanOrEqual(7);
        await expect(store.keepAliveLease(a.id)).resolves.toBe(a.ttlSeconds);
      });

      it('deletes every key of a revoked lease in one new revision that watchers see', async () => {
        const lease = await grant(30);
        const { revision } = await putWithLease('/l/a', '1', lease.id);
        await putWithLease('/l/b', '2', lease.id);
        const watch = await recordWatch(store, '/l/', revision + 2n);
        await store.revokeLease(lease.id);
        const events = await watch.waitForEvents(2);
        expect(events.map((e) => [e.type, e.key]).sort()).toEqual([['delete', '/l/a'], ['delete', '/l/b']]);
        expect(events[0]!.revision).toBe(events[1]!.revision);
        expect((await store.list('/l/')).items).toEqual([]);
        await watch.handle.close();
      });

      it('expires a lease that is not kept alive, with its keys, and keeps one that is', async () => {
        const dying = await grant(1);
        const kept = await grant(1);
        await putWithLease('/l/dying', 'x', dying.id);
        await putWithLease('/l/kept', 'y', kept.id);
        const start = Date.now();
        await waitFor('the unrenewed lease to expire', async () => {
          await store.keepAliveLease(kept.id);
          return (await store.get('/l/dying')) === undefined;
        });
        expect(Date.now() - start).toBeGreaterThanOrEqual(900);
        await expect(store.keepAliveLease(dying.id)).resolves.toBeUndefined();
        for (let i = 0; i < 6; i++) {
          await sleep(250);
          await expect(store.keepAliveLease(kept.id)).resolves.toBeGreaterThanOrEqual(1);
        }
        await expect(store.get('/l/kept')).resolves.toMatchObject({ value: 'y' });
      });

      it('answers undefined for a keep-alive of a revoked lease, and revoking twice is fine', async () => {
        const lease = await grant(10);
        await store.revokeLease(lease.id);
        await expect(store.keepAliveLease(lease.id)).resolves.toBeUndefined();
        await expect(store.revokeLease(lease.id)).resolves.toBeUndefined();
      });

      it('refuses a whole commit whose put names a lease that does not exist', async () => {
        const lease = await grant(10);
        await store.revokeLease(lease.id);
        const err = await store
          .commit({ preconditions: [{ key: '/l/a', absent: true }], mutations: [{ op: 'put', key: '/l/b', value: 'plain' }, { op: 'put', key: '/l/a', value: 'x', lease: lease.id }] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreLeaseNotFoundError);
        expect(err).toMatchObject({ code: 'lease-not-found', retryable: false, leaseId: lease.id });
        expect((await store.list('/l/')).items).toEqual([]);
      });

      it('reports a failed precondition as a conflict even when the lease is gone', async () => {
        const lease = await grant(10);
        await store.revokeLease(lease.id);
        await putWithLease('/l/a', 'taken', (await grant(10)).id);
        await expect(
          store.commit({ preconditions: [{ key: '/l/a', absent: true }], mutations: [{ op: 'put', key: '/l/a', value: 'x', lease: lease.id }] }),
        ).rejects.toBeInstanceOf(StoreConflictError);
      });

      it('detaches a key from its lease when it is put again without one', async () => {
        const lease = await grant(10);
        await putWithLease('/l/a', 'leased', lease.id);
        await store.commit({ preconditions: [], mutations: [{ op: 'put', key: '/l/a', value: 'plain' }] });
        await store.revokeLease(lease.id);
        await expect(store.get('/l/a')).resolves.toMatchObject({ value: 'plain' });
        await store.commit({ preconditions: [], mutations: [{ op: 'delete', key: '/l/a' }] });
      });

      it.each([
        ['a TTL of 0', () => store.grantLease(0)],
        ['a fractional TTL', () => store.grantLease(1.5)],
        ['a lease ID of 0', () => store.keepAliveLease(0n)],
        ['a negative lease ID to revoke', () => store.revokeLease(-1n)],
        ['a put with lease 0', () => putWithLease('/l/a', 'x', 0n)],
      ])('refuses %s as an invalid request', async (_what, call) => {
        await expect(call()).rejects.toBeInstanceOf(StoreInvalidRequestError);
      });
    });

    describe('leader election', () => {
      const KEY = '/election/leader';
      const elect = async (candidateId: string, opts: { ttlSeconds?: number; signal?: AbortSignal; on?: LeasingDatastore } = {}) => {
        const l = await campaign(opts.on ?? store, { key: KEY, candidateId, ttlSeconds: opts.ttlSeconds ?? 2, ...(opts.signal && { signal: opts.signal }) });
        leaderships.push(l);
        return l;
      };

      it('elects exactly one of several candidates at a time', async () => {
        const stop = new AbortController();
        const elected: string[] = [];
        const runs = ['a', 'b', 'c', 'd'].map((id) => elect(id, { signal: stop.signal }).then((l) => (elected.push(id), l), () => undefined));
        await waitFor('a leader', () => elected.length > 0);
        await sleep(500);
        expect(elected).toHaveLength(1);
        const leader = leaderships[0]!;
        expect(leader.isLeader).toBe(true);
        await expect(currentLeader(store, KEY)).resolves.toEqual({ candidateId: elected[0], revision: leader.revision });
        stop.abort();
        await Promise.all(runs);
        expect(elected).toHaveLength(1);
      });

      it('hands over to a waiting candidate when the leader resigns, at a higher revision', async () => {
        const first = await elect('first');
        const lost: string[] = [];
        first.onLost((reason) => lost.push(reason));
        const second = elect('second');
        await sleep(200);
        await first.resign();
        expect(first.isLeader).toBe(false);
        expect(lost).toEqual(['resigned']);
        const next = await second;
        expect(next.isLeader).toBe(true);
        expect(next.revision).toBeGreaterThan(first.revision);
        await expect(currentLeader(store, KEY)).resolves.toMatchObject({ candidateId: 'second' });
      });

      it('ends leadership before its lease can expire when keep-alives fail, and only then elects another', async () => {
        const partitioned = partitionable(store);
        const old = await elect('partitioned', { ttlSeconds: 1, on: partitioned });
        let lostAt = 0;
        let reason = '';
        old.onLost((r) => ((lostAt = performance.now()), (reason = r)));
        partitioned.cut = true;
        const next = await elect('healthy', { ttlSeconds: 1 });
        const electedAt = performance.now();
        expect(old.isLeader).toBe(false);
        expect(reason).toBe('the lease could not be renewed before its TTL ran out');
        expect(lostAt).toBeGreaterThan(0);
        expect(lostAt).toBeLessThanOrEqual(electedAt);
        expect(next.revision).toBeGreaterThan(old.revision);
      });

      it('ends leadership when the election key is deleted', async () => {
        const l = await elect('solo');
        const reason = new Promise<string>((resolve) => l.onLost(resolve));
        await store.commit({ preconditions: [], mutations: [{ op: 'delete', key: KEY }] });
        await expect(reason).resolves.toBe('the election key was deleted');
        expect(l.isLeader).toBe(false);
      });

      it('ends leadership when etcd reports the lease gone', async () => {
        const l = await elect('solo', { ttlSeconds: 1 });
        const reason = new Promise<string>((resolve) => l.onLost(resolve));
        await store.revokeLease(l.leaseId);
        await expect(reason).resolves.toMatch(/^(the election key was deleted|etcd reports the lease expired or revoked)$/);
        expect(l.isLeader).toBe(false);
      });

      it('gives successive leaders increasing revisions', async () => {
        const revisions: bigint[] = [];
        for (const id of ['x', 'y', 'z']) {
          const l = await elect(id);
          revisions.push(l.revision);
          await l.resign();
        }
        expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
        expect(new Set(revisions).size).toBe(3);
      });

      it('stops campaigning when aborted and leaves no key behind', async () => {
        const leader = await elect('leader');
        const stop = new AbortController();
        const waiting = elect('waiter', { signal: stop.signal });
        await sleep(100);
        stop.abort(new Error('shutting down'));
        await expect(waiting).rejects.toThrow('shutting down');
        await leader.resign();
        await expect(currentLeader(store, KEY)).resolves.toBeUndefined();
      });
    });
  });
}

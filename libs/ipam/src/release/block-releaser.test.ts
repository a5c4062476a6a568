import { ordinalOf, parseCidr, parseIp } from '@atoll/ipmath';
import { blockKey, handleKey } from '@atoll/model';
import { StoreConflictError, StoreUnavailableError, Transaction } from '@atoll/store';
import { InterceptingDatastore } from '@atoll/store/testing';
import { BlockCache } from '../assign/block-cache';
import { IpamRecords } from '../io';
import { describeWithStores, putNode, putPool, WORKLOAD } from '../testing/fixtures';
import { BlockReleaser } from './block-releaser';

// The batch itself, driven directly so that its make-up is known: the first task is
// submitted alone and its batch started, and everything submitted after that waits and
// forms the next batch.

const CIDR = '10.0.0.0/26';

/** Submits `first` and lets its batch start; the rest, submitted then, queue behind it as one batch. */
async function firstAloneThen<T>(first: () => Promise<T>, rest: (() => Promise<T>)[]): Promise<Promise<T>[]> {
  const started = first();
  await new Promise((resolve) => process.nextTick(resolve));
  return [started, ...rest.map((submit) => submit())];
}

describeWithStores('a batch of releases in one block', (env) => {
  let intercepted: InterceptingDatastore;
  let releaser: BlockReleaser;
  let commits: { txn: Transaction; error: unknown }[];
  const ordinal: Record<string, number> = {};

  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: CIDR });
    for (const [handleId, num4] of [['first', 1], ['a', 1], ['b', 1], ['c', 1], ['d', 2]] as const) {
      const r = await env().engine.autoAssign({ ...WORKLOAD, num4, num6: 0, handleId, hostname: 'host-a' });
      r.ipv4.ips.forEach((ip, i) => (ordinal[i === 0 ? handleId : `${handleId}${i + 1}`] = ordinalOf(parseCidr(CIDR), parseIp(ip.split('/')[0]!))));
    }
    intercepted = new InterceptingDatastore(env().ds);
    commits = [];
    intercepted.afterCommit = async (txn, outcome) => void commits.push({ txn, error: outcome.error });
    releaser = new BlockReleaser({ ds: intercepted, now: () => new Date(), blockCache: new BlockCache() }, 32);
  });

  const sequenceOf = async (handleId: string) => (await env().engine.getAssignmentAttributes(`10.0.0.${ordinal[handleId]}`)).sequenceNumber;

  it('refuses a stale sequence number for that request alone and commits the rest of the batch in one transaction', async () => {
    const [seqA, seqB] = [await sequenceOf('a'), await sequenceOf('b')];
    const results = await Promise.allSettled(
      await firstAloneThen<unknown>(() => releaser.releaseHandle(CIDR, 'first', 0), [
        () => releaser.releaseOrdinals(CIDR, [{ ordinal: ordinal['a']!, sequenceNumber: seqA + 1n }], 0),
        () => releaser.releaseOrdinals(CIDR, [{ ordinal: ordinal['b']!, handleId: 'b', sequenceNumber: seqB }], 0),
        () => releaser.releaseHandle(CIDR, 'c', 0),
        () => releaser.releaseOrdinals(CIDR, [{ ordinal: ordinal['d2']! }], 0),
      ]),
    );

    expect(results).toEqual([
      { status: 'fulfilled', value: { kind: 'handle', freed: [ordinal['first']] } },
      { status: 'rejected', reason: expect.objectContaining({ code: 'sequence-mismatch' }) },
      { status: 'fulfilled', value: [] },
      { status: 'fulfilled', value: { kind: 'handle', freed: [ordinal['c']] } },
      { status: 'fulfilled', value: [] },
    ]);
    expect(commits.map((c) => c.error)).toEqual([undefined, undefined]);
    expect(commits[1]!.txn.mutations.map((m) => [m.op, m.key]).sort()).toEqual(
      [
        ['put', blockKey(parseCidr(CIDR))],
        ['delete', handleKey('b')],
        ['delete', handleKey('c')],
        ['put', handleKey('d')],
      ].sort(),
    );
    const records = new IpamRecords(env().ds);
    expect((await records.listHandles()).map((h) => [h.handleId, h.value.block])).toEqual([
      ['a', { [CIDR]: 1 }],
      ['d', { [CIDR]: 1 }],
    ]);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('answers a request whose handle another request of the batch already released with not-found', async () => {
    const results = await Promise.allSettled(
      await firstAloneThen(() => releaser.releaseHandle(CIDR, 'first', 0), [() => releaser.releaseHandle(CIDR, 'a', 0), () => releaser.releaseHandle(CIDR, 'a', 0)]),
    );
    expect(results[1]).toEqual({ status: 'fulfilled', value: { kind: 'handle', freed: [ordinal['a']] } });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: 'not-found' } });
    expect(commits).toHaveLength(2);
  });

  it('fails every request of a batch the store cannot commit, writes none of them, and lets other batches go on', async () => {
    let unreachable = true;
    intercepted.beforeCommit = async (txn) => {
      if (unreachable && txn.mutations.some((m) => m.key === handleKey('a'))) throw new StoreUnavailableError('etcd unreachable');
    };
    const results = await Promise.allSettled(await firstAloneThen(() => releaser.releaseHandle(CIDR, 'first', 0), ['a', 'b'].map((h) => () => releaser.releaseHandle(CIDR, h, 0))));
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    for (const r of results.slice(1)) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'unavailable', retryable: true } });
    expect(await env().engine.ipsByHandle('a')).toEqual([`10.0.0.${ordinal['a']}`]);
    expect(await env().engine.ipsByHandle('b')).toEqual([`10.0.0.${ordinal['b']}`]);

    unreachable = false;
    expect(await releaser.releaseHandle(CIDR, 'a', 0)).toEqual({ kind: 'handle', freed: [ordinal['a']] });
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('answers every request of a batch once when the store applied its commit but reported a failure', async () => {
    intercepted.beforeNextCommit(async () => undefined);
    intercepted.beforeNextCommit(async () => intercepted.failNextCommits(1, 'after-apply'));
    const results = await Promise.all(
      await firstAloneThen<unknown>(() => releaser.releaseHandle(CIDR, 'first', 0), [
        () => releaser.releaseHandle(CIDR, 'a', 0),
        () => releaser.releaseOrdinals(CIDR, [{ ordinal: ordinal['d']!, handleId: 'd' }], 0),
      ]),
    );
    expect(results.slice(1)).toEqual([{ kind: 'handle', freed: [ordinal['a']] }, []]);
    expect(commits[1]!.error).toBeInstanceOf(StoreUnavailableError);
    await expect(env().engine.ipsByHandle('a')).rejects.toMatchObject({ code: 'not-found' });
    expect(await env().engine.ipsByHandle('d')).toEqual([`10.0.0.${ordinal['d2']}`]);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('redoes the whole batch from a fresh read when another writer changed the block before its commit', async () => {
    intercepted.beforeNextCommit(async () => undefined);
    intercepted.beforeNextCommit(async () => {
      // another replica releases one of the batch's handles and allocates in the block
      const other = env().newEngine();
      await other.releaseByHandle('b');
      await other.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'newcomer', hostname: 'host-a' });
    });
    const results = await Promise.allSettled(await firstAloneThen(() => releaser.releaseHandle(CIDR, 'first', 0), ['a', 'b', 'c'].map((h) => () => releaser.releaseHandle(CIDR, h, 0))));
    expect(results[1]).toEqual({ status: 'fulfilled', value: { kind: 'handle', freed: [ordinal['a']] } });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: 'not-found' } });
    expect(results[3]).toEqual({ status: 'fulfilled', value: { kind: 'handle', freed: [ordinal['c']] } });
    expect(commits).toHaveLength(3);
    expect(commits[1]!.error).toBeInstanceOf(StoreConflictError);
    expect((await new IpamRecords(env().ds).listHandles()).map((h) => h.handleId).sort()).toEqual(['d', 'newcomer']);
    expect((await env().engine.check()).problems).toBe(0);
  });
});

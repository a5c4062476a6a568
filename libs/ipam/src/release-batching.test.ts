import { addressAt, formatIp, ordinalOf, parseIp } from '@atoll/ipmath';
import { InterceptingDatastore } from '@atoll/store/testing';
import { StoreConflictError } from '@atoll/store';
import { allocatedOrdinals, attributeOf } from './block';
import { IpamEngine } from './engine';
import { IpamRecords } from './io';
import { deletePool, describeWithStores, EngineEnv, putNode, putPool, WORKLOAD } from './testing/fixtures';

// Concurrent releases in one block share one read and one transaction (BlockReleaser),
// through the engine: how few commits they take, that the block and handles come out
// exactly right, and that batching changes no answer — with allocations, stale sequence
// numbers, competing writers and handles in several blocks mixed in.

const ip = (cidrWithPrefix: string) => cidrWithPrefix.split('/')[0]!;

async function assign(engine: IpamEngine, handleId: string, hostname = 'host-a', num4 = 1): Promise<string[]> {
  const r = await engine.autoAssign({ ...WORKLOAD, num4, num6: 0, handleId, hostname });
  return r.ipv4.ips.map(ip);
}

/** Every allocated address and its handle, read from the blocks. */
async function owners(env: EngineEnv): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const b of await new IpamRecords(env.ds).listBlocks()) {
    for (const o of allocatedOrdinals(b.value)) {
      const addr = formatIp(addressAt(b.value.cidr, o));
      expect(out.has(addr)).toBe(false);
      out.set(addr, attributeOf(b.value, o)?.handleId ?? '');
    }
  }
  return out;
}

describeWithStores('batched releases', (env) => {
  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putNode(env().ds, 'host-b');
  });

  it.each([
    ['the engine that allocated them (it knows their block)', true],
    ['another replica (it reads each handle first)', false],
  ])('releases 50 handles of one block at once with a few transactions, through %s', async (_who, sameEngine) => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
    const intercepted = new InterceptingDatastore(env().ds);
    const releaser = env().newEngine({ datastore: intercepted });
    const allocator = sameEngine ? releaser : env().engine;
    const stay = await assign(allocator, 'stay', 'host-a', 2);
    const handles = Array.from({ length: 50 }, (_, i) => `pod-${i}`);
    const given = await Promise.all(handles.map((h) => assign(allocator, h)));
    const records = new IpamRecords(env().ds);
    const blocks = await records.listBlocks();
    expect(blocks).toHaveLength(1);
    const before = blocks[0]!;
    expect(allocatedOrdinals(before.value)).toHaveLength(52);

    let committed = 0;
    intercepted.commitCalls = 0;
    intercepted.afterCommit = async (_txn, outcome) => void (outcome.error === undefined && committed++);
    const freed = await Promise.all(handles.map((h) => releaser.releaseByHandle(h)));

    expect(freed).toEqual(given);
    // one at a time would take at least 50; how requests group into batches depends on
    // when they arrive, so only a bound is asserted (3 is usual: 1, then 32, then 17)
    expect(intercepted.commitCalls).toBeLessThanOrEqual(10);
    const [after] = await records.listBlocks();
    expect(after!.value.sequenceNumber - before.value.sequenceNumber).toBe(BigInt(committed));
    expect(allocatedOrdinals(after!.value).map((o) => formatIp(addressAt(after!.value.cidr, o)))).toEqual(stay);
    // never-used addresses stay at the head of the free list; the released ones join the tail
    const releasedOrdinals = given.map(([a]) => ordinalOf(before.value.cidr, parseIp(a!)));
    expect(after!.value.unallocated.slice(0, 12)).toEqual(Array.from({ length: 12 }, (_, i) => 52 + i));
    expect([...after!.value.unallocated.slice(12)].sort((a, b) => a - b)).toEqual([...releasedOrdinals].sort((a, b) => a - b));
    const left = await records.listHandles();
    expect(left.map((h) => [h.handleId, h.value.block])).toEqual([['stay', { [before.cidrText]: 2 }]]);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('holds every address of a batch back for the cooldown', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/28', blockSize: 28 });
    await env().engine.setIPAMConfig({ ...(await env().engine.getIPAMConfig()), ipCooldownSeconds: 30 });
    const handles = Array.from({ length: 10 }, (_, i) => `pod-${i}`);
    const given = (await Promise.all(handles.map((h) => assign(env().engine, h)))).flat();
    await Promise.all(handles.map((h) => env().engine.releaseByHandle(h)));
    for (const a of given) await expect(env().engine.getAssignmentAttributes(a)).rejects.toMatchObject({ code: 'in-cooldown' });
    const next = await env().engine.autoAssign({ ...WORKLOAD, num4: 10, num6: 0, handleId: 'next', hostname: 'host-a' });
    expect(next.ipv4.ips).toHaveLength(6);
    expect(next.ipv4.ips.map(ip).some((a) => given.includes(a))).toBe(false);
    expect(await new IpamRecords(env().ds).listHandles()).toEqual([expect.objectContaining({ handleId: 'next' })]);
  });

  it('keeps no duplicate and leaks nothing when two replicas allocate and release on one host at once', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24', blockSize: 28 });
    const engines = [env().engine, env().newEngine()];
    const live = new Map<string, string[]>();
    let seq = 0;
    for (let round = 0; round < 6; round++) {
      const held = [...live].filter(([, ips]) => ips.length > 0).map(([h]) => h);
      const byHandle = held.slice(0, 4);
      const byAddress = held.slice(4, 8);
      const ops: Promise<void>[] = [];
      for (let i = 0; i < 8; i++) {
        const h = `pod-${seq++}`;
        ops.push(assign(engines[i % 2]!, h, 'host-a', 1 + (i % 2)).then((got) => void live.set(h, got)));
      }
      byHandle.forEach((h, i) => {
        live.delete(h);
        ops.push(engines[i % 2]!.releaseByHandle(h).then(() => undefined));
      });
      byAddress.forEach((h, i) => {
        const [first, ...rest] = live.get(h)!;
        live.set(h, rest);
        ops.push(
          engines[(i + 1) % 2]!.releaseIPs([{ address: first!, handleId: h }]).then((r) => {
            expect(r.errors).toEqual([]);
            expect(r.unallocated).toEqual([]);
          }),
        );
      });
      await Promise.all(ops);
      for (const [h, ips] of live) if (ips.length === 0) live.delete(h);

      const owner = await owners(env());
      const expected = new Map([...live].flatMap(([h, ips]) => ips.map((a) => [a, h] as const)));
      expect(owner).toEqual(expected);
      for (const [h, ips] of live) expect((await env().engine.ipsByHandle(h)).sort()).toEqual([...ips].sort());
      expect((await new IpamRecords(env().ds).listHandles()).map((r) => r.handleId).sort()).toEqual([...live.keys()].sort());
      expect((await env().engine.check()).problems).toBe(0);
    }
    await Promise.all([...live.keys()].map((h, i) => engines[i % 2]!.releaseByHandle(h)));
    expect(await owners(env())).toEqual(new Map());
    expect(await new IpamRecords(env().ds).listHandles()).toEqual([]);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('refuses a stale sequence number for its own request only, while concurrent releases in the block go through', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    const [a] = await assign(env().engine, 'a');
    const [b] = await assign(env().engine, 'b');
    const [d1, d2] = await assign(env().engine, 'd', 'host-a', 2);
    await assign(env().engine, 'c');
    const seqA = (await env().engine.getAssignmentAttributes(a!)).sequenceNumber;
    const seqB = (await env().engine.getAssignmentAttributes(b!)).sequenceNumber;
    const [stale, good, byHandle, noHandle] = await Promise.all([
      env().engine.releaseIPs([{ address: a!, sequenceNumber: seqA + 1n }]),
      env().engine.releaseIPs([{ address: b!, handleId: 'b', sequenceNumber: seqB }]),
      env().engine.releaseByHandle('c'),
      env().engine.releaseIPs([{ address: d2! }]),
    ]);
    expect(stale.errors.map((e) => [e.address, e.error.code])).toEqual([[a, 'sequence-mismatch']]);
    expect(good).toEqual({ unallocated: [], released: [{ address: b, handleId: 'b', sequenceNumber: seqB }], errors: [] });
    expect(byHandle).toHaveLength(1);
    expect(noHandle.errors).toEqual([]);
    expect(await owners(env())).toEqual(new Map([[a!, 'a'], [d1!, 'd']]));
    const handles = await new IpamRecords(env().ds).listHandles();
    expect(handles.map((h) => [h.handleId, h.value.block['10.0.0.0/26']])).toEqual([['a', 1], ['d', 1]]);
  });

  it('retries when another replica releases and reassigns an address between its read and its commit, releasing nothing twice', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/30', blockSize: 30 });
    const intercepted = new InterceptingDatastore(env().ds);
    const releaser = env().newEngine({ datastore: intercepted });
    const [first] = await assign(releaser, 'first');
    const [second] = await assign(releaser, 'second');
    const [third] = await assign(releaser, 'third');
    const outcomes: unknown[] = [];
    intercepted.afterCommit = async (_txn, outcome) => void outcomes.push(outcome.error);
    intercepted.beforeNextCommit(async () => {
      const other = env().newEngine();
      await other.releaseByHandle('first');
      await other.assignIP({ ip: first!, handleId: 'thief', hostname: 'host-a', attributes: {} });
    });
    const results = await Promise.allSettled(['first', 'second', 'third'].map((h) => releaser.releaseByHandle(h)));

    expect(outcomes[0]).toBeInstanceOf(StoreConflictError);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: 'not-found' } });
    expect(results.slice(1)).toEqual([
      { status: 'fulfilled', value: [second] },
      { status: 'fulfilled', value: [third] },
    ]);
    expect(await owners(env())).toEqual(new Map([[first!, 'thief']]));
    expect((await new IpamRecords(env().ds).listHandles()).map((h) => h.handleId)).toEqual(['thief']);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('releases a handle in two blocks alongside single-block handles of both blocks', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24', blockSize: 28 });
    const big = await assign(env().engine, 'big', 'host-a', 20);
    const singles = Array.from({ length: 10 }, (_, i) => `pod-${i}`);
    await Promise.all(singles.map((h) => assign(env().engine, h)));
    const counts = Object.values((await new IpamRecords(env().ds).getHandle('big'))!.value.block);
    expect(counts.sort((a, b) => a - b)).toEqual([4, 16]);

    const [freedBig] = await Promise.all([env().engine.releaseByHandle('big'), ...singles.map((h) => env().engine.releaseByHandle(h))]);
    expect([...freedBig].sort()).toEqual([...big].sort());
    expect(await owners(env())).toEqual(new Map());
    expect(await new IpamRecords(env().ds).listHandles()).toEqual([]);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('follows a handle that moved or grew into other blocks since this engine allocated it', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24', blockSize: 28 });
    const engine = env().engine;
    const other = env().newEngine();
    await assign(engine, 'moved', 'host-a');
    await other.releaseByHandle('moved');
    const movedTo = await assign(other, 'moved', 'host-b');
    const grewFrom = await assign(engine, 'grew', 'host-a');
    const grewTo = await assign(other, 'grew', 'host-b');

    expect(await engine.releaseByHandle('moved')).toEqual(movedTo);
    expect((await engine.releaseByHandle('grew')).sort()).toEqual([...grewFrom, ...grewTo].sort());
    expect(await owners(env())).toEqual(new Map());
    await expect(engine.releaseByHandle('grew')).rejects.toMatchObject({ code: 'not-found' });
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('answers not-found for a handle this engine allocated and another replica released', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await assign(env().engine, 'gone');
    await env().newEngine().releaseByHandle('gone');
    await expect(env().engine.releaseByHandle('gone')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('releases addresses in a block that no pool covers any more, found by scanning the blocks', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    const given = await assign(env().engine, 'orphan', 'host-a', 3);
    await deletePool(env().ds, 'p');
    const [one, ...rest] = given;
    const results = await Promise.all([env().engine.releaseIPs([{ address: one!, handleId: 'orphan' }]), env().newEngine().releaseIPs(rest.map((a) => ({ address: a })))]);
    for (const r of results) expect(r).toMatchObject({ unallocated: [], errors: [] });
    expect(await owners(env())).toEqual(new Map());
    expect(await new IpamRecords(env().ds).listHandles()).toEqual([]);
  });
});

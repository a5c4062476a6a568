import { affinityString } from '@atoll/model';
import { cidrContains, parseIp } from '@atoll/ipmath';
import { InterceptingDatastore } from '@atoll/store/testing';
import { IpamEngine } from './engine';
import { IpamRecords } from './io';
import { describeWithStores, putNode, putPool, WORKLOAD } from './testing/fixtures';

// Races with a competing writer injected at an exact point, and many writers at once.

/** Holds the next commit back until `open()`; `reachedCommit` resolves when it is waiting. */
function holdNextCommit(ds: InterceptingDatastore): { reachedCommit: Promise<void>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let arrived!: () => void;
  const reachedCommit = new Promise<void>((resolve) => (arrived = resolve));
  ds.beforeNextCommit(async () => {
    arrived();
    await gate;
  });
  return { reachedCommit, open };
}

describeWithStores('racing writers', (env) => {
  it('lets 32 hosts race for 16 blocks: all get an address, exactly 16 confirmed affinities match their blocks', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/22' });
    const hosts = Array.from({ length: 32 }, (_, i) => `host-${i}`);
    for (const h of hosts) await putNode(env().ds, h);
    const replicas = [env().engine, env().newEngine(), env().newEngine(), env().newEngine()];
    const results = await Promise.all(
      hosts.map((h, i) => replicas[i % replicas.length]!.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: `h-${h}`, hostname: h })),
    );
    const ips = results.map((r) => r.ipv4.ips[0]);
    expect(ips.every((x) => x !== undefined)).toBe(true);
    expect(new Set(ips).size).toBe(32);

    const records = new IpamRecords(env().ds);
    const affinities = (await records.listAffinities()).filter((a) => a.value.state === 'confirmed');
    expect(affinities).toHaveLength(16);
    const blocks = new Map((await records.listBlocks()).map((b) => [b.cidrText, b]));
    for (const a of affinities) {
      const block = [...blocks.values()].find((b) => b.value.cidr.base === a.id.cidr.base)!;
      expect(block.value.affinity).toBe(affinityString('host', a.id.host));
      const hostIp = ips[hosts.indexOf(a.id.host)]!.split('/')[0]!;
      expect(cidrContains(block.value.cidr, parseIp(hostIp))).toBe(true);
    }
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('does not delete a block when an allocation lands between the release\'s read and write', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.assignIP({ ip: '10.0.0.1', handleId: 'first', hostname: 'host-a', attributes: {} });
    await env().engine.releaseByHandle('first');

    const intercepted = new InterceptingDatastore(env().ds);
    const releaser = new IpamEngine({ datastore: intercepted });
    const allocator = env().newEngine();
    intercepted.beforeNextCommit(async () => {
      await allocator.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'racer', hostname: 'host-a' });
    });
    await expect(releaser.releaseAffinity('10.0.0.0/26', 'host-a', { mustBeEmpty: true })).rejects.toMatchObject({ code: 'block-not-empty' });
    const blocks = await new IpamRecords(env().ds).listBlocks();
    expect(blocks).toHaveLength(1);
    expect(await env().engine.ipsByHandle('racer')).toHaveLength(1);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('refuses a release whose sequence number went stale because the address was released and reassigned', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/30', blockSize: 30 });
    await env().engine.assignIP({ ip: '10.0.0.1', handleId: 'pod-1', hostname: 'host-a', attributes: {} });
    const seen = await env().engine.getAssignmentAttributes('10.0.0.1');
    await env().engine.releaseByHandle('pod-1');
    await env().engine.assignIP({ ip: '10.0.0.1', handleId: 'pod-2', hostname: 'host-a', attributes: {} });
    const r = await env().engine.releaseIPs([{ address: '10.0.0.1', sequenceNumber: seen.sequenceNumber }]);
    expect(r.errors).toHaveLength(1);
    expect((await env().engine.getAssignmentAttributes('10.0.0.1')).handleId).toBe('pod-2');
  });

  it('moves on to another block when another host creates the block between its pending claim and the create', async () => {
    await putNode(env().ds, 'host-a');
    await putNode(env().ds, 'host-b');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/25' });
    const intercepted = new InterceptingDatastore(env().ds);
    const engineA = new IpamEngine({ datastore: intercepted });
    let injected = false;
    intercepted.beforeCommit = async (txn) => {
      const createsBlock = txn.mutations.some((m) => m.op === 'put' && m.key.includes('/assignment/'));
      if (!injected && createsBlock) {
        injected = true;
        const blockKey = txn.mutations.find((m) => m.key.includes('/assignment/'))!.key;
        const cidr = blockKey.slice(blockKey.lastIndexOf('/') + 1).replace(/-(\d+)$/, '/$1');
        await env().newEngine().claimAffinity(cidr, 'host-b');
      }
    };
    const r = await engineA.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'a', hostname: 'host-a' });
    expect(injected).toBe(true);
    const records = new IpamRecords(env().ds);
    const [affA] = await records.listHostAffinities('host-a', 4);
    const [affB] = await records.listHostAffinities('host-b', 4);
    expect(affA!.id.cidr).not.toEqual(affB!.id.cidr);
    expect(cidrContains(affA!.id.cidr, parseIp(r.ipv4.ips[0]!.split('/')[0]!))).toBe(true);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('recognises its own commit when the store applied it but reported a failure', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'warm', hostname: 'host-a' });
    const intercepted = new InterceptingDatastore(env().ds);
    const engine = new IpamEngine({ datastore: intercepted });
    intercepted.failNextCommits(1, 'after-apply');
    const r = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'once', hostname: 'host-a' });
    expect(r.ipv4.ips).toHaveLength(1);
    expect(await env().engine.ipsByHandle('once')).toEqual([r.ipv4.ips[0]!.split('/')[0]]);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('reports a retryable error and writes nothing when the store fails before applying', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'warm', hostname: 'host-a' });
    const intercepted = new InterceptingDatastore(env().ds);
    const engine = new IpamEngine({ datastore: intercepted });
    intercepted.failNextCommits(2, 'before-apply'); // the commit and its replay
    await expect(engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'never', hostname: 'host-a' })).rejects.toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    await expect(env().engine.ipsByHandle('never')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('settles an unknown outcome by replaying the transaction, after which the first attempt can never land', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'warm', hostname: 'host-a' });
    const intercepted = new InterceptingDatastore(env().ds);
    const engine = new IpamEngine({ datastore: intercepted });
    // The first attempt is held back (etcd timed out, the proposal still queued) and
    // reported unavailable; it is delivered after the operation has answered.
    let held: Parameters<typeof intercepted.commit>[0] | undefined;
    intercepted.beforeNextCommit(async (txn) => {
      held = txn;
    });
    intercepted.failNextCommits(1, 'before-apply');
    const r = await engine.assignIP({ ip: '10.0.0.7', handleId: 'static', hostname: 'host-a', attributes: {} });
    expect(r).toBe('10.0.0.7');
    expect(intercepted.commitCalls).toBe(2);
    await expect(env().ds.commit(held!)).rejects.toMatchObject({ code: 'conflict' });
    expect(await env().engine.ipsByHandle('static')).toEqual(['10.0.0.7']);
    await env().engine.releaseByHandle('static');
    await expect(env().ds.commit(held!)).rejects.toMatchObject({ code: 'conflict' });
    await expect(env().engine.ipsByHandle('static')).rejects.toMatchObject({ code: 'not-found' });
    expect((await env().engine.check()).problems).toBe(0);
  });

  it("releases an assignment still in progress on the same engine instead of overtaking it (no leak)", async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'warm', hostname: 'host-a' });
    const intercepted = new InterceptingDatastore(env().ds);
    const engine = new IpamEngine({ datastore: intercepted });
    // the assignment's transaction is slow (etcd electing a leader)
    const { reachedCommit, open } = holdNextCommit(intercepted);
    const assigned = engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'pod', hostname: 'host-a' });
    await reachedCommit;
    const released = engine.releaseByHandle('pod');
    // give the release time to read the handle, as it would without waiting for the assignment
    await new Promise((resolve) => setTimeout(resolve, 100));
    open();
    const [a, r] = await Promise.all([assigned, released]);
    expect(r).toEqual([a.ipv4.ips[0]!.split('/')[0]]);
    await expect(env().engine.ipsByHandle('pod')).rejects.toMatchObject({ code: 'not-found' });
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('does not start a request whose caller went away while it waited for its host', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'warm', hostname: 'host-a' });
    const intercepted = new InterceptingDatastore(env().ds);
    const engine = new IpamEngine({ datastore: intercepted });
    const { reachedCommit, open } = holdNextCommit(intercepted);
    const first = engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'first', hostname: 'host-a' });
    await reachedCommit;
    const caller = new AbortController();
    const waiting = engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'gone', hostname: 'host-a', signal: caller.signal });
    const stays = engine.assignIP({ ip: '10.0.0.40', handleId: 'stays', hostname: 'host-a', attributes: {} });
    caller.abort();
    open();
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    await expect(first).resolves.toMatchObject({ ipv4: { ips: [expect.any(String)] } });
    await expect(stays).resolves.toBe('10.0.0.40');
    await expect(env().engine.ipsByHandle('gone')).rejects.toMatchObject({ code: 'not-found' });
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('still answers not-found for a handle that was never assigned on this engine', async () => {
    await expect(env().engine.releaseByHandle('never')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('answers a repeated AssignIP of the same handle with its address instead of "already assigned"', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.assignIP({ ip: '10.0.0.9', handleId: 'pod-x', hostname: 'host-a', attributes: {} });
    await expect(env().engine.assignIP({ ip: '10.0.0.9', handleId: 'pod-x', hostname: 'host-a', attributes: {} })).resolves.toBe('10.0.0.9');
    await expect(env().engine.assignIP({ ip: '10.0.0.9', handleId: 'pod-y', hostname: 'host-a', attributes: {} })).rejects.toMatchObject({ code: 'already-assigned' });
    expect(await env().engine.ipsByHandle('pod-x')).toEqual(['10.0.0.9']);
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('keeps a block and its handle in agreement when a release and an allocation race on one block', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    const engines = [env().engine, env().newEngine()];
    const held: string[] = [];
    for (let round = 0; round < 5; round++) {
      const ops = Array.from({ length: 10 }, (_, i) => {
        const handle = `r${round}-${i}`;
        return engines[i % 2]!.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: handle, hostname: 'host-a' }).then(() => handle);
      });
      const releases = held.splice(0).map((h, i) => engines[(i + 1) % 2]!.releaseByHandle(h));
      const [got] = await Promise.all([Promise.all(ops), Promise.all(releases)]);
      held.push(...got);
    }
    expect((await env().engine.check()).problems).toBe(0);
  });

  it('plans from a stale cached block without ever handing out an address twice or missing a freed one', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/28', blockSize: 28 });
    const a = env().engine;
    const b = env().newEngine();
    const first = await a.autoAssign({ ...WORKLOAD, num4: 4, num6: 0, handleId: 'warm', hostname: 'host-a' }); // a caches the block
    // b changes the block behind a's back: takes what a thinks is free, frees what a thinks is taken
    for (const ip of ['10.0.0.4', '10.0.0.5', '10.0.0.6']) await b.assignIP({ ip, handleId: `b-${ip}`, hostname: 'host-a', attributes: {} });
    await b.releaseIPs([{ address: first.ipv4.ips[0]!.split('/')[0]! }]);
    const got = await a.autoAssign({ ...WORKLOAD, num4: 10, num6: 0, handleId: 'stale', hostname: 'host-a' });
    expect(got.ipv4.ips).toHaveLength(10); // 16 - 3 still warm - 3 of b's = 10, including the freed one
    expect(got.ipv4.ips.map((x) => x.split('/')[0])).toContain(first.ipv4.ips[0]!.split('/')[0]);
    expect((await env().engine.check()).problems).toBe(0);
  });
});

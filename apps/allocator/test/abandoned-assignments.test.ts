import { IpamEngine, IpamError } from '@atoll/ipam';
import { resourceKey } from '@atoll/model';
import { MemoryDatastore, type Datastore } from '@atoll/store';
import pino from 'pino';
import { AbandonedAssignments, REQUEST_TAG_ATTRIBUTE } from '../src/abandoned-assignments';

// The undo of assignments whose callers were told "try again later", on two engines sharing
// one datastore as two allocator replicas do. Pauses are shortened; the logic is the real one.

const log = pino({ level: 'silent' });
const FAST = { retryMinMs: 10, retryMaxMs: 50, lateLandingMs: 50 };

async function put(ds: Datastore, key: string, value: unknown): Promise<void> {
  await ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] });
}

const request = (handleId: string, attributes: Record<string, string> = { node: 'node-1' }) => ({
  num4: 1,
  num6: 0,
  handleId,
  hostname: 'node-1',
  attributes,
  intendedUse: 'Workload' as const,
});
const plain = (cidr: string) => cidr.split('/')[0]!;

describe('AbandonedAssignments', () => {
  let ds: MemoryDatastore;
  let replicaA: IpamEngine;
  let replicaB: IpamEngine;
  let undo: AbandonedAssignments;

  beforeEach(async () => {
    ds = new MemoryDatastore();
    await put(ds, resourceKey('ippools', 'p'), { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.60.0.0/24', blockSize: 28 } });
    await put(ds, resourceKey('nodes', 'node-1'), { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-1' }, spec: {} });
    replicaA = new IpamEngine({ datastore: ds });
    replicaB = new IpamEngine({ datastore: ds });
    undo = new AbandonedAssignments(replicaA, log, FAST);
  });
  afterEach(() => undo.stop());

  it('tags each assignment with its request, so the undo can tell it from any other', async () => {
    const r = await undo.run(request('h-tag'), undefined, (tagged) => replicaA.autoAssign(tagged));
    const attrs = await replicaA.getAssignmentAttributes(plain(r.ipv4.ips[0]!));
    expect(attrs.attributes[REQUEST_TAG_ATTRIBUTE]).toMatch(/^[0-9a-f-]{36}$/);
    expect(attrs.attributes.node).toBe('node-1');
  });

  it('releases what a request assigned after its caller went away, and tells the caller to try again', async () => {
    const caller = new AbortController();
    const done = undo.run(request('h-gone'), caller.signal, async (tagged) => {
      const r = await replicaA.autoAssign(tagged);
      caller.abort(); // the deadline passed while the engine worked
      return r;
    });
    await expect(done).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    await undo.settled();
    await expect(replicaA.ipsByHandle('h-gone')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('releases what a request assigned when its caller\'s deadline is too close for the answer to arrive in time', async () => {
    const deadline = Date.now() + 200; // under ANSWER_MARGIN_MS
    await expect(undo.run(request('h-late'), undefined, (tagged) => replicaA.autoAssign(tagged), deadline)).rejects.toMatchObject({ code: 'unavailable' });
    await undo.settled();
    await expect(replicaA.ipsByHandle('h-late')).rejects.toMatchObject({ code: 'not-found' });
    // with time to spare, the answer goes out
    const r = await undo.run(request('h-in-time'), undefined, (tagged) => replicaA.autoAssign(tagged), Date.now() + 10_000);
    expect(await replicaA.ipsByHandle('h-in-time')).toEqual([plain(r.ipv4.ips[0]!)]);
  });

  it('releases a commit whose outcome was reported unknown but which landed', async () => {
    const failed = undo.run(request('h-unknown'), undefined, async (tagged) => {
      await replicaA.autoAssign(tagged); // applied by etcd...
      throw new IpamError('unavailable', 'etcd commit timed out'); // ...but the answer was lost
    });
    await expect(failed).rejects.toMatchObject({ code: 'unavailable' });
    await undo.settled();
    await expect(replicaA.ipsByHandle('h-unknown')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('leaves alone what another request of the same handle got on another replica', async () => {
    let theirs = '';
    const failed = undo.run(request('h-shared'), undefined, async (tagged) => {
      await replicaA.autoAssign(tagged);
      // before this replica's undo runs, the runtime's next ADD of that pod lands on replica B
      theirs = plain((await replicaB.autoAssign(request('h-shared'))).ipv4.ips[0]!);
      throw new IpamError('unavailable', 'etcd commit timed out');
    });
    await expect(failed).rejects.toMatchObject({ code: 'unavailable' });
    await undo.settled();
    expect(await replicaB.ipsByHandle('h-shared')).toEqual([theirs]);
  });

  it('leaves alone an address released and handed out again to the same handle before the undo ran', async () => {
    const ip = '10.60.0.9';
    await replicaB.updateIPAMConfig({ ipCooldownSeconds: 0 });
    const failed = undo.run({ ip, handleId: 'h-static', hostname: 'node-1', attributes: { node: 'node-1' }, intendedUse: 'Workload' as const }, undefined, async (tagged) => {
      await replicaA.assignIP(tagged);
      // the runtime's DEL, then an ADD of the same pod for the same address, on replica B
      await replicaB.releaseByHandle('h-static');
      throw new IpamError('unavailable', 'etcd commit timed out');
    });
    await expect(failed).rejects.toMatchObject({ code: 'unavailable' });
    await replicaB.assignIP({ ip, handleId: 'h-static', hostname: 'node-1', attributes: { node: 'node-1' }, intendedUse: 'Workload' });
    await undo.settled();
    expect(await replicaB.ipsByHandle('h-static')).toEqual([ip]);
  });

  it('keeps trying while the datastore is unreachable, and releases once it answers', async () => {
    let unreachable = true;
    const flaky = {
      ipsByHandle: (h: string) => (unreachable ? Promise.reject(new IpamError('unavailable', 'etcd unreachable')) : replicaA.ipsByHandle(h)),
      getAssignmentAttributes: (ip: string) => replicaA.getAssignmentAttributes(ip),
      releaseIPs: (o: Parameters<IpamEngine['releaseIPs']>[0]) => replicaA.releaseIPs(o),
    };
    const patient = new AbandonedAssignments(flaky, log, FAST);
    try {
      const caller = new AbortController();
      caller.abort();
      await expect(patient.run(request('h-later'), caller.signal, (tagged) => replicaA.autoAssign(tagged))).rejects.toMatchObject({ code: 'unavailable' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(patient.inProgress).toBe(1);
      expect(await replicaA.ipsByHandle('h-later')).toHaveLength(1);
      unreachable = false;
      await patient.settled();
      await expect(replicaA.ipsByHandle('h-later')).rejects.toMatchObject({ code: 'not-found' });
    } finally {
      patient.stop();
    }
  });

  it('holds a new assignment of the same handle until the undo\'s first look, not through its late-landing wait', async () => {
    const slow = new AbandonedAssignments(replicaA, log, { ...FAST, lateLandingMs: 60_000 });
    try {
      const caller = new AbortController();
      caller.abort();
      await expect(slow.run(request('h-again'), caller.signal, (tagged) => replicaA.autoAssign(tagged))).rejects.toMatchObject({ code: 'unavailable' });
      const started = Date.now();
      const again = await slow.run(request('h-again'), undefined, (tagged) => replicaA.autoAssign(tagged));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await replicaA.ipsByHandle('h-again')).toEqual([plain(again.ipv4.ips[0]!)]);
      expect(slow.inProgress).toBe(1); // still waiting to look for a late landing
    } finally {
      slow.stop();
    }
  });

  it('fails a new assignment of the same handle with unavailable when its caller gives up while the undo cannot reach etcd', async () => {
    const unreachable = {
      ipsByHandle: () => Promise.reject(new IpamError('unavailable', 'etcd unreachable')),
      getAssignmentAttributes: (ip: string) => replicaA.getAssignmentAttributes(ip),
      releaseIPs: (o: Parameters<IpamEngine['releaseIPs']>[0]) => replicaA.releaseIPs(o),
    };
    const stuck = new AbandonedAssignments(unreachable, log, FAST);
    try {
      const gone = new AbortController();
      gone.abort();
      await expect(stuck.run(request('h-stuck'), gone.signal, (tagged) => replicaA.autoAssign(tagged))).rejects.toMatchObject({ code: 'unavailable' });
      const next = new AbortController();
      setTimeout(() => next.abort(), 100);
      let assigned = false;
      await expect(stuck.run(request('h-stuck'), next.signal, async (tagged) => ((assigned = true), replicaA.autoAssign(tagged)))).rejects.toMatchObject({ code: 'unavailable' });
      expect(assigned).toBe(false);
    } finally {
      stuck.stop();
    }
  });

  it('does not tag a request already at the attribute limit, and does not undo it', async () => {
    const full = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v']));
    const caller = new AbortController();
    const done = undo.run(request('h-full', full), caller.signal, async (tagged) => {
      expect(Object.keys(tagged.attributes)).toHaveLength(32);
      const r = await replicaA.autoAssign(tagged);
      caller.abort();
      return r;
    });
    await expect(done).rejects.toMatchObject({ code: 'unavailable' });
    expect(undo.inProgress).toBe(0);
  });
});

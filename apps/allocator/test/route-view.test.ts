import { RouteUpdate } from '@atoll/api';
import { IpamEngine } from '@atoll/ipam';
import { addressAt, formatIp, parseCidr } from '@atoll/ipmath';
import { resourceKey } from '@atoll/model';
import type { Datastore } from '@atoll/store';
import { makeEtcdTestStore, type EtcdTestStore } from '@atoll/store/testing';
import pino from 'pino';
import { RouteView } from '../src/routes';
import type { RouteChanges } from '../src/routes/route-changes';

// The allocator's route view against the real etcd the test run started: blocks written by
// the real engine, nodes and pools as Calico's records.

const log = pino({ level: 'silent' });

async function put(ds: Datastore, key: string, value: unknown): Promise<void> {
  await ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] });
}
const putNode = (ds: Datastore, name: string, bgp?: Record<string, string>) =>
  put(ds, resourceKey('nodes', name), { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: bgp ? { bgp } : {} });
const putPool = (ds: Datastore, name: string, spec: Record<string, unknown>) =>
  put(ds, resourceKey('ippools', name), { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { blockSize: 29, ...spec } });

const assign = (engine: IpamEngine, node: string, handleId: string) =>
  engine.autoAssign({ num4: 1, num6: 0, handleId, hostname: node, attributes: { node }, intendedUse: 'Workload' }).then((r) => r.ipv4.ips[0]!.split('/')[0]!);

const addressInBlock = (block: string, ordinal: number) => formatIp(addressAt(parseCidr(block), ordinal));

interface Replica {
  nodes: Map<string, string>;
  blocks: Map<string, string>;
  borrowed: Map<string, string>;
  pools: Map<string, string>;
}

/** A subscriber that decodes what it receives, keeps the state it describes, and remembers every message. */
class RecordingSubscriber {
  readonly messages: RouteUpdate[] = [];
  readonly state: Replica = { nodes: new Map(), blocks: new Map(), borrowed: new Map(), pools: new Map() };

  snapshot(encoded: Buffer): void {
    this.apply(RouteUpdate.decode(encoded));
  }

  changes(delta: RouteChanges): void {
    this.apply(RouteUpdate.decode(delta.encode()));
  }

  private apply(u: RouteUpdate): void {
    this.messages.push(u);
    if (u.snapshot) for (const m of Object.values(this.state)) m.clear();
    u.nodes.forEach((n) => this.state.nodes.set(n.name, `${n.ipv4Address}|${n.ipv6Address}`));
    u.blocks.forEach((b) => this.state.blocks.set(b.cidr, b.node));
    u.borrowed.forEach((b) => this.state.borrowed.set(b.ip, b.node));
    u.pools.forEach((p) => this.state.pools.set(p.name, `${p.cidr} nat=${p.natOutgoing} ipip=${p.ipipMode} vxlan=${p.vxlanMode} disabled=${p.disabled}`));
    u.removedNodes.forEach((k) => this.state.nodes.delete(k));
    u.removedBlocks.forEach((k) => this.state.blocks.delete(k));
    u.removedBorrowed.forEach((k) => this.state.borrowed.delete(k));
    u.removedPools.forEach((k) => this.state.pools.delete(k));
  }

  async waitFor(what: string, predicate: (s: Replica) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.state)) {
      if (Date.now() > deadline) throw new Error(`route view: timed out waiting for ${what}; state ${JSON.stringify(Object.fromEntries(Object.entries(this.state).map(([k, m]) => [k, [...m]])))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe('the route view on etcd', () => {
  let etcd: EtcdTestStore;
  let ds: Datastore;
  let engine: IpamEngine;
  let view: RouteView;

  beforeEach(async () => {
    etcd = await makeEtcdTestStore();
    ds = etcd.store;
    engine = new IpamEngine({ datastore: ds });
    view = new RouteView(ds, { log, flushDelayMs: 5 });
    await putPool(ds, 'pods', { cidr: '10.50.0.0/16', natOutgoing: true });
    await putNode(ds, 'node-a', { ipv4Address: '172.30.0.1/24' });
    await putNode(ds, 'node-b', { ipv4Address: '172.30.0.2', ipv6Address: 'fd30::2/64' });
  });
  afterEach(async () => {
    await view.close();
    await etcd.cleanup();
  });

  it('starts with a snapshot of every node, block, borrowed address and pool', async () => {
    const a = await assign(engine, 'node-a', 'ha');
    const aBlock = (await engine.getAssignmentAttributes(a)).block;
    // node-b takes an address in node-a's block: a borrowed one
    const borrowedIp = addressInBlock(aBlock, 3);
    await engine.assignIP({ ip: borrowedIp, handleId: 'hb', hostname: 'node-b', attributes: { node: 'node-b' } });
    const s = new RecordingSubscriber();
    view.subscribe(s);
    await s.waitFor('the snapshot', (st) => st.pools.size > 0);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]!.snapshot).toBe(true);
    expect(s.state).toEqual({
      nodes: new Map([
        ['node-a', '172.30.0.1/24|'],
        ['node-b', '172.30.0.2|fd30::2/64'],
      ]),
      blocks: new Map([[aBlock, 'node-a']]),
      borrowed: new Map([[borrowedIp, 'node-b']]),
      pools: new Map([['pods', '10.50.0.0/16 nat=true ipip=Never vxlan=Never disabled=false']]),
    });
  });

  it('sends each later change as a delta of what changed, to every subscriber', async () => {
    const s1 = new RecordingSubscriber();
    const s2 = new RecordingSubscriber();
    view.subscribe(s1);
    view.subscribe(s2);
    await s1.waitFor('the snapshot', (st) => st.pools.size === 1);

    // a block claimed later
    const a = await assign(engine, 'node-a', 'ha');
    const aBlock = (await engine.getAssignmentAttributes(a)).block;
    await s1.waitFor('node-a\'s block', (st) => st.blocks.get(aBlock) === 'node-a');
    expect(s1.messages.at(-1)).toMatchObject({ snapshot: false, blocks: [{ cidr: aBlock, node: 'node-a' }], nodes: [], pools: [] });

    // another allocation from node-a's own block changes no route: nothing is sent for it
    const sent = s1.messages.length;
    await assign(engine, 'node-a', 'ha2');
    await putPool(ds, 'marker', { cidr: '10.51.0.0/16' });
    await s1.waitFor('the marker pool', (st) => st.pools.has('marker'));
    expect(s1.messages.slice(sent).map((m) => [m.blocks.length, m.borrowed.length])).toEqual([[0, 0]]);

    // a borrowed address assigned, then released
    const borrowedIp = addressInBlock(aBlock, 4);
    await engine.assignIP({ ip: borrowedIp, handleId: 'hb', hostname: 'node-b', attributes: { node: 'node-b' } });
    await s1.waitFor('the borrowed address', (st) => st.borrowed.get(borrowedIp) === 'node-b');
    await engine.releaseByHandle('hb');
    await s1.waitFor('the borrowed address to go', (st) => !st.borrowed.has(borrowedIp));
    expect(s1.messages.at(-1)).toMatchObject({ removedBorrowed: [borrowedIp] });

    // a node's address changed
    await putNode(ds, 'node-a', { ipv4Address: '172.30.0.11/24' });
    await s1.waitFor('node-a\'s new address', (st) => st.nodes.get('node-a') === '172.30.0.11/24|');
    expect(s1.messages.at(-1)).toMatchObject({ nodes: [{ name: 'node-a', ipv4Address: '172.30.0.11/24', ipv6Address: '' }], blocks: [], borrowed: [] });

    // a pool changed, another deleted
    await putPool(ds, 'pods', { cidr: '10.50.0.0/16', natOutgoing: false, ipipMode: 'Always' });
    await ds.commit({ preconditions: [], mutations: [{ op: 'delete', key: resourceKey('ippools', 'marker') }] });
    await s1.waitFor('the pool change', (st) => !st.pools.has('marker') && st.pools.get('pods') === '10.50.0.0/16 nat=false ipip=Always vxlan=Never disabled=false');

    // the affinity released while the block still holds node-a's addresses: no node any more, and those become borrowed
    await engine.releaseAffinity(aBlock, 'node-a', { mustBeEmpty: false });
    await s1.waitFor('the released affinity', (st) => st.blocks.get(aBlock) === '' && st.borrowed.get(a) === 'node-a');
    // released entirely: the block is gone, and with it its borrowed addresses
    await engine.releaseByHandle('ha');
    await engine.releaseByHandle('ha2');
    await s1.waitFor('the block to go', (st) => !st.blocks.has(aBlock) && st.borrowed.size === 0);

    // a node deleted
    await ds.commit({ preconditions: [], mutations: [{ op: 'delete', key: resourceKey('nodes', 'node-b') }] });
    await s1.waitFor('node-b to go', (st) => !st.nodes.has('node-b'));

    await s2.waitFor('the same state', (st) => st.nodes.size === 1);
    expect(s2.state).toEqual(s1.state);
    expect(s2.messages.map((m) => RouteUpdate.toJSON(m))).toEqual(s1.messages.map((m) => RouteUpdate.toJSON(m)));
  });

  it('gives a subscriber that comes mid-way a snapshot consistent with what the others were sent', async () => {
    const early = new RecordingSubscriber();
    view.subscribe(early);
    await early.waitFor('the snapshot', (st) => st.pools.size === 1);
    // changes keep coming while the late subscriber joins
    const writes = (async () => {
      for (let i = 0; i < 12; i++) await assign(engine, i % 2 ? 'node-a' : 'node-b', `h${i}`);
      await engine.releaseHostAffinities('node-b', { mustBeEmpty: false });
    })();
    await new Promise((r) => setTimeout(r, 30));
    const late = new RecordingSubscriber();
    view.subscribe(late);
    await writes;
    await putPool(ds, 'marker', { cidr: '10.52.0.0/16' });
    await early.waitFor('the marker', (st) => st.pools.has('marker'));
    await late.waitFor('the marker', (st) => st.pools.has('marker'));
    expect(late.messages[0]!.snapshot).toBe(true);
    expect(late.messages.slice(1).every((m) => !m.snapshot)).toBe(true);
    expect(late.state).toEqual(early.state);
    expect([...early.state.blocks.values()].sort()).toEqual(['', 'node-a']);
  });
});

import type { Allocation } from '../allocations';
import { CollectionPlanner } from './planner';
import type { AllocationState, CollectionPlan, GcBlock, GcPod } from './types';

// The planner is fed scans and a Kubernetes view at chosen times; each test tells a story
// pass by pass. GRACE is the grace period; times are in ms.

const GRACE = 60_000;
const T0 = 1_800_000_000_000;

interface World {
  allocations: Allocation[];
  blocks: GcBlock[];
  pods: GcPod[];
  nodes: string[];
}

let seq = 100n;
function podAddress(address: string, opts: { handle?: string; node?: string; ns?: string; pod?: string; block?: string } = {}): Allocation {
  return {
    address,
    block: opts.block ?? (address.includes(':') ? 'fd00::/122' : '10.0.0.0/26'),
    handleId: opts.handle ?? `k8s-pod-network.${address}`,
    attributes: { node: opts.node ?? 'n1', namespace: opts.ns ?? 'ns', pod: opts.pod ?? `pod-${address}`, timestamp: 'x' },
    sequenceNumber: seq++,
    blockAffinity: 'host:n1',
  };
}
const tunnelAddress = (address: string, node: string): Allocation => ({
  address,
  block: '10.0.1.0/26',
  handleId: `ipip-tunnel-addr-${node}`,
  attributes: { node, type: 'ipipTunnelAddress' },
  sequenceNumber: seq++,
  blockAffinity: `host:${node}`,
});
const runningPod = (a: Allocation, over: Partial<GcPod> = {}): GcPod => ({
  namespace: a.attributes['namespace']!,
  name: a.attributes['pod']!,
  nodeName: a.attributes['node'],
  phase: 'Running',
  podIPs: [a.address],
  ...over,
});
const block = (cidr: string, node: string | null, empty: boolean, sequenceNumber = 1n): GcBlock => ({
  cidr,
  affinity: node === null ? null : `host:${node}`,
  empty,
  sequenceNumber,
});

function pass(planner: CollectionPlanner, world: World, now: number): CollectionPlan {
  return planner.plan({
    scan: { allocations: world.allocations, blocks: world.blocks },
    pod: (ns, name) => world.pods.find((p) => p.namespace === ns && p.name === name),
    nodeExists: (n) => world.nodes.includes(n),
    now,
  });
}

const stateOf = (plan: CollectionPlan, address: string): AllocationState | undefined =>
  plan.verdicts.find((v) => v.allocation.address === address)?.state;
const released = (plan: CollectionPlan) => plan.releases.flatMap((r) => r.allocations.map((v) => v.allocation.address)).sort();

describe('the garbage collection planner', () => {
  let planner: CollectionPlanner;
  beforeEach(() => {
    planner = new CollectionPlanner({ gracePeriodMs: GRACE });
  });

  describe('pod addresses', () => {
    it('confirms the address of a deleted pod only once it has looked leaked for longer than the grace period', () => {
      const a = podAddress('10.0.0.1');
      const world: World = { allocations: [a], blocks: [block('10.0.0.0/26', 'n1', false)], pods: [], nodes: ['n1'] };
      const steps: [number, AllocationState, string[]][] = [
        [T0, 'candidate', []],
        [T0 + GRACE / 2, 'candidate', []],
        [T0 + GRACE, 'candidate', []],
        [T0 + GRACE + 1, 'confirmed', ['10.0.0.1']],
      ];
      for (const [now, state, releases] of steps) {
        const plan = pass(planner, world, now);
        expect(stateOf(plan, '10.0.0.1')).toBe(state);
        expect(released(plan)).toEqual(releases);
      }
      expect(pass(planner, world, T0 + GRACE + 2).verdicts[0]!.leakedSince).toBe(T0);
    });

    it('never releases the address of a live pod, nor of one whose IP is not reported yet', () => {
      const live = podAddress('10.0.0.1');
      const starting = podAddress('10.0.0.2');
      const world: World = {
        allocations: [live, starting],
        blocks: [block('10.0.0.0/26', 'n1', false)],
        pods: [runningPod(live), runningPod(starting, { phase: 'Pending', podIPs: [] })],
        nodes: ['n1'],
      };
      for (const now of [T0, T0 + GRACE * 2, T0 + GRACE * 10]) {
        const plan = pass(planner, world, now);
        expect(plan.verdicts.map((v) => v.state)).toEqual(['valid', 'valid']);
        expect(plan.releases).toEqual([]);
      }
      expect(planner.tracked.allocations).toBe(0);
    });

    it('forgets a candidate that turns out valid, and starts the grace period again if it looks leaked later', () => {
      const a = podAddress('10.0.0.1');
      const world: World = { allocations: [a], blocks: [], pods: [], nodes: ['n1'] };
      pass(planner, world, T0);
      world.pods = [runningPod(a)];
      expect(stateOf(pass(planner, world, T0 + GRACE / 2), a.address)).toBe('valid');
      world.pods = [];
      const later = pass(planner, world, T0 + GRACE + 1);
      expect(stateOf(later, a.address)).toBe('candidate');
      expect(later.verdicts[0]!.leakedSince).toBe(T0 + GRACE + 1);
    });

    it('forgets a candidate when a live re-check found it in use (markValid)', () => {
      const a = podAddress('10.0.0.1');
      const world: World = { allocations: [a], blocks: [], pods: [], nodes: ['n1'] };
      const first = pass(planner, world, T0);
      planner.markValid(first.verdicts[0]!.key);
      expect(pass(planner, world, T0 + GRACE + 1).verdicts[0]).toMatchObject({ state: 'candidate', leakedSince: T0 + GRACE + 1 });
    });

    it.each<[string, (a: Allocation) => GcPod | undefined, string]>([
      ['a pod that now runs on another node', (a) => runningPod(a, { nodeName: 'n2' }), 'pod is now on node n2'],
      ['an evicted pod', (a) => runningPod(a, { phase: 'Failed', reason: 'Evicted' }), 'pod was evicted'],
      ['a pod that reports another address', (a) => runningPod(a, { podIPs: ['10.0.0.99'] }), 'pod does not have the address'],
    ])('treats the address of %s as a leak candidate', (_what, podFor, reason) => {
      const a = podAddress('10.0.0.1');
      const plan = pass(planner, { allocations: [a], blocks: [], pods: [podFor(a)!], nodes: ['n1', 'n2'] }, T0);
      expect(plan.verdicts[0]).toMatchObject({ state: 'candidate', reason });
    });

    it('treats a reassigned address as a new allocation with its own grace period', () => {
      const a = podAddress('10.0.0.1');
      const world: World = { allocations: [a], blocks: [], pods: [], nodes: ['n1'] };
      pass(planner, world, T0);
      world.allocations = [{ ...a, sequenceNumber: a.sequenceNumber + 5n }];
      expect(pass(planner, world, T0 + GRACE + 1).verdicts[0]).toMatchObject({ state: 'candidate', leakedSince: T0 + GRACE + 1 });
      expect(planner.tracked.allocations).toBe(1);
    });
  });

  describe('addresses the collector leaves alone', () => {
    it.each<[string, Allocation]>([
      ['an address with no pod or namespace attributes', { ...podAddress('10.0.0.1'), attributes: { node: 'n1' } }],
      ['an address with no node attribute', { ...podAddress('10.0.0.1'), attributes: { namespace: 'ns', pod: 'p' } }],
      ['an address with no handle', (({ handleId: _h, ...rest }) => rest)(podAddress('10.0.0.1'))],
      ['a Windows host reservation', { ...podAddress('10.0.0.1'), handleId: 'windows-reserved-ipam-handle', attributes: { node: 'n1', note: 'windows host rsvd' } }],
    ])('never releases %s, even when its node is gone', (_what, a) => {
      for (const now of [T0, T0 + GRACE * 10]) {
        const plan = pass(planner, { allocations: [a], blocks: [], pods: [], nodes: [] }, now);
        expect(plan.verdicts[0]!.state).toBe('ignored');
        expect(plan.releases).toEqual([]);
      }
    });

    it('keeps a deleted node (its tunnel address and affinities) while it holds an address of unknown use', () => {
      const unknown = { ...podAddress('10.0.0.1'), attributes: { node: 'gone' } };
      const tunnel = tunnelAddress('10.0.1.1', 'gone');
      const plan = pass(planner, { allocations: [unknown, tunnel], blocks: [block('10.0.1.0/26', 'gone', false)], pods: [], nodes: [] }, T0);
      expect(stateOf(plan, '10.0.1.1')).toBe('valid');
      expect(plan.nodesToRelease).toEqual([]);
    });

    it('never counts a sticky StatefulSet address as a leak, though its pod is gone, and keeps its deleted node', () => {
      const idle = podAddress('10.0.0.1', { handle: 'atoll-sticky-idle.db.pg.0', ns: 'db', pod: 'pg-0', node: 'gone' });
      const inUse = podAddress('10.0.0.2', { handle: 'atoll-sticky.db.pg.1', ns: 'db', pod: 'pg-1' });
      const world: World = { allocations: [idle, inUse], blocks: [block('10.0.0.0/26', 'gone', false)], pods: [], nodes: ['n1'] };
      for (const now of [T0, T0 + GRACE + 1, T0 + 10 * GRACE]) {
        const plan = pass(planner, world, now);
        expect(plan.verdicts.map((v) => [v.allocation.address, v.state, v.reason])).toEqual([
          ['10.0.0.1', 'ignored', 'sticky address of db/pg/0'],
          ['10.0.0.2', 'ignored', 'sticky address of db/pg/1'],
        ]);
        expect(plan.releases).toEqual([]);
        expect(plan.nodesToRelease).toEqual([]);
      }
    });

    it('lets a Windows host reservation not stand in the way of releasing its deleted node', () => {
      const windows = { ...podAddress('10.0.0.1'), handleId: 'windows-reserved-ipam-handle', attributes: { node: 'gone' } };
      const plan = pass(planner, { allocations: [windows], blocks: [block('10.0.0.0/26', 'gone', true)], pods: [], nodes: [] }, T0);
      expect(plan.nodesToRelease).toEqual(['gone']);
    });
  });

  describe('deleted nodes', () => {
    it('confirms the pod and tunnel addresses of a deleted node at once and releases the node', () => {
      const p = podAddress('10.0.0.1', { node: 'gone' });
      const t = tunnelAddress('10.0.1.1', 'gone');
      const plan = pass(planner, { allocations: [p, t], blocks: [block('10.0.0.0/26', 'gone', false), block('10.0.1.0/26', 'gone', false)], pods: [], nodes: ['n1'] }, T0);
      expect(plan.verdicts.map((v) => [v.allocation.address, v.state, v.reason])).toEqual([
        ['10.0.0.1', 'confirmed', 'node gone; pod not found'],
        ['10.0.1.1', 'confirmed', 'tunnel address of a deleted node'],
      ]);
      expect(released(plan)).toEqual(['10.0.0.1', '10.0.1.1']);
      expect(plan.nodesToRelease).toEqual(['gone']);
    });

    it('releases the affinities of a deleted node that holds no address at all', () => {
      const plan = pass(planner, { allocations: [], blocks: [block('10.0.0.0/26', 'gone', true), block('10.0.0.64/26', 'n1', true)], pods: [], nodes: ['n1'] }, T0);
      expect(plan.nodesToRelease).toEqual(['gone']);
    });

    it('keeps the tunnel address and affinities of a deleted node while one of its pods is still valid', () => {
      const live = podAddress('10.0.0.1', { node: 'gone' });
      const dead = podAddress('10.0.0.2', { node: 'gone' });
      const t = tunnelAddress('10.0.1.1', 'gone');
      const plan = pass(planner, { allocations: [live, dead, t], blocks: [], pods: [runningPod(live)], nodes: [] }, T0);
      expect(plan.verdicts.map((v) => v.state)).toEqual(['valid', 'confirmed', 'valid']);
      expect(released(plan)).toEqual(['10.0.0.2']);
      expect(plan.nodesToRelease).toEqual([]);
    });

    it('keeps the tunnel address of a node that exists', () => {
      const t = tunnelAddress('10.0.1.1', 'n1');
      for (const now of [T0, T0 + GRACE * 3]) expect(stateOf(pass(planner, { allocations: [t], blocks: [], pods: [], nodes: ['n1'] }, now), '10.0.1.1')).toBe('valid');
    });
  });

  describe('handles', () => {
    it('releases every address of a handle together once all of them are confirmed', () => {
      const v4 = podAddress('10.0.0.1', { handle: 'h', pod: 'dual' });
      const v6 = podAddress('fd00::1', { handle: 'h', pod: 'dual' });
      const plan = pass(planner, { allocations: [v4, v6], blocks: [], pods: [], nodes: [] }, T0);
      expect(plan.releases).toHaveLength(1);
      expect(plan.releases[0]).toMatchObject({ handleId: 'h', node: 'n1' });
      expect(plan.releases[0]!.allocations.map((v) => v.allocation.address)).toEqual(['10.0.0.1', 'fd00::1']);
    });

    it('holds a whole handle while one of its addresses is still valid', () => {
      const v4 = podAddress('10.0.0.1', { handle: 'h', pod: 'dual' });
      const v6 = podAddress('fd00::1', { handle: 'h', pod: 'dual' });
      const world: World = { allocations: [v4, v6], blocks: [], pods: [runningPod(v4, { podIPs: ['10.0.0.1'] })], nodes: ['n1'] };
      pass(planner, world, T0);
      const plan = pass(planner, world, T0 + GRACE + 1);
      expect([stateOf(plan, '10.0.0.1'), stateOf(plan, 'fd00::1')]).toEqual(['valid', 'confirmed']);
      expect(plan.releases).toEqual([]);
      expect(plan.heldHandles).toEqual(['h']);
    });

    it('holds a whole handle while one of its addresses is only a candidate', () => {
      const onGoneNode = podAddress('10.0.0.1', { handle: 'h', node: 'gone' });
      const onLiveNode = podAddress('10.0.0.2', { handle: 'h', node: 'n1' });
      const plan = pass(planner, { allocations: [onGoneNode, onLiveNode], blocks: [], pods: [], nodes: ['n1'] }, T0);
      expect([stateOf(plan, '10.0.0.1'), stateOf(plan, '10.0.0.2')]).toEqual(['confirmed', 'candidate']);
      expect(plan.heldHandles).toEqual(['h']);
    });

    it('releases at most the per-pass limit of addresses, never splitting a handle, and the rest roll over', () => {
      planner = new CollectionPlanner({ gracePeriodMs: GRACE, maxReleasesPerPass: 3 });
      const pair = [podAddress('10.0.0.1', { handle: 'pair', node: 'gone' }), podAddress('10.0.0.2', { handle: 'pair', node: 'gone' })];
      const singles = ['10.0.0.3', '10.0.0.4', '10.0.0.5'].map((a) => podAddress(a, { node: 'gone' }));
      const plan = pass(planner, { allocations: [...pair, ...singles], blocks: [], pods: [], nodes: [] }, T0);
      expect(plan.releases.map((r) => r.allocations.length)).toEqual([2, 1]);
    });
  });

  describe('empty blocks', () => {
    it('releases an empty block seen empty and unwritten across the grace period, keeping the node\'s other block', () => {
      const world: World = { allocations: [], blocks: [block('10.0.0.0/26', 'n1', false), block('10.0.0.64/26', 'n1', true, 5n)], pods: [], nodes: ['n1'] };
      const steps: [number, string[]][] = [
        [T0, []],
        [T0 + GRACE, []],
        [T0 + GRACE + 1, ['10.0.0.64/26']],
      ];
      for (const [now, cidrs] of steps) expect(pass(planner, world, now).emptyBlocks.map((b) => b.cidr)).toEqual(cidrs);
      expect(pass(planner, world, T0 + GRACE + 2).emptyBlocks).toEqual([{ cidr: '10.0.0.64/26', node: 'n1', sequenceNumber: 5n }]);
    });

    it('never releases a node\'s only block', () => {
      const world: World = { allocations: [], blocks: [block('10.0.0.0/26', 'n1', true)], pods: [], nodes: ['n1'] };
      for (const now of [T0, T0 + GRACE * 2, T0 + GRACE * 10]) expect(pass(planner, world, now).emptyBlocks).toEqual([]);
    });

    it('keeps one block of a node whose blocks are all empty', () => {
      const world: World = { allocations: [], blocks: [block('10.0.0.0/26', 'n1', true), block('10.0.0.64/26', 'n1', true)], pods: [], nodes: ['n1'] };
      pass(planner, world, T0);
      expect(pass(planner, world, T0 + GRACE + 1).emptyBlocks.map((b) => b.cidr)).toEqual(['10.0.0.0/26']);
    });

    it.each<[string, GcBlock]>([
      ['was used in between (seen non-empty)', block('10.0.0.64/26', 'n1', false, 5n)],
      ['was written in between (a new sequence number)', block('10.0.0.64/26', 'n1', true, 6n)],
    ])('starts the grace period again for a block that %s', (_what, between) => {
      const keep = block('10.0.0.0/26', 'n1', false);
      const empty = block('10.0.0.64/26', 'n1', true, 5n);
      pass(planner, { allocations: [], blocks: [keep, empty], pods: [], nodes: ['n1'] }, T0);
      pass(planner, { allocations: [], blocks: [keep, between], pods: [], nodes: ['n1'] }, T0 + GRACE / 2);
      const after = { allocations: [], blocks: [keep, { ...empty, sequenceNumber: between.sequenceNumber }], pods: [], nodes: ['n1'] };
      expect(pass(planner, after, T0 + GRACE + 1).emptyBlocks).toEqual([]);
    });

    it('leaves unaffine blocks and the blocks of a node being released to others', () => {
      const world: World = { allocations: [], blocks: [block('10.0.0.0/26', null, true), block('10.0.1.0/26', 'gone', true), block('10.0.1.64/26', 'gone', true)], pods: [], nodes: [] };
      pass(planner, world, T0);
      const plan = pass(planner, world, T0 + GRACE + 1);
      expect(plan.emptyBlocks).toEqual([]);
      expect(plan.nodesToRelease).toEqual(['gone']);
    });
  });

  it('forgets the allocations and blocks that are gone from the scan', () => {
    const a = podAddress('10.0.0.1');
    const world: World = { allocations: [a], blocks: [block('10.0.0.0/26', 'n1', false), block('10.0.0.64/26', 'n1', true)], pods: [], nodes: ['n1'] };
    pass(planner, world, T0);
    expect(planner.tracked).toEqual({ allocations: 1, blocks: 1 });
    pass(planner, { allocations: [], blocks: [], pods: [], nodes: ['n1'] }, T0 + 1);
    expect(planner.tracked).toEqual({ allocations: 0, blocks: 0 });
  });

  it.each([0, -1, Number.NaN])('refuses a grace period of %p', (gracePeriodMs) => {
    expect(() => new CollectionPlanner({ gracePeriodMs })).toThrow(RangeError);
  });
});

import { blockKey, decodeBlock, encodeBlock, handleKey } from '@atoll/model';
import { parseCidr } from '@atoll/ipmath';
import { describeWithStores, putNode, putPool, putReservation, WORKLOAD } from './testing/fixtures';

describeWithStores('consistency check and utilization', (env) => {
  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 3, num6: 0, handleId: 'h', hostname: 'host-a' });
  });

  const rewriteBlock = async (edit: (json: string) => string) => {
    const key = blockKey(parseCidr('10.0.0.0/26'));
    const kv = await env().ds.get(key);
    await env().ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: edit(kv!.value) }] });
  };

  it('finds nothing wrong with data the engine wrote', async () => {
    const r = await env().engine.check();
    expect(r).toMatchObject({ blocks: 1, allocations: 3, handles: 1, affinities: 1, problems: 0 });
  });

  it.each([
    ['a duplicate free ordinal', (j: string) => j.replace('"unallocated":[3,', '"unallocated":[3,3,'), 'invalidBlocks'],
    ['an allocation pointing at a missing attribute', (j: string) => j.replace('"allocations":[0,', '"allocations":[7,'), 'invalidBlocks'],
    ['an allocation of a handle that has no record', (j: string) => j.replace('"handle_id":"h"', '"handle_id":"ghost"'), 'addressesWithoutHandle'],
  ])('reports %s', async (_name, edit, field) => {
    await rewriteBlock(edit);
    const r = await env().engine.check();
    expect((r as unknown as Record<string, unknown[]>)[field]!.length).toBeGreaterThan(0);
    expect(r.problems).toBeGreaterThan(0);
  });

  it('reports a handle whose count disagrees with its block, and a handle with no addresses', async () => {
    await env().ds.commit({
      preconditions: [],
      mutations: [
        { op: 'put', key: handleKey('h'), value: '{"block":{"10.0.0.0/26":5},"deleted":false}' },
        { op: 'put', key: handleKey('orphan'), value: '{"block":{"10.0.0.0/26":1},"deleted":false}' },
      ],
    });
    const r = await env().engine.check();
    expect(r.miscountedHandles).toContainEqual({ handleId: 'h', block: '10.0.0.0/26', recorded: 5, actual: 3 });
    expect(r.handlesWithoutAddresses).toEqual(['orphan']);
  });

  it('reports a block outside every pool and an affinity its block disagrees with', async () => {
    const b = decodeBlock((await env().ds.get(blockKey(parseCidr('10.0.0.0/26'))))!.value);
    await env().ds.commit({
      preconditions: [],
      mutations: [
        { op: 'put', key: blockKey(parseCidr('99.0.0.0/26')), value: encodeBlock({ ...b, cidr: parseCidr('99.0.0.0/26'), affinity: null, allocations: new Array(64).fill(null), unallocated: [...Array(64).keys()], attributes: [], sequenceNumberForAllocation: {} }) },
        { op: 'put', key: blockKey(parseCidr('10.0.0.0/26')), value: encodeBlock({ ...b, affinity: 'host:someone-else' }) },
      ],
    });
    const r = await env().engine.check();
    expect(r.blocksOutsidePools).toEqual(['99.0.0.0/26']);
    expect(r.affinityProblems.map((p) => p.problem)).toEqual(
      expect.arrayContaining(['block 10.0.0.0/26 belongs to host:someone-else']),
    );
  });

  it('counts capacity, use, reservations and availability per pool and block', async () => {
    await putReservation(env().ds, 'r', ['10.0.0.0/30', '10.0.0.2/31', '10.0.1.0/28']);
    const u = await env().engine.getUtilization();
    const pool = u.pools.find((p) => p.name === 'p')!;
    // 3 in use (.0 .1 .2), 4 reserved in the pool (overlaps counted once, 10.0.1.0/28 is
    // outside it), and .0-.2 both in use and reserved: available = 64 - |{.0-.3}| = 60
    expect(pool).toMatchObject({ capacity: 64n, inUse: 3n, reserved: 4n, available: 60n });
    expect(pool.blocks).toEqual([{ cidr: '10.0.0.0/26', affinity: 'host:host-a', capacity: 64n, inUse: 3n, reserved: 4n, available: 60n }]);
  });
});

import fc from 'fast-check';
import { addressAt, formatIp } from '@atoll/ipmath';
import { attributeOf } from './block';
import { IpamEngine } from './engine';
import { IpamRecords } from './io';
import { describeWithStores, putNode, putPool } from './testing/fixtures';

// Several engines — as separate allocator replicas would be — doing random operations at
// once on one datastore. At checkpoints and at the end: no address is held by two
// handles, every block is sound, handle counts match the blocks, and every address an
// operation reported as assigned to a live handle is still that handle's.

type Op =
  | { kind: 'auto'; host: number; n4: number; n6: number }
  | { kind: 'specific'; host: number; ordinal: number }
  | { kind: 'releaseHandle'; pick: number }
  | { kind: 'releaseIps'; pick: number }
  | { kind: 'releaseAffinity'; host: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('auto' as const), host: fc.nat(5), n4: fc.integer({ min: 0, max: 3 }), n6: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('specific' as const), host: fc.nat(5), ordinal: fc.nat(255) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('releaseHandle' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('releaseIps' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('releaseAffinity' as const), host: fc.nat(5) }) },
);

async function assertConsistent(engine: IpamEngine, records: IpamRecords, live: Map<string, Set<string>>): Promise<void> {
  const report = await engine.check();
  expect({ ...report, problems: report.problems }).toMatchObject({ invalidBlocks: [], miscountedHandles: [], addressesWithoutHandle: [], affinityProblems: [] });
  const owner = new Map<string, string>();
  for (const b of await records.listBlocks()) {
    b.value.allocations.forEach((_a, ord) => {
      const h = attributeOf(b.value, ord)?.handleId;
      if (!h) return;
      const ip = formatIp(addressAt(b.value.cidr, ord));
      expect(owner.has(ip)).toBe(false);
      owner.set(ip, h);
    });
  }
  for (const [handle, ips] of live) for (const ip of ips) expect(owner.get(ip)).toBe(handle);
}

describeWithStores('randomized concurrent operations', (env) => {
  it('never gives an address to two handles and leaves the datastore consistent', async () => {
    await putPool(env().ds, 'v4', { cidr: '10.0.0.0/24', blockSize: 28 });
    await putPool(env().ds, 'v6', { cidr: 'fd00::/120', blockSize: 124 });
    for (let h = 0; h < 6; h++) await putNode(env().ds, `n${h}`);
    const engines = [env().engine, env().newEngine(), env().newEngine()];
    const records = new IpamRecords(env().ds);

    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 4, maxLength: 12 }), { minLength: 3, maxLength: 5 }), async (waves) => {
        const live = new Map<string, Set<string>>(); // handle → addresses it was given and has not released
        let seq = 0;
        for (const wave of waves) {
          // snapshot the handles before the wave so releases pick from settled state
          const handles = [...live.keys()];
          await Promise.all(
            wave.map(async (op, i) => {
              const engine = engines[i % engines.length]!;
              if (op.kind === 'auto') {
                const handle = `h${seq++}`;
                live.set(handle, new Set());
                const r = await engine.autoAssign({ num4: op.n4, num6: op.n6, handleId: handle, hostname: `n${op.host}`, intendedUse: 'Workload', attributes: { node: `n${op.host}` } });
                for (const ip of [...r.ipv4.ips, ...r.ipv6.ips]) live.get(handle)!.add(ip.split('/')[0]!);
              } else if (op.kind === 'specific') {
                const handle = `s${seq++}`;
                const ip = `10.0.0.${op.ordinal}`;
                try {
                  await engine.assignIP({ ip, handleId: handle, hostname: `n${op.host}`, attributes: {} });
                  live.set(handle, new Set([ip]));
                } catch (err) {
                  expect((err as { code?: string }).code).toBe('already-assigned');
                }
              } else if (op.kind === 'releaseHandle' && handles.length > 0) {
                const handle = handles[op.pick % handles.length]!;
                if (!live.has(handle)) return;
                live.delete(handle);
                await engine.releaseByHandle(handle).catch((err: { code?: string }) => expect(err.code).toBe('not-found'));
              } else if (op.kind === 'releaseIps' && handles.length > 0) {
                const handle = handles[op.pick % handles.length]!;
                const ips = live.get(handle);
                if (!ips || ips.size === 0) return;
                const [first] = ips;
                ips.delete(first!);
                const r = await engine.releaseIPs([{ address: first!, handleId: handle }]);
                expect(r.errors).toEqual([]);
              } else if (op.kind === 'releaseAffinity') {
                await engine.releaseHostAffinities(`n${op.host}`, { mustBeEmpty: true }).catch((err: { code?: string }) => expect(err.code).toBe('block-not-empty'));
              }
            }),
          );
          await assertConsistent(env().engine, records, live);
        }
        // release everything: nothing may remain allocated
        await Promise.all([...live.keys()].map((h, i) => engines[i % engines.length]!.releaseByHandle(h).catch(() => undefined)));
        const util = await env().engine.getUtilization();
        expect(util.pools.reduce((s, p) => s + p.inUse, 0n)).toBe(0n);
        expect(await records.listHandles()).toEqual([]);
        await assertConsistent(env().engine, records, new Map());
      }),
      { numRuns: 6 },
    );
  });
});

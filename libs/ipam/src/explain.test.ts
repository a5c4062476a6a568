import { cidrContains, parseIp } from '@atoll/ipmath';
import { autoAssignAllOrNothing } from './all-or-nothing';
import { explainAutoAssign, type AssignmentExplanation } from './explain';
import { StoreResourceView } from './store-resource-view';
import { describeWithStores, putNode, putPool, putReservation, WORKLOAD } from './testing/fixtures';
import type { AutoAssignRequest } from './ipam';

const request = (extra: Partial<AutoAssignRequest> = {}): AutoAssignRequest => ({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h-explain', hostname: 'host-a', ...extra });
const verdicts = (e: AssignmentExplanation) =>
  Object.fromEntries(e.families.flatMap((f) => f.pools.map((p) => [p.pool.name, p.verdict.verdict === 'skipped' ? p.verdict.reason : p.verdict.verdict])));

describeWithStores('explaining an automatic assignment', (env) => {
  const explain = (req: AutoAssignRequest) => explainAutoAssign({ datastore: env().ds, resources: new StoreResourceView(env().ds) }, req);

  beforeEach(async () => {
    await putNode(env().ds, 'host-a', { rack: 'r1' });
    await putNode(env().ds, 'host-b', { rack: 'r2' });
  });

  it('says which pool and which kind of block, and writes nothing', async () => {
    await putPool(env().ds, 'a-main', { cidr: '10.1.0.0/24', blockSize: 26 });
    const before = await env().ds.list('/');
    const first = await explain(request());
    expect(first.error).toBeUndefined();
    expect(verdicts(first)).toEqual({ 'a-main': 'selected' });
    expect(first.families[0]!.addresses).toEqual([expect.objectContaining({ pool: 'a-main', blockChoice: 'new' })]);
    expect((await env().ds.list('/')).items).toEqual(before.items);

    await env().engine.autoAssign(request({ handleId: 'real' }));
    expect((await explain(request())).families[0]!.addresses[0]!.blockChoice).toBe('affine');
  });

  it('predicts borrowing from another node when strict affinity is off and no block is left', async () => {
    await putPool(env().ds, 'tiny', { cidr: '10.2.0.0/26', blockSize: 26 });
    await env().engine.autoAssign(request({ hostname: 'host-b', handleId: 'b' }));
    const e = await explain(request());
    expect(e.families[0]!.addresses).toEqual([expect.objectContaining({ pool: 'tiny', block: '10.2.0.0/26', blockChoice: 'borrowed' })]);
  });

  it('gives each skipped pool its reason', async () => {
    await putPool(env().ds, 'disabled', { cidr: '10.10.0.0/24', disabled: true });
    await putPool(env().ds, 'other-rack', { cidr: '10.11.0.0/24', nodeSelector: 'rack == "r2"' });
    await putPool(env().ds, 'other-ns', { cidr: '10.12.0.0/24', namespaceSelector: 'team == "blue"' });
    await putPool(env().ds, 'tunnels', { cidr: '10.13.0.0/24', allowedUses: ['Tunnel'] });
    await putPool(env().ds, 'manual', { cidr: '10.14.0.0/24', assignmentMode: 'Manual' });
    await putPool(env().ds, 'z-used', { cidr: '10.15.0.0/24' });
    const e = await explain(request({ namespaceLabels: { team: 'red' } }));
    expect(verdicts(e)).toEqual({
      disabled: 'disabled',
      'other-rack': 'node-selector',
      'other-ns': 'namespace-selector',
      tunnels: 'allowed-uses',
      manual: 'manual-assignment',
      'z-used': 'selected',
    });
    const detail = e.families[0]!.pools.find((p) => p.pool.name === 'other-rack')!.verdict;
    expect(detail).toMatchObject({ detail: 'nodeSelector "rack == \\"r2\\"" does not match node host-a' });
  });

  it('says a pool is full, at the block limit, or taken by reservations, and gives the exact error', async () => {
    await putPool(env().ds, 'a-full', { cidr: '10.20.0.0/30', blockSize: 30 });
    await putPool(env().ds, 'b-reserved', { cidr: '10.21.0.0/30', blockSize: 30 });
    await putReservation(env().ds, 'all-of-b', ['10.21.0.0/30']);
    for (let i = 0; i < 4; i++) await env().engine.assignIP({ ip: `10.20.0.${i}`, handleId: `f${i}`, hostname: 'host-b', attributes: {} });
    const e = await explain(request());
    expect(verdicts(e)).toEqual({ 'a-full': 'full', 'b-reserved': 'reservation' });
    const real = await autoAssignAllOrNothing(env().engine, request({ handleId: 'real' })).then(() => undefined, (err: Error) => err.message);
    expect(e.error?.message).toBe(real);
    expect(real).toMatch(/^failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \[/);
  });

  it('says the node reached its block limit', async () => {
    await putPool(env().ds, 'small-blocks', { cidr: '10.30.0.0/24', blockSize: 30 });
    await env().engine.setIPAMConfig({ ...(await env().engine.getIPAMConfig()), maxBlocksPerHost: 1, strictAffinity: true });
    for (let i = 0; i < 4; i++) await env().engine.autoAssign(request({ handleId: `x${i}` }));
    const e = await explain(request());
    expect(verdicts(e)).toEqual({ 'small-blocks': 'block-limit' });
    expect(e.error?.code).toBe('block-limit');
  });

  it('says pools are not considered when the request names others', async () => {
    await putPool(env().ds, 'a', { cidr: '10.40.0.0/24' });
    await putPool(env().ds, 'b', { cidr: '10.41.0.0/24' });
    expect(verdicts(await explain(request({ ipv4Pools: ['b'] })))).toEqual({ a: 'not-requested', b: 'selected' });
  });

  it('predicts the pool the real assignment then uses, for random pools, labels and requests', async () => {
    let seed = 15;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const racks = ['r1', 'r2'];
    const teams = ['red', 'blue'];
    const outcomes = { assigned: 0, refused: 0 };
    for (let round = 0; round < 12; round++) {
      const names: string[] = [];
      const pools = 1 + rand(4);
      for (let i = 0; i < pools; i++) {
        const name = `p${round}-${i}`;
        names.push(name);
        await putPool(env().ds, name, {
          cidr: `10.${100 + round}.${i * 4}.0/${rand(2) === 0 ? 30 : 28}`,
          blockSize: 30,
          ...(rand(5) === 0 && { disabled: true }),
          ...(rand(3) === 0 && { nodeSelector: `rack == "${racks[rand(2)]}"` }),
          ...(rand(3) === 0 && { namespaceSelector: `team == "${teams[rand(2)]}"` }),
          ...(rand(6) === 0 && { allowedUses: ['Tunnel'] }),
        });
      }
      const ns = { team: teams[rand(2)]! };
      const requested = rand(3) === 0 ? [names[rand(names.length)]!] : [];
      for (let pod = 0; pod < 4; pod++) {
        const host = rand(2) === 0 ? 'host-a' : 'host-b';
        const req = request({ hostname: host, handleId: `r${round}-${pod}`, namespaceLabels: ns, ipv4Pools: requested });
        const predicted = await explain(req);
        const actual = await autoAssignAllOrNothing(env().engine, req).then(
          (r) => ({ ip: r.ipv4.ips[0]!.split('/')[0]! }),
          (err: Error) => ({ error: err.message }),
        );
        if ('error' in actual) {
          expect(predicted.error?.message).toBe(actual.error);
          outcomes.refused++;
        } else {
          expect(predicted.error).toBeUndefined();
          const pool = predicted.families[0]!.addresses[0]!.pool;
          const selected = predicted.families[0]!.pools.filter((p) => p.verdict.verdict === 'selected').map((p) => p.pool.name);
          expect(selected).toEqual([pool]);
          const poolOfActual = (await new StoreResourceView(env().ds).context()).pools.find((p) => p.enabled && cidrContains(p.cidr, parseIp(actual.ip)));
          expect(poolOfActual?.name).toBe(pool);
          outcomes.assigned++;
        }
      }
      // the next round's pools must not be mixed with this one's
      for (const name of names) await putPool(env().ds, name, { cidr: `10.${100 + round}.${names.indexOf(name) * 4}.0/30`, disabled: true });
    }
    // both kinds of outcome were compared, not just one
    expect(outcomes.assigned).toBeGreaterThan(5);
    expect(outcomes.refused).toBeGreaterThan(5);
  }, 60_000);
});

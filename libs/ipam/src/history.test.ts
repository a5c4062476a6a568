import { blockKey, historyPrefix } from '@atoll/model';
import { cidrContains, parseCidr, parseIp } from '@atoll/ipmath';
import type { LeasingDatastore } from '@atoll/store';
import { blockChange, commitChanges, IpamRecords } from './io';
import { HANDOFF_CAUSE, historyCause, HistoryLog, holdingsOf, pruneHistory, queryHoldings, readHistory } from './history';
import { describeWithStores, putNode, putPool, WORKLOAD } from './testing/fixtures';

const POD = (name: string) => ({ namespace: 'default', pod: name, node: 'host-a' });

describeWithStores('allocation history', (env) => {
  const withHistory = (retentionSeconds = 3600) =>
    env().newEngine({ history: new HistoryLog({ leases: env().ds as LeasingDatastore, retentionSeconds }) });
  const events = async () => (await readHistory(env().ds)).map((e) => `${e.action} ${e.kind} ${e.ip} ${e.handleId ?? '-'} ${e.attributes['pod'] ?? '-'}`);

  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24', blockSize: 26 });
  });

  it('records an automatic assignment and its release by handle, with the pod attributes', async () => {
    const engine = withHistory();
    const a = await engine.autoAssign({ ...WORKLOAD, attributes: POD('web'), num4: 1, num6: 0, handleId: 'h1', hostname: 'host-a' });
    const ip = a.ipv4.ips[0]!.split('/')[0]!;
    await engine.releaseByHandle('h1');
    expect(await events()).toEqual([`assigned auto ${ip} h1 web`, `released release-handle ${ip} h1 web`]);
    const [assigned] = await readHistory(env().ds);
    expect(assigned!.attributes).toMatchObject({ namespace: 'default', pod: 'web', node: 'host-a' });
    expect(cidrContains(parseCidr(assigned!.block), parseIp(ip))).toBe(true);
    expect(parseCidr(assigned!.block).prefix).toBe(26);
    expect(new Date(assigned!.at).toISOString()).toBe(assigned!.at);
  });

  it('records a static assignment, a release by address and a leak release', async () => {
    const engine = withHistory();
    await engine.assignIP({ ip: '10.0.0.9', handleId: 's', hostname: 'host-a', attributes: POD('db') });
    await engine.releaseIPs([{ address: '10.0.0.9' }]);
    await engine.assignIP({ ip: '10.0.0.10', handleId: 'l', hostname: 'host-a', attributes: POD('gone') });
    await engine.releaseIPs([{ address: '10.0.0.10', handleId: 'l', historyKind: 'leak' }]);
    expect(await events()).toEqual([
      'assigned static 10.0.0.9 s db',
      'released release-ip 10.0.0.9 s db',
      'assigned static 10.0.0.10 l gone',
      'released leak 10.0.0.10 l gone',
    ]);
  });

  it('records a node tunnel address as a tunnel assignment', async () => {
    const engine = withHistory();
    const a = await engine.autoAssign({ intendedUse: 'Tunnel', attributes: { node: 'host-a', type: 'vxlanTunnelAddress' }, num4: 1, num6: 0, handleId: 'vxlan-tunnel-addr-host-a', hostname: 'host-a' });
    expect(await events()).toEqual([`assigned tunnel ${a.ipv4.ips[0]!.split('/')[0]} vxlan-tunnel-addr-host-a -`]);
  });

  it('records the addresses a deleted pool leaves with their holders', async () => {
    const engine = withHistory();
    await engine.assignIP({ ip: '10.0.0.5', handleId: 'k', hostname: 'host-a', attributes: POD('kept') });
    await engine.releasePoolAffinities('10.0.0.0/24');
    expect(await events()).toEqual(['assigned static 10.0.0.5 k kept', 'kept pool-deletion 10.0.0.5 k kept']);
    const [holding] = queryHoldings(holdingsOf(await readHistory(env().ds)), { ip: '10.0.0.5' });
    expect(holding!.until).toBeUndefined();
    expect(holding!.notes.map((n) => n.kind)).toEqual(['pool-deletion']);
  });

  it('records a hand-off as the old holder releasing and the new one assigned, in one transaction', async () => {
    const engine = withHistory();
    await engine.assignIP({ ip: '10.0.0.7', handleId: 'old', hostname: 'host-a', attributes: POD('old') });
    const records = new IpamRecords(engine['ds']);
    const block = (await records.getBlock(parseCidr('10.0.0.0/26')))!;
    const index = block.value.allocations[7]!;
    const attributes = block.value.attributes.map((a, i) => (i === index ? { handleId: 'new', secondary: POD('new') } : a));
    await commitChanges(engine['ds'], [blockChange(block, { ...block.value, attributes })], HANDOFF_CAUSE);
    const recorded = await readHistory(env().ds);
    expect(recorded.slice(1).map((e) => `${e.action} ${e.kind} ${e.handleId}`)).toEqual(['released handoff old', 'assigned handoff new']);
    expect(recorded[1]!.revision).toBe(recorded[2]!.revision);
  });

  it('writes no event for a transaction that did not commit', async () => {
    const engine = withHistory();
    await engine.assignIP({ ip: '10.0.0.9', handleId: 's', hostname: 'host-a', attributes: POD('db') });
    const block = (await new IpamRecords(env().ds).getBlock(parseCidr('10.0.0.0/26')))!;
    await engine.releaseIPs([{ address: '10.0.0.9' }]); // the block moves on
    const stale = blockChange(block, { ...block.value, allocations: block.value.allocations.map(() => null) });
    await expect(commitChanges(engine['ds'], [stale], historyCause('release-ip'))).rejects.toThrow();
    expect(await events()).toEqual(['assigned static 10.0.0.9 s db', 'released release-ip 10.0.0.9 s db']);
    expect(stale.key).toBe(blockKey(parseCidr('10.0.0.0/26')));
  });

  it('puts one record per transaction, however many addresses it assigns', async () => {
    const engine = withHistory();
    await engine.autoAssign({ ...WORKLOAD, attributes: POD('many'), num4: 70, num6: 0, handleId: 'm', hostname: 'host-a' });
    expect(await env().ds.listKeys(historyPrefix())).toHaveLength(1);
    expect(await events()).toHaveLength(70);
  });

  it('records nothing when history is off', async () => {
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(await readHistory(env().ds)).toEqual([]);
  });

  it('answers who held an address reused by three pods in a row, at any instant', async () => {
    let clock = Date.parse('2026-12-05T14:00:00Z');
    const engine = env().newEngine({
      history: new HistoryLog({ leases: env().ds as LeasingDatastore, retentionSeconds: 3600 * 24 * 365 * 10, now: () => new Date(clock) }),
    });
    for (const name of ['first', 'second', 'third']) {
      await engine.assignIP({ ip: '10.0.0.17', handleId: name, hostname: 'host-a', attributes: POD(name) });
      clock += 60_000;
      if (name !== 'third') await engine.releaseByHandle(name);
      clock += 60_000;
    }
    const holdings = holdingsOf(await readHistory(env().ds));
    const at = (t: string) => queryHoldings(holdings, { ip: '10.0.0.17', at: new Date(t) }).map((h) => h.attributes['pod']);
    expect(at('2026-12-05T13:59:59Z')).toEqual([]);
    expect(at('2026-12-05T14:00:30Z')).toEqual(['first']);
    expect(at('2026-12-05T14:01:30Z')).toEqual([]);
    expect(at('2026-12-05T14:02:00Z')).toEqual(['second']);
    expect(at('2026-12-05T14:04:10Z')).toEqual(['third']);
    expect(queryHoldings(holdings, { ip: '10.0.0.17', since: new Date('2026-12-05T14:01:00Z') }).map((h) => h.attributes['pod'])).toEqual(['first', 'second', 'third']);
    expect(queryHoldings(holdings, { pod: { namespace: 'default', name: 'second' } })).toHaveLength(1);
  });

  it('lets etcd expire events past the retention by itself', async () => {
    const engine = withHistory(1);
    await engine.assignIP({ ip: '10.0.0.9', handleId: 's', hostname: 'host-a', attributes: POD('db') });
    expect(await readHistory(env().ds)).toHaveLength(1);
    // retention 1 s + one bucket (1 s): the lease is gone by then
    await new Promise((r) => setTimeout(r, 3500));
    expect(await readHistory(env().ds)).toEqual([]);
    // and recording goes on with a new lease
    await engine.releaseIPs([{ address: '10.0.0.9' }]);
    expect(await events()).toEqual(['released release-ip 10.0.0.9 s db']);
  }, 15_000);

  it('keeps the newest records when pruned to a size bound', async () => {
    const engine = withHistory();
    for (let i = 1; i <= 5; i++) await engine.assignIP({ ip: `10.0.0.${i}`, handleId: `h${i}`, hostname: 'host-a', attributes: POD(`p${i}`) });
    expect(await pruneHistory(env().ds, 2)).toBe(3);
    expect((await readHistory(env().ds)).map((e) => e.ip)).toEqual(['10.0.0.4', '10.0.0.5']);
  });
});

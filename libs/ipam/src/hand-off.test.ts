import { parseCidr } from '@atoll/ipmath';
import type { Datastore } from '@atoll/store';
import { IpamRecords } from './io';
import { describeWithStores, putNode, putPool } from './testing/fixtures';

async function blockOf(ds: Datastore, cidr: string) {
  return (await new IpamRecords(ds).getBlock(parseCidr(cidr)))!;
}

describeWithStores('handOffIP', (env) => {
  const assign = (ip: string, handleId: string, attributes: Record<string, string> = { node: 'host-a' }) =>
    env().engine.assignIP({ ip, handleId, hostname: 'host-a', attributes });
  const handOff = (ip: string, fromHandleId: string, handleId: string, attributes: Record<string, string> = { node: 'host-a', pod: 'new' }) =>
    env().engine.handOffIP({ ip, fromHandleId, handleId, attributes });

  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'v4', { cidr: '192.168.1.0/24' });
  });

  it('moves the address to the new handle with its attributes, in one write that advances the block\'s sequence number', async () => {
    await assign('192.168.1.5', 'old', { node: 'host-a', pod: 'old' });
    const before = await blockOf(env().ds, '192.168.1.0/26');
    const { sequenceNumber: oldSeq } = await env().engine.getAssignmentAttributes('192.168.1.5');
    expect(await handOff('192.168.1.5', 'old', 'new')).toEqual({ address: '192.168.1.5', moved: true });
    const after = await blockOf(env().ds, '192.168.1.0/26');
    expect(after.value.sequenceNumber).toBe(before.value.sequenceNumber + 1n);
    const attrs = await env().engine.getAssignmentAttributes('192.168.1.5');
    expect(attrs).toMatchObject({ handleId: 'new', attributes: { node: 'host-a', pod: 'new' } });
    expect(attrs.sequenceNumber).not.toBe(oldSeq);
    expect(after.value.attributes).toEqual([{ handleId: 'new', secondary: { node: 'host-a', pod: 'new' } }]);
    const records = new IpamRecords(env().ds);
    expect(await records.getHandle('old')).toBeUndefined();
    expect((await records.getHandle('new'))!.value.block).toEqual({ '192.168.1.0/26': 1 });
    await expect(env().engine.ipsByHandle('old')).rejects.toMatchObject({ code: 'not-found' });
    expect(await env().engine.ipsByHandle('new')).toEqual(['192.168.1.5']);
  });

  it('leaves the old handle\'s other addresses with it and counts them', async () => {
    await assign('192.168.1.5', 'old');
    await assign('192.168.1.6', 'old');
    await handOff('192.168.1.5', 'old', 'new');
    expect(await env().engine.ipsByHandle('old')).toEqual(['192.168.1.6']);
    expect((await new IpamRecords(env().ds).getHandle('old'))!.value.block).toEqual({ '192.168.1.0/26': 1 });
  });

  it('refuses a release by the old handle\'s sequence number after the move', async () => {
    await assign('192.168.1.5', 'old');
    const { sequenceNumber } = await env().engine.getAssignmentAttributes('192.168.1.5');
    await handOff('192.168.1.5', 'old', 'new');
    const r = await env().engine.releaseIPs([{ address: '192.168.1.5', sequenceNumber }]);
    expect(r.errors.map((e) => e.error.code)).toEqual(['sequence-mismatch']);
    expect((await env().engine.getAssignmentAttributes('192.168.1.5')).handleId).toBe('new');
  });

  it('refuses when another handle holds the address now, and changes nothing', async () => {
    await assign('192.168.1.5', 'someone-else');
    const before = await blockOf(env().ds, '192.168.1.0/26');
    await expect(handOff('192.168.1.5', 'old', 'new')).rejects.toMatchObject({ code: 'conflict' });
    expect((await blockOf(env().ds, '192.168.1.0/26')).revision).toBe(before.revision);
    expect(await new IpamRecords(env().ds).getHandle('new')).toBeUndefined();
  });

  it('answers not-found for a free address', async () => {
    await expect(handOff('192.168.1.9', 'old', 'new')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('succeeds again when repeated after it landed', async () => {
    await assign('192.168.1.5', 'old');
    await handOff('192.168.1.5', 'old', 'new');
    const rev = (await blockOf(env().ds, '192.168.1.0/26')).revision;
    expect(await handOff('192.168.1.5', 'old', 'new')).toEqual({ address: '192.168.1.5', moved: false });
    expect((await blockOf(env().ds, '192.168.1.0/26')).revision).toBe(rev);
  });

  it('lets exactly one of two racing hand-offs of the same address win', async () => {
    await assign('192.168.1.5', 'old');
    const other = env().newEngine();
    const results = await Promise.allSettled([handOff('192.168.1.5', 'old', 'new-1'), other.handOffIP({ ip: '192.168.1.5', fromHandleId: 'old', handleId: 'new-2', attributes: {} })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['conflict']);
    const holder = (await env().engine.getAssignmentAttributes('192.168.1.5')).handleId!;
    const records = new IpamRecords(env().ds);
    const handles = (await records.listHandles()).map((h) => [h.handleId, h.value.block]);
    expect(handles).toEqual([[holder, { '192.168.1.0/26': 1 }]]);
  });
});

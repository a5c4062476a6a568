import { IpamRecords } from './io';
import { describeWithStores, putNode, putPool, WORKLOAD } from './testing/fixtures';

describeWithStores('releasing addresses', (env) => {
  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
  });

  it('reports addresses that were never allocated', async () => {
    const r = await env().engine.releaseIPs([{ address: '1.1.1.1' }, { address: '10.0.0.9' }]);
    expect([...r.unallocated].sort()).toEqual(['1.1.1.1', '10.0.0.9']);
    expect(r.errors).toEqual([]);
  });

  it('releases an assigned address and unallocates nothing', async () => {
    await env().engine.assignIP({ ip: '10.0.0.9', handleId: 'h', hostname: 'host-a', attributes: {} });
    const r = await env().engine.releaseIPs([{ address: '10.0.0.9' }]);
    expect(r.unallocated).toEqual([]);
    expect(r.released).toEqual([{ address: '10.0.0.9' }]);
    expect(await new IpamRecords(env().ds).getHandle('h')).toBeUndefined();
  });

  it('releases 66 addresses over two blocks', async () => {
    const a = await env().engine.autoAssign({ ...WORKLOAD, num4: 66, num6: 0, handleId: 'h', hostname: 'host-a' });
    const r = await env().engine.releaseIPs(a.ipv4.ips.map((x) => ({ address: x.split('/')[0]! })));
    expect(r.unallocated).toEqual([]);
    expect(r.released).toHaveLength(66);
    expect(await new IpamRecords(env().ds).getHandle('h')).toBeUndefined();
  });

  it('refuses a release with a stale sequence number or another handle, and accepts the right ones', async () => {
    await env().engine.assignIP({ ip: '10.0.0.9', handleId: 'h', hostname: 'host-a', attributes: {} });
    const { sequenceNumber } = await env().engine.getAssignmentAttributes('10.0.0.9');
    const stale = await env().engine.releaseIPs([{ address: '10.0.0.9', sequenceNumber: sequenceNumber + 1n }]);
    expect(stale.errors[0]?.error.message).toBe(
      `the given sequence number (${sequenceNumber + 1n}) does not match (${sequenceNumber}) when attempting to release IP`,
    );
    const other = await env().engine.releaseIPs([{ address: '10.0.0.9', handleId: 'fakehandle' }]);
    expect(other.errors[0]?.error.code).toBe('sequence-mismatch');
    expect((await env().engine.getAssignmentAttributes('10.0.0.9')).handleId).toBe('h');
    const ok = await env().engine.releaseIPs([{ address: '10.0.0.9', handleId: 'h', sequenceNumber }]);
    expect(ok.errors).toEqual([]);
    await expect(env().engine.getAssignmentAttributes('10.0.0.9')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('keeps an empty affine block and deletes an empty unaffine one', async () => {
    await env().engine.assignIP({ ip: '10.0.0.9', handleId: 'h', hostname: 'host-a', attributes: {} });
    await env().engine.releaseByHandle('h');
    expect(await new IpamRecords(env().ds).listBlocks()).toHaveLength(1);
    await env().engine.assignIP({ ip: '10.0.0.9', handleId: 'h', hostname: 'host-a', attributes: {} });
    await env().engine.releaseHostAffinities('host-a', { mustBeEmpty: false });
    expect((await new IpamRecords(env().ds).listBlocks())[0]?.value.affinity).toBeNull();
    await env().engine.releaseByHandle('h');
    expect(await new IpamRecords(env().ds).listBlocks()).toEqual([]);
  });

  it('finds a handle\'s addresses, and forgets them after releasing by handle', async () => {
    await expect(env().engine.ipsByHandle('h')).rejects.toMatchObject({ code: 'not-found' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(await env().engine.ipsByHandle('h')).toHaveLength(1);
    expect(await env().engine.releaseByHandle('h')).toHaveLength(1);
    await expect(env().engine.ipsByHandle('h')).rejects.toMatchObject({ code: 'not-found' });
    await expect(env().engine.releaseByHandle('h')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('releases 100 addresses spread over hosts, pools and families in one call', async () => {
    await putPool(env().ds, 'small', { cidr: '10.1.0.0/24', blockSize: 30 });
    await putPool(env().ds, 'v6', { cidr: 'fd00::/112' });
    await putPool(env().ds, 'off', { cidr: '10.2.0.0/24' });
    const all: string[] = [];
    for (let h = 0; h < 4; h++) {
      await putNode(env().ds, `n${h}`);
      const r4 = await env().engine.autoAssign({ ...WORKLOAD, num4: 15, num6: 10, handleId: `h${h}`, hostname: `n${h}`, ipv4Pools: ['10.1.0.0/24'], maxBlocksPerHost: 100 });
      all.push(...r4.ipv4.ips, ...r4.ipv6.ips);
    }
    expect(all).toHaveLength(100);
    const r = await env().engine.releaseIPs(all.map((x) => ({ address: x.split('/')[0]! })));
    expect(r.released).toHaveLength(100);
    expect(r.unallocated).toEqual([]);
    expect(await new IpamRecords(env().ds).listHandles()).toEqual([]);
  });

  it('holds released addresses back for the cooldown', async () => {
    let now = new Date('2026-08-01T10:00:00Z');
    const engine = env().newEngine({ now: () => now });
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/30', blockSize: 30 });
    await engine.setIPAMConfig({ ...(await engine.getIPAMConfig()), ipCooldownSeconds: 30 });
    const r = await engine.autoAssign({ ...WORKLOAD, num4: 4, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.ips).toHaveLength(4);
    await engine.releaseIPs([{ address: '10.0.0.2' }]);
    await expect(engine.getAssignmentAttributes('10.0.0.2')).rejects.toMatchObject({ code: 'in-cooldown', message: 'address 10.0.0.2 is in cooldown' });
    const during = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h2', hostname: 'host-a' });
    expect(during.ipv4.ips).toEqual([]);
    now = new Date(now.getTime() + 31_000);
    const after = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h3', hostname: 'host-a' });
    expect(after.ipv4.ips).toEqual(['10.0.0.2/30']);
  });

  it.each([[[]], [[{ address: '' }]], [[{ address: 'nope' }]]])('refuses the options %j', async (opts) => {
    await expect(env().engine.releaseIPs(opts)).rejects.toMatchObject({ code: expect.stringMatching(/invalid-argument/) });
  });
});

import { DEFAULT_IPAM_CONFIG } from '@atoll/model';
import { IpamRecords } from './io';
import { describeWithStores, putNode, putPool, deletePool, WORKLOAD } from './testing/fixtures';

describeWithStores('block affinities', (env) => {
  const records = () => new IpamRecords(env().ds);

  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24', blockSize: 30 });
  });

  it('refuses to release a non-empty block when it must be empty, then releases and deletes it once empty', async () => {
    await env().engine.assignIP({ ip: '10.0.0.1', handleId: 'h', hostname: 'host-a', attributes: {} });
    await expect(env().engine.releaseAffinity('10.0.0.0/30', 'host-a', { mustBeEmpty: true })).rejects.toMatchObject({
      code: 'block-not-empty',
      message: "block '10.0.0.0/30' is not empty",
    });
    expect(await records().listHostAffinities('host-a', 4)).toHaveLength(1);
    await env().engine.releaseByHandle('h');
    await env().engine.releaseAffinity('10.0.0.0/30', 'host-a', { mustBeEmpty: true });
    expect(await records().listHostAffinities('host-a', 4)).toEqual([]);
    expect(await records().listBlocks()).toEqual([]);
  });

  it('releases all of a host\'s affinities best effort, leaving the non-empty one when it must be empty', async () => {
    await env().engine.autoAssign({ ...WORKLOAD, num4: 12, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(await records().listBlocks()).toHaveLength(3);
    await env().engine.releaseByHandle('h');
    expect(await records().listBlocks()).toHaveLength(3);
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h2', hostname: 'host-a' });
    await expect(env().engine.releaseHostAffinities('host-a', { mustBeEmpty: true })).rejects.toMatchObject({ code: 'block-not-empty' });
    expect(await records().listBlocks()).toHaveLength(1);
    expect(await records().listHostAffinities('host-a', 4)).toHaveLength(1);
  });

  it('turns blocks unaffine when the pool is gone, and deletes them on the last release', async () => {
    await env().engine.autoAssign({ ...WORKLOAD, num4: 12, num6: 0, handleId: 'h', hostname: 'host-a' });
    await deletePool(env().ds, 'p');
    await env().engine.releaseHostAffinities('host-a', { mustBeEmpty: false });
    expect(await records().listHostAffinities('host-a', 4)).toEqual([]);
    const blocks = await records().listBlocks();
    expect(blocks.map((b) => b.value.affinity)).toEqual([null, null, null]);
    await env().engine.releaseByHandle('h');
    expect(await records().listBlocks()).toEqual([]);
  });

  it('clears a legacy affinity with an empty value through releasePoolAffinities', async () => {
    await env().engine.assignIP({ ip: '10.0.0.5', handleId: 'h', hostname: 'host-a', attributes: {} });
    await env().engine.releaseByHandle('h');
    const [aff] = await records().listHostAffinities('host-a', 4);
    await env().ds.commit({ preconditions: [], mutations: [{ op: 'put', key: aff!.key, value: '' }] });
    await env().engine.releasePoolAffinities('10.0.0.0/24');
    expect(await records().listAffinities()).toEqual([]);
    expect(await records().listBlocks()).toEqual([]);
  });

  it('claims the blocks of a CIDR and reports the ones another host holds', async () => {
    await putNode(env().ds, 'host-b');
    await env().engine.claimAffinity('10.0.0.4/30', 'host-b');
    const r = await env().engine.claimAffinity('10.0.0.0/29', 'host-a');
    expect(r).toEqual({ claimed: ['10.0.0.0/30'], failed: ['10.0.0.4/30'] });
    await expect(env().engine.claimAffinity('10.0.0.0/31', 'host-a')).rejects.toThrow('The requested CIDR (10.0.0.0/31) is smaller than the minimum.');
    await expect(env().engine.claimAffinity('11.0.0.0/24', 'host-a')).rejects.toThrow('The requested CIDR (11.0.0.0/24) is not within any configured pools.');
  });

  it('reclaims another host\'s empty block after a minute when nothing else is free', async () => {
    let now = new Date('2026-08-01T10:00:00Z');
    const engine = env().newEngine({ now: () => now });
    await putNode(env().ds, 'host-b');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/30', blockSize: 30 });
    await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'b', hostname: 'host-b' });
    await engine.releaseByHandle('b');
    await engine.setIPAMConfig({ ...DEFAULT_IPAM_CONFIG, strictAffinity: true });
    const early = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'a1', hostname: 'host-a' });
    expect(early.ipv4.ips).toEqual([]);
    now = new Date(now.getTime() + 61_000);
    const late = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'a2', hostname: 'host-a' });
    expect(late.ipv4.ips).toHaveLength(1);
    expect((await records().listBlocks())[0]?.value.affinity).toBe('host:host-a');
    expect(await records().listHostAffinities('host-b', 4)).toEqual([]);
  });

  it('finishes a claim that stopped after the pending affinity was written', async () => {
    const [aff] = [{ key: '/calico/ipam/v2/host/host-a/ipv4/block/10.0.0.0-30' }];
    await env().ds.commit({ preconditions: [], mutations: [{ op: 'put', key: aff.key, value: '{"state":"pending","deleted":false}' }] });
    const r = await env().engine.claimAffinity('10.0.0.0/30', 'host-a');
    expect(r.claimed).toEqual(['10.0.0.0/30']);
    expect((await records().listHostAffinities('host-a', 4)).map((a) => a.value.state)).toEqual(['confirmed']);
  });
});

describeWithStores('IPAM configuration', (env) => {
  it('returns the defaults without writing them', async () => {
    expect(await env().engine.getIPAMConfig()).toEqual(DEFAULT_IPAM_CONFIG);
    expect(await new IpamRecords(env().ds).getConfig()).toBeUndefined();
  });

  it('round-trips a config', async () => {
    const c = { ...DEFAULT_IPAM_CONFIG, autoAllocateBlocks: false, strictAffinity: true };
    await env().engine.setIPAMConfig(c);
    expect(await env().engine.getIPAMConfig()).toEqual(c);
  });

  it.each([
    [{ strictAffinity: false, autoAllocateBlocks: false }, "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time"],
    [{ maxBlocksPerHost: 2 }, 'MaxBlocksPerHost requires StrictAffinity to be enabled'],
    [{ strictAffinity: true, ipCooldownSeconds: 1201 }, 'ipCooldownSeconds must be an integer between 0 and 1200'],
  ])('refuses %o', async (change, message) => {
    await expect(env().engine.setIPAMConfig({ ...DEFAULT_IPAM_CONFIG, ...change })).rejects.toThrow(message);
    expect(await new IpamRecords(env().ds).getConfig()).toBeUndefined();
  });

  it('does not allocate new blocks when auto allocation is off', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
    await env().engine.setIPAMConfig({ ...DEFAULT_IPAM_CONFIG, autoAllocateBlocks: false, strictAffinity: true });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.error?.message).toBe('failed to find or claim a block');
  });

  it('limits blocks per host from the config', async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
    await env().engine.setIPAMConfig({ ...DEFAULT_IPAM_CONFIG, strictAffinity: true, maxBlocksPerHost: 2 });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 200, num6: 0, handleId: 'h', hostname: 'host-a', maxBlocksPerHost: 3 });
    expect(r.ipv4.ips).toHaveLength(128);
    expect(r.ipv4.error?.code).toBe('block-limit');
  });
});

import { IpamRecords } from './io';
import { describeWithStores, putNode, putPool, putReservation, deletePool, WORKLOAD } from './testing/fixtures';
import { parseCidr, cidrContains, parseIp } from '@atoll/ipmath';

const ip = (withMask: string) => withMask.split('/')[0]!;

describeWithStores('autoAssign', (env) => {
  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putNode(env().ds, 'host-b');
  });

  it('gives a host its second address from the same block and keeps one affinity', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
    const one = await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h1', hostname: 'host-a' });
    const two = await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h2', hostname: 'host-a' });
    expect(one.ipv4.ips).toHaveLength(1);
    expect(one.ipv4.ips[0]).toMatch(/\/26$/);
    const block = parseCidr(`${ip(one.ipv4.ips[0]!)}/26`);
    expect(cidrContains(block, parseIp(ip(two.ipv4.ips[0]!)))).toBe(true);
    expect(await new IpamRecords(env().ds).listHostAffinities('host-a', 4)).toHaveLength(1);
  });

  it('hands out addresses in order from the start of a fresh block', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 3, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.ips).toEqual(['10.0.0.0/26', '10.0.0.1/26', '10.0.0.2/26']);
  });

  it.each([
    [4, '192.168.1.0/24', undefined, 257, 256],
    [6, 'fd80:24e2:f998:72d6::/120', 122, 257, 256],
  ] as const)('assigns what an IPv%d pool holds and reports the rest as a message, not an error', async (v, cidr, blockSize, want, got) => {
    await putPool(env().ds, 'p', { cidr, ...(blockSize && { blockSize }) });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: v === 4 ? want : 0, num6: v === 6 ? want : 0, handleId: 'h', hostname: 'host-a' });
    const fam = v === 4 ? r.ipv4 : r.ipv6;
    expect(fam.ips).toHaveLength(got);
    expect(fam.error).toBeUndefined();
    expect(fam.msgs).toEqual([`No IPs available in pools: [${cidr}]`]);
    expect(new Set(fam.ips).size).toBe(got);
  });

  it.each([
    [1, 64],
    [2, 128],
  ])('stops at a per-request limit of %d blocks with ErrBlockLimit after %d addresses', async (limit, got) => {
    await putPool(env().ds, 'p', { cidr: '192.168.1.0/24' });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 256, num6: 0, handleId: 'h', hostname: 'host-a', maxBlocksPerHost: limit });
    expect(r.ipv4.ips).toHaveLength(got);
    expect(r.ipv4.error?.code).toBe('block-limit');
    expect(r.ipv4.error?.message).toBe('cannot allocate new block due to per host block limit');
    expect(r.ipv4.msgs).toEqual([`Need to allocate an IPAM block but could not - limit of ${limit} blocks reached for this node`]);
  });

  it('does not borrow under strict affinity and says why', async () => {
    await putPool(env().ds, 'p1', { cidr: '192.168.1.0/26' });
    await putPool(env().ds, 'p2', { cidr: '192.168.1.64/26' });
    await env().engine.setIPAMConfig({ ...(await env().engine.getIPAMConfig()), strictAffinity: true });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 256, num6: 0, handleId: 'h', hostname: 'host-a', ipv4Pools: ['192.168.1.0/26'] });
    expect(r.ipv4.ips).toHaveLength(64);
    expect(r.ipv4.error).toBeUndefined();
    expect(r.ipv4.msgs).toContain('No more free affine blocks and strict affinity enabled');
  });

  it('borrows from another host\'s block when strict affinity is off', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    const a = await env().engine.autoAssign({ ...WORKLOAD, num4: 10, num6: 0, handleId: 'ha', hostname: 'host-a' });
    const b = await env().engine.autoAssign({ ...WORKLOAD, num4: 10, num6: 0, handleId: 'hb', hostname: 'host-b' });
    expect(a.ipv4.ips).toHaveLength(10);
    expect(b.ipv4.ips).toHaveLength(10);
    expect(new Set([...a.ipv4.ips, ...b.ipv4.ips]).size).toBe(20);
    expect(await new IpamRecords(env().ds).listHostAffinities('host-b', 4)).toHaveLength(0);
  });

  it.each([
    ['/32 and /128 blocks', '10.0.0.0/24', 32, 'fd00::/120', 128, 1],
    ['/20 and /116 blocks', '10.0.0.0/16', 20, 'fd00::/108', 116, 1],
  ])('works with %s', async (_n, c4, b4, c6, b6, n) => {
    await putPool(env().ds, 'v4', { cidr: c4, blockSize: b4 });
    await putPool(env().ds, 'v6', { cidr: c6, blockSize: b6 });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: n, num6: n, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.ips).toHaveLength(n);
    expect(r.ipv6.ips).toHaveLength(n);
    expect(r.ipv4.ips[0]).toMatch(new RegExp(`/${b4}$`));
    expect(r.ipv6.ips[0]).toMatch(new RegExp(`/${b6}$`));
  });

  it('fills a /24 of /30 blocks with a per-request limit of 256', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24', blockSize: 30 });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 256, num6: 0, handleId: 'h', hostname: 'host-a', maxBlocksPerHost: 256 });
    expect(r.ipv4.ips).toHaveLength(256);
    expect(r.ipv4.error).toBeUndefined();
  });

  it('respects allowedUses', async () => {
    await putPool(env().ds, 'tunnels', { cidr: '10.0.0.0/24', allowedUses: ['Tunnel'] });
    await expect(env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'host-a' })).rejects.toMatchObject({
      code: 'no-qualified-pool',
      message: 'cannot find a qualified ippool, no pools match the required use (Workload)',
    });
    const t = await env().engine.autoAssign({ ...WORKLOAD, intendedUse: 'Tunnel', num4: 1, num6: 0, handleId: 't', hostname: 'host-a' });
    expect(t.ipv4.ips).toHaveLength(1);
    await putPool(env().ds, 'pods', { cidr: '10.1.0.0/24', allowedUses: ['Workload'] });
    const w = await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'w', hostname: 'host-a' });
    expect(w.ipv4.ips[0]).toMatch(/^10\.1\.0\./);
  });

  it('never hands out reserved addresses: 58 of 64 with six reserved', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await putReservation(env().ds, 'r', ['10.0.0.1/32', '10.0.0.32/30', '10.0.0.17', '11.0.0.0/30']);
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 64, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.ips).toHaveLength(58);
    const got = new Set(r.ipv4.ips.map(ip));
    for (const reserved of ['10.0.0.1', '10.0.0.32', '10.0.0.33', '10.0.0.34', '10.0.0.35', '10.0.0.17']) expect(got.has(reserved)).toBe(false);
  });

  it('assigns nothing and raises no error when the pool is full', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    const full = await env().engine.autoAssign({ ...WORKLOAD, num4: 64, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(full.ipv4.ips).toHaveLength(64);
    const rel = await env().engine.releaseIPs([{ address: '10.0.0.5' }, { address: '10.0.0.5' }]);
    expect(rel.errors).toEqual([]);
    expect(await env().engine.assignIP({ ip: '10.0.0.5', handleId: 'h2', hostname: 'host-a', attributes: {} })).toBe('10.0.0.5');
    const none = await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h3', hostname: 'host-a' });
    expect(none.ipv4.ips).toEqual([]);
    expect(none.ipv4.error).toBeUndefined();
  });

  it('moves to a new pool when the old one is deleted, without reusing the old affine block', async () => {
    await putPool(env().ds, 'old', { cidr: '10.0.0.0/24' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h1', hostname: 'host-a' });
    await deletePool(env().ds, 'old');
    await putPool(env().ds, 'new', { cidr: '20.0.0.0/24' });
    const a = await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h2', hostname: 'host-a' });
    const b = await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h3', hostname: 'host-b' });
    expect(a.ipv4.ips[0]).toMatch(/^20\.0\.0\./);
    expect(b.ipv4.ips[0]).toMatch(/^20\.0\.0\./);
  });

  it('uses only pools whose nodeSelector matches the node', async () => {
    await putNode(env().ds, 'host-a', { foo: 'bar' });
    await putPool(env().ds, 'pool1', { cidr: '10.0.0.0/24', nodeSelector: 'foo == "bar"' });
    await putPool(env().ds, 'pool2', { cidr: '20.0.0.0/24', nodeSelector: 'foo != "bar"' });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 300, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.ips).toHaveLength(256);
    expect(r.ipv4.ips.every((x) => x.startsWith('10.0.0.'))).toBe(true);
  });

  it('never uses a pool with nodeSelector !all() for automatic assignment', async () => {
    await putPool(env().ds, 'manual', { cidr: '10.9.0.0/24', nodeSelector: '!all()' });
    await expect(env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'host-a' })).rejects.toMatchObject({
      code: 'no-pools-for-node',
      message: 'no configured Calico pools for node host-a',
    });
    await putPool(env().ds, 'auto', { cidr: '10.8.0.0/24' });
    const r = await env().engine.autoAssign({ ...WORKLOAD, num4: 100, num6: 0, handleId: 'h', hostname: 'host-a' });
    expect(r.ipv4.ips.every((x) => x.startsWith('10.8.0.'))).toBe(true);
  });

  it('keeps both affinities when a tunnel address comes from a Tunnel-only pool', async () => {
    await putPool(env().ds, 'pool1', { cidr: '10.0.0.0/24' });
    await putPool(env().ds, 'pool2', { cidr: '10.1.0.0/24', allowedUses: ['Tunnel'] });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'w', hostname: 'host-a' });
    await env().engine.autoAssign({ ...WORKLOAD, intendedUse: 'Tunnel', num4: 1, num6: 0, handleId: 't', hostname: 'host-a', ipv4Pools: ['pool2'] });
    expect(await new IpamRecords(env().ds).listHostAffinities('host-a', 4)).toHaveLength(2);
  });

  it.each([
    [{ ipv4Pools: ['192.169.1.0/24'] }, 'the given pool (192.169.1.0/24) does not exist, or is not enabled'],
    [{ ipv4Pools: ['fd00::/120'] }, 'provided IPv4 IPPools list contains one or more IPv6 IPPools'],
    [{ ipv4Pools: ['no-such-pool'] }, 'error parsing pool "no-such-pool"'],
  ])('refuses requested pools %o', async (extra, message) => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
    await expect(env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'host-a', ...extra })).rejects.toThrow(message);
  });

  it('never uses a disabled pool', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24', disabled: true });
    await expect(env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'host-a' })).rejects.toThrow('cannot find a qualified ippool');
  });

  it('fails for a host without a Node resource', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
    await expect(env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'ghost' })).rejects.toMatchObject({ code: 'node-not-found' });
  });

  it('writes a handle that counts exactly the addresses it got', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/26' });
    await env().engine.autoAssign({ ...WORKLOAD, num4: 100, num6: 0, handleId: 'h', hostname: 'host-a' });
    const h = await new IpamRecords(env().ds).getHandle('h');
    expect(h?.value.block).toEqual({ '10.0.0.0/26': 64 });
  });

  it("serves a new host's first burst from one claimed block, not a block per request", async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/22' });
    await putNode(env().ds, 'host-new');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: `burst-${i}`, hostname: 'host-new' })),
    );
    const blocks = new Set(results.map((r) => r.ipv4.ips[0]!.replace(/\.\d+\/26$/, '')));
    expect(results.every((r) => r.ipv4.ips.length === 1)).toBe(true);
    expect(blocks.size).toBe(1);
    expect(await new IpamRecords(env().ds).listHostAffinities('host-new', 4)).toHaveLength(1);
  });

  it('serves concurrent requests of one host with distinct addresses and fewer transactions than requests', async () => {
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/22' });
    let commits = 0;
    const inner = env().ds;
    const counting = Object.create(inner) as typeof inner;
    counting.commit = (txn) => {
      commits++;
      return inner.commit(txn);
    };
    const engine = env().newEngine({ datastore: counting });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: `h${i}`, hostname: 'host-a' })),
    );
    const ips = results.flatMap((r) => r.ipv4.ips);
    expect(new Set(ips).size).toBe(40);
    expect(commits).toBeLessThan(40);
  });
});

import { IpamRecords } from './io';
import { describeWithStores, putNode, putPool, putReservation } from './testing/fixtures';

describeWithStores('assignIP', (env) => {
  const assign = (ip: string, handleId = 'h', hostname = 'host-a', extra = {}) =>
    env().engine.assignIP({ ip, handleId, hostname, attributes: { node: hostname }, ...extra });

  beforeEach(async () => {
    await putNode(env().ds, 'host-a');
    await putPool(env().ds, 'v4', { cidr: '192.168.1.0/24' });
    await putPool(env().ds, 'v6', { cidr: 'fd00::/120' });
  });

  it('assigns the first address of a pool and an IPv6 address', async () => {
    expect(await assign('192.168.1.0')).toBe('192.168.1.0');
    expect(await assign('fd00::7', 'h6')).toBe('fd00::7');
  });

  it('refuses an address outside every pool with Calico\'s message and allocates nothing', async () => {
    await expect(assign('1.1.1.1')).rejects.toMatchObject({
      code: 'not-in-pool',
      message: 'The provided IP address is not in a configured pool\n',
    });
    expect(await new IpamRecords(env().ds).listBlocks()).toEqual([]);
    expect(await new IpamRecords(env().ds).listHandles()).toEqual([]);
  });

  it('refuses an address already in use and keeps the first owner', async () => {
    await assign('192.168.1.0', 'first');
    await expect(assign('192.168.1.0', 'second')).rejects.toMatchObject({
      code: 'already-assigned',
      message: 'resource already exists: 192.168.1.0 with error: Address already assigned in block',
    });
    expect((await env().engine.getAssignmentAttributes('192.168.1.0')).handleId).toBe('first');
    expect(await new IpamRecords(env().ds).getHandle('second')).toBeUndefined();
  });

  it('claims the address\'s block for the requesting host', async () => {
    await assign('192.168.1.70');
    const aff = await new IpamRecords(env().ds).listHostAffinities('host-a', 4);
    expect(aff.map((a) => a.value.state)).toEqual(['confirmed']);
    const block = await new IpamRecords(env().ds).listBlocks(4);
    expect(block.map((b) => [b.cidrText, b.value.affinity])).toEqual([['192.168.1.64/26', 'host:host-a']]);
  });

  it('ignores nodeSelector !all() and reservations', async () => {
    await putPool(env().ds, 'manual', { cidr: '10.9.0.0/24', nodeSelector: '!all()' });
    await putReservation(env().ds, 'r', ['10.9.0.0/24']);
    expect(await assign('10.9.0.9')).toBe('10.9.0.9');
  });

  it('refuses an address in a disabled pool', async () => {
    await putPool(env().ds, 'off', { cidr: '10.7.0.0/24', disabled: true });
    await expect(assign('10.7.0.1')).rejects.toMatchObject({ code: 'not-in-pool' });
  });

  it('enforces allowedUses: a Tunnel address from a Workload-only pool is refused', async () => {
    await putPool(env().ds, 'pods', { cidr: '10.5.0.0/24', allowedUses: ['Workload'] });
    await expect(assign('10.5.0.1', 't', 'host-a', { intendedUse: 'Tunnel' })).rejects.toThrow(
      'IP address 10.5.0.1 is in IP pool "pods", which is not allowed for use "Tunnel" (allowedUses: [Workload])',
    );
    expect(await assign('10.5.0.1', 'w', 'host-a', { intendedUse: 'Workload' })).toBe('10.5.0.1');
    expect(await assign('192.168.1.9', 't2', 'host-a', { intendedUse: 'Tunnel' })).toBe('192.168.1.9');
  });

  it.each([['999.1.1.1'], ['10.0.0.1/32'], [' 10.0.0.1'], ['fe80::1%eth0']])('refuses the malformed address %j', async (bad) => {
    await expect(assign(bad)).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('uses another host\'s block under loose affinity, and refuses it under strict affinity', async () => {
    await putNode(env().ds, 'host-b');
    await assign('192.168.1.1', 'a', 'host-a');
    expect(await assign('192.168.1.2', 'b', 'host-b')).toBe('192.168.1.2');
    await env().engine.setIPAMConfig({ ...(await env().engine.getIPAMConfig()), strictAffinity: true });
    await expect(assign('192.168.1.3', 'c', 'host-b')).rejects.toMatchObject({ code: 'affinity-mismatch', message: 'Block host affinity does not match' });
  });

  it.each([
    ['a handle of 513 characters', { handleId: 'h'.repeat(513) }, 'handleId must be at most 512 characters'],
    ['an attribute value of 2000 characters', { attributes: { note: 'x'.repeat(2000) } }, 'attributes: value of "note" is longer than 1024 characters'],
    ['33 attributes', { attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, 'attributes: at most 32 entries'],
  ])('refuses %s before writing anything (blocks must stay within etcd\'s request limit)', async (_what, extra, message) => {
    await expect(env().engine.assignIP({ ip: '192.168.1.9', handleId: 'h', hostname: 'host-a', attributes: {}, ...extra })).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining(message) });
    expect(await new IpamRecords(env().ds).listBlocks()).toEqual([]);
  });
});


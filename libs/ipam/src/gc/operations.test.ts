import { IpamRecords } from '../io';
import { describeWithStores, putNode, putPool, WORKLOAD } from '../testing/fixtures';
import { IpamGcOperations } from './operations';

describeWithStores('the garbage collector\'s operations', (env) => {
  let clock: Date;
  const now = () => clock;
  beforeEach(async () => {
    clock = new Date('2026-08-01T10:00:00Z');
    await putNode(env().ds, 'n1');
    await putPool(env().ds, 'p', { cidr: '10.0.0.0/24' });
  });
  const ops = () => new IpamGcOperations({ datastore: env().ds, now });

  it('scans allocations and blocks from one listing, without addresses in cooldown', async () => {
    const engine = env().newEngine({ now });
    await engine.updateIPAMConfig({ ipCooldownSeconds: 30 });
    await engine.assignIP({ ip: '10.0.0.1', handleId: 'h1', hostname: 'n1', attributes: { node: 'n1', namespace: 'ns', pod: 'p1' } });
    await engine.assignIP({ ip: '10.0.0.2', handleId: 'h2', hostname: 'n1', attributes: { node: 'n1' } });
    await engine.releaseByHandle('h2');
    const scan = await ops().scan();
    expect(scan.allocations).toEqual([
      { address: '10.0.0.1', block: '10.0.0.0/26', handleId: 'h1', attributes: { node: 'n1', namespace: 'ns', pod: 'p1' }, sequenceNumber: expect.any(BigInt), blockAffinity: 'host:n1' },
    ]);
    expect(scan.allocations[0]!.sequenceNumber).toBe((await engine.getAssignmentAttributes('10.0.0.1')).sequenceNumber);
    expect(scan.blocks).toEqual([{ cidr: '10.0.0.0/26', affinity: 'host:n1', empty: false, sequenceNumber: expect.any(BigInt) }]);
  });

  it('frees cooled-down addresses only once their cooldown has passed, in blocks nobody else writes', async () => {
    const engine = env().newEngine({ now });
    await engine.updateIPAMConfig({ ipCooldownSeconds: 30 });
    await engine.assignIP({ ip: '10.0.0.1', handleId: 'h', hostname: 'n1', attributes: {} });
    await engine.releaseByHandle('h');
    const before = (await new IpamRecords(env().ds).listBlocks())[0]!;
    clock = new Date(clock.getTime() + 10_000);
    await expect(ops().freeCooledDownAddresses()).resolves.toEqual({ blocks: 0, addresses: 0 });
    expect((await ops().scan()).blocks[0]!.empty).toBe(false);
    clock = new Date(clock.getTime() + 21_000);
    await expect(ops().freeCooledDownAddresses()).resolves.toEqual({ blocks: 1, addresses: 1 });
    const after = (await new IpamRecords(env().ds).listBlocks())[0]!;
    expect(after.value.sequenceNumber).toBe(before.value.sequenceNumber + 1n);
    expect(after.value.unallocated.at(-1)).toBe(1);
    expect((await ops().scan()).blocks[0]!.empty).toBe(true);
    await expect(ops().freeCooledDownAddresses()).resolves.toEqual({ blocks: 0, addresses: 0 });
  });

  it('deletes an unaffine block whose last cooled-down address it frees', async () => {
    const engine = env().newEngine({ now });
    await engine.updateIPAMConfig({ ipCooldownSeconds: 30 });
    await engine.assignIP({ ip: '10.0.0.1', handleId: 'h', hostname: 'n1', attributes: {} });
    await engine.releaseHostAffinities('n1', { mustBeEmpty: false });
    await engine.releaseByHandle('h');
    expect(await new IpamRecords(env().ds).listBlocks()).toHaveLength(1);
    clock = new Date(clock.getTime() + 31_000);
    await ops().freeCooledDownAddresses();
    expect(await new IpamRecords(env().ds).listBlocks()).toEqual([]);
  });

  it('releases an empty block only if it was not written since it was seen, and only while empty', async () => {
    const engine = env().newEngine({ now });
    await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'h', hostname: 'n1' });
    const seen = (await ops().scan()).blocks[0]!;
    await expect(ops().releaseEmptyBlock({ cidr: seen.cidr, node: 'n1', sequenceNumber: seen.sequenceNumber })).rejects.toMatchObject({ code: 'block-not-empty' });
    await engine.releaseByHandle('h');
    await expect(ops().releaseEmptyBlock({ cidr: seen.cidr, node: 'n1', sequenceNumber: seen.sequenceNumber })).rejects.toMatchObject({ code: 'sequence-mismatch' });
    const current = (await ops().scan()).blocks[0]!;
    await expect(ops().releaseEmptyBlock({ cidr: current.cidr, node: 'n1', sequenceNumber: current.sequenceNumber })).resolves.toBe('released');
    expect(await new IpamRecords(env().ds).listBlocks()).toEqual([]);
    expect(await new IpamRecords(env().ds).listAffinities()).toEqual([]);
  });
});

import { cidrContains, parseCidr, parseIp } from '@atoll/ipmath';
import { resourceKey } from '@atoll/model';
import { IpamRecords } from '../io';
import { describeWithStores, WORKLOAD } from '../testing/fixtures';
import { ipv4Pool, makeRepository, node } from './resource-test-fixtures';
import type { ResourceRepositoryOptions } from './resource-repository';

describeWithStores('IPPool resources', (env) => {
  const repo = (opts: Partial<ResourceRepositoryOptions> = {}) => makeRepository(env(), opts);
  const records = () => new IpamRecords(env().ds);
  const assign = (handleId: string, num4 = 1) =>
    env().engine.autoAssign({ ...WORKLOAD, num4, num6: 0, handleId, hostname: 'host-a' });
  const poolKey = (name: string) => resourceKey('ippools', name);

  beforeEach(async () => {
    await repo().create(node('host-a'));
  });

  describe('create', () => {
    it.each([
      ['inside it', '192.168.1.0/24'],
      ['around it', '192.0.0.0/8'],
      ['written non-canonically over it', '192.168.0.0/17'],
    ])('refuses a pool overlapping another (%s) with Calico\'s message, storing nothing', async (_how, cidr) => {
      await repo().create(ipv4Pool());
      for (const write of [(r: unknown) => repo().create(r), (r: unknown) => repo().apply(r)]) {
        await expect(write(ipv4Pool('new-pool', { cidr }))).rejects.toMatchObject({
          code: 'invalid-argument',
          message: 'IPPool "new-pool": spec.cidr: IPPool(new-pool) CIDR overlaps with IPPool(default-ipv4-ippool) CIDR 192.168.0.0/16',
        });
      }
      expect(await env().ds.get(poolKey('new-pool'))).toBeUndefined();
    });

    it('names every pool the new one overlaps', async () => {
      await repo().create(ipv4Pool('pool-a', { cidr: '10.0.0.0/24' }));
      await repo().create(ipv4Pool('pool-b', { cidr: '10.0.1.0/24' }));
      await expect(repo().create(ipv4Pool('wide', { cidr: '10.0.0.0/16' }))).rejects.toMatchObject({
        message:
          'IPPool "wide": spec.cidr: IPPool(wide) CIDR overlaps with IPPool(pool-a) CIDR 10.0.0.0/24; ' +
          'IPPool "wide": spec.cidr: IPPool(wide) CIDR overlaps with IPPool(pool-b) CIDR 10.0.1.0/24',
      });
    });

    it('accepts pools side by side, and an IPv6 pool next to IPv4 ones', async () => {
      await repo().create(ipv4Pool('pool-a', { cidr: '10.0.0.0/24' }));
      await repo().create(ipv4Pool('pool-b', { cidr: '10.0.1.0/24' }));
      await repo().create(ipv4Pool('default-ipv6-ippool', { cidr: 'fd00::/48', ipipMode: 'Never' }));
      expect((await repo().list('IPPool')).map((p) => p.metadata.name)).toEqual(['default-ipv6-ippool', 'pool-a', 'pool-b']);
    });

    it('refuses a blockSize that differs from blocks already carved in its range, and accepts the same size', async () => {
      await repo().create(ipv4Pool('old-pool', { cidr: '10.0.0.0/24', blockSize: 26 }));
      expect((await assign('pod-1')).ipv4.ips).toHaveLength(1);
      await repo().delete('IPPool', 'old-pool');
      expect(await records().listBlocks()).toHaveLength(1);

      await expect(repo().create(ipv4Pool('new-pool', { cidr: '10.0.0.0/16', blockSize: 28 }))).rejects.toMatchObject({
        code: 'invalid-argument',
        message:
          'IPPool "new-pool": spec.blockSize: IPPool blocksSize conflicts with existing allocations that use a different blockSize, got 28',
      });
      expect(await env().ds.get(poolKey('new-pool'))).toBeUndefined();
      await repo().create(ipv4Pool('elsewhere', { cidr: '10.1.0.0/16', blockSize: 28 }));
      await repo().create(ipv4Pool('new-pool', { cidr: '10.0.0.0/16', blockSize: 26 }));
    });
  });

  describe('update', () => {
    it.each([
      ['the CIDR', { cidr: '10.1.0.0/16' }, 'IPPool "pool-1": spec.cidr: IPPool CIDR cannot be modified, got "10.1.0.0/16"'],
      ['the blockSize', { blockSize: 28 }, 'IPPool "pool-1": spec.blockSize: IPPool BlockSize cannot be modified, got 28'],
      [
        'both',
        { cidr: '10.1.0.0/16', blockSize: 24 },
        'IPPool "pool-1": spec.cidr: IPPool CIDR cannot be modified, got "10.1.0.0/16"; ' +
          'IPPool "pool-1": spec.blockSize: IPPool BlockSize cannot be modified, got 24',
      ],
    ])('refuses to change %s, with Calico\'s message', async (_what, change, message) => {
      const created = await repo().create(ipv4Pool('pool-1', { cidr: '10.0.0.0/16' }));
      await expect(repo().apply(ipv4Pool('pool-1', { cidr: '10.0.0.0/16', ...change }))).rejects.toMatchObject({
        code: 'invalid-argument',
        message,
      });
      expect(await repo().get('IPPool', 'pool-1')).toEqual(created);
    });

    it('accepts the same CIDR written another way, and the default blockSize written out', async () => {
      await repo().create(ipv4Pool('v6', { cidr: 'fd00:0:0:0::/48', ipipMode: 'Never' }));
      const updated = await repo().apply(ipv4Pool('v6', { cidr: 'fd00::/48', blockSize: 122, ipipMode: 'Never', natOutgoing: false }));
      expect(updated.spec).toMatchObject({ cidr: 'fd00::/48', blockSize: 122, natOutgoing: false });
    });

    it('changes the node selector, disabled flag and encapsulation of a pool in place', async () => {
      await repo().create(ipv4Pool());
      const updated = await repo().apply(
        ipv4Pool('default-ipv4-ippool', { ipipMode: 'Never', vxlanMode: 'CrossSubnet', nodeSelector: '!all()', disabled: true }),
      );
      expect(updated.spec).toMatchObject({ ipipMode: 'Never', vxlanMode: 'CrossSubnet', nodeSelector: '!all()', disabled: true });
    });
  });

  describe('delete', () => {
    it('releases the pool\'s affinities: empty blocks go, a block still in use stays unaffine, its address intact', async () => {
      await repo().create(ipv4Pool('pool-1', { cidr: '10.0.0.0/24', blockSize: 26 }));
      const [address] = (await assign('pod-1')).ipv4.ips;
      const [used] = (await records().listBlocks()).map((b) => b.cidrText);
      const empty = ['10.0.0.0/26', '10.0.0.64/26'].find((cidr) => cidr !== used)!;
      await env().engine.claimAffinity(empty, 'host-a');
      expect(await records().listAffinities()).toHaveLength(2);

      const deleted = await repo().delete('IPPool', 'pool-1');

      expect(deleted.spec).toMatchObject({ cidr: '10.0.0.0/24', disabled: true });
      expect(await env().ds.get(poolKey('pool-1'))).toBeUndefined();
      expect(await records().listAffinities()).toEqual([]);
      const blocks = await records().listBlocks();
      expect(blocks.map((b) => [b.cidrText, b.value.affinity])).toEqual([[used, null]]);
      expect(await env().engine.ipsByHandle('pod-1')).toEqual([address!.split('/')[0]]);

      await env().engine.releaseByHandle('pod-1');
      expect(await records().listBlocks()).toEqual([]);
    });

    it('leaves the engine never assigning from the deleted pool again', async () => {
      await repo().create(ipv4Pool('pool-1', { cidr: '10.0.0.0/24', blockSize: 26 }));
      await repo().create(ipv4Pool('pool-2', { cidr: '10.9.0.0/24', blockSize: 26 }));
      await assign('pod-1', 3);
      await repo().delete('IPPool', 'pool-1');

      const after = await assign('pod-2', 70);
      const deletedRange = parseCidr('10.0.0.0/24');
      expect(after.ipv4.ips.length).toBeGreaterThan(0);
      for (const ip of after.ipv4.ips) expect(cidrContains(deletedRange, parseIp(ip.split('/')[0]!))).toBe(false);
      await expect(
        env().engine.assignIP({ ip: '10.0.0.200', handleId: 'static', hostname: 'host-a', attributes: {} }),
      ).rejects.toMatchObject({ code: 'not-in-pool' });
    });

    it('disables the pool and waits the grace period before releasing affinities', async () => {
      await repo().create(ipv4Pool('pool-1', { cidr: '10.0.0.0/24' }));
      let seen: { disabled: unknown; waitedMs: number } | undefined;
      const started = Date.now();
      const watching = repo({
        poolDeleteGraceMs: 60,
        engine: {
          setIPAMConfig: (c) => env().engine.setIPAMConfig(c),
          releasePoolAffinities: async (cidr) => {
            const pool = await repo().get('IPPool', 'pool-1');
            seen = { disabled: (pool.spec as { disabled?: boolean }).disabled, waitedMs: Date.now() - started };
            await env().engine.releasePoolAffinities(cidr);
          },
        },
      });
      await watching.delete('IPPool', 'pool-1');
      expect(seen?.disabled).toBe(true);
      expect(seen?.waitedMs).toBeGreaterThanOrEqual(55);
    });

    it('does not delete a pool enabled again while it was being deleted', async () => {
      await repo().create(ipv4Pool('pool-1', { cidr: '10.0.0.0/24' }));
      const racing = repo({
        engine: {
          setIPAMConfig: (c) => env().engine.setIPAMConfig(c),
          releasePoolAffinities: async (cidr) => {
            await repo().apply(ipv4Pool('pool-1', { cidr: '10.0.0.0/24', disabled: false }));
            await env().engine.releasePoolAffinities(cidr);
          },
        },
      });
      await expect(racing.delete('IPPool', 'pool-1')).rejects.toMatchObject({
        code: 'conflict',
        message: 'update conflict: IPPool(pool-1)',
      });
      expect((await repo().get('IPPool', 'pool-1')).spec).toMatchObject({ disabled: false });
    });

    it('deletes a pool that was already disabled', async () => {
      await repo().create(ipv4Pool('pool-1', { cidr: '10.0.0.0/24', disabled: true }));
      const deleted = await repo().delete('IPPool', 'pool-1');
      expect(deleted.spec).toMatchObject({ disabled: true });
      expect(await repo().list('IPPool')).toEqual([]);
    });

    it('is not-found for a pool that does not exist, touching nothing', async () => {
      await expect(repo().delete('IPPool', 'nope')).rejects.toMatchObject({
        code: 'not-found',
        message: 'resource does not exist: IPPool(nope)',
      });
    });
  });

  it('gives the engine the nodeSelector to go by: a "!all()" pool serves only static requests', async () => {
    await repo().create(ipv4Pool('auto', { cidr: '10.0.0.0/24' }));
    await repo().create(ipv4Pool('manual', { cidr: '10.0.1.0/24', nodeSelector: '!all()' }));
    const { ipv4 } = await assign('pod-1', 5);
    for (const ip of ipv4.ips) expect(ip.startsWith('10.0.0.')).toBe(true);
    expect(await env().engine.assignIP({ ip: '10.0.1.7', handleId: 'static', hostname: 'host-a', attributes: {} })).toBeDefined();
  });
});

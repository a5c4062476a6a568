import { ipamConfigKey, resourceKey } from '@atoll/model';
import { InterceptingDatastore } from '@atoll/store/testing';
import { describeWithStores } from '../testing/fixtures';
import { ipamConfiguration, ipv4Pool, makeRepository, node, reservation } from './resource-test-fixtures';

// Every write reports its key and revision to `whenWritten` and waits for it before
// returning: that is how the allocator gives a client read-your-writes.

type Written = { key: string; revision: bigint | undefined };

const STORED_KINDS = [
  ['IPReservation', reservation('r'), reservation('r', ['10.0.0.1']), resourceKey('ipreservations', 'r')],
  ['Node', node('n'), node('n', { zone: 'a' }), resourceKey('nodes', 'n')],
  ['IPPool', ipv4Pool('p'), ipv4Pool('p', { natOutgoing: false }), resourceKey('ippools', 'p')],
] as const;

describeWithStores('resource repository, whenWritten', (env) => {
  let written: Written[];
  const repo = (datastore = env().ds) =>
    makeRepository(env(), {
      datastore,
      whenWritten: async (key, revision) => {
        written.push({ key, revision });
      },
    });
  const revisionOf = async (key: string) => (await env().ds.get(key))?.revision;
  const storeRevision = async () => (await env().ds.list('/nothing-here/')).revision;

  beforeEach(() => {
    written = [];
  });

  describe.each(STORED_KINDS)('%s', (kind, resource, changed, key) => {
    it('reports a create, an apply and an apply that changes nothing with the revision they return', async () => {
      const created = await repo().create(resource);
      const updated = await repo().apply(changed);
      const unchanged = await repo().apply(changed);
      const versions = [created, updated, unchanged].map((r) => BigInt(r.metadata.resourceVersion!));
      expect(written).toEqual(versions.map((revision) => ({ key, revision })));
      expect(versions[2]).toBe(await revisionOf(key));
    });

    it('reports a delete with the revision of the delete, not of what was deleted', async () => {
      const created = await repo().create(resource);
      written = [];
      await repo().delete(kind, resource.metadata.name);
      const last = written[written.length - 1]!;
      expect(last.key).toBe(key);
      expect(last.revision).toBeGreaterThan(BigInt(created.metadata.resourceVersion!));
      expect(last.revision).toBe(await storeRevision());
    });
  });

  it('reports a pool disabled before its grace period, then deleted', async () => {
    const created = await repo().create(ipv4Pool('p'));
    written = [];
    await repo().delete('IPPool', 'p');
    const key = resourceKey('ippools', 'p');
    expect(written.map((w) => w.key)).toEqual([key, key]);
    const [disabled, deleted] = written.map((w) => w.revision!);
    expect(disabled).toBeGreaterThan(BigInt(created.metadata.resourceVersion!));
    expect(deleted).toBeGreaterThan(disabled!);
  });

  it('reports IPAMConfiguration writes under the IPAM config key, and nothing while nothing is stored', async () => {
    await repo().delete('IPAMConfiguration', 'default'); // nothing stored: nothing written
    expect(written).toEqual([]);
    const created = await repo().create(ipamConfiguration({ strictAffinity: true }));
    const applied = await repo().apply(ipamConfiguration({ strictAffinity: true, maxBlocksPerHost: 4 }));
    await repo().delete('IPAMConfiguration', 'default');
    expect(written).toEqual([
      { key: ipamConfigKey(), revision: BigInt(created.metadata.resourceVersion!) },
      { key: ipamConfigKey(), revision: BigInt(applied.metadata.resourceVersion!) },
      { key: ipamConfigKey(), revision: await revisionOf(ipamConfigKey()) },
    ]);
    expect(written[2]!.revision).toBeGreaterThan(written[1]!.revision!);
  });

  it('reports a delete whose answer was lost without a revision, since the gone key cannot tell it', async () => {
    const ds = new InterceptingDatastore(env().ds);
    await repo().create(node('n'));
    written = [];
    ds.failNextCommits(1, 'after-apply');
    await repo(ds).delete('Node', 'n');
    expect(written).toEqual([{ key: resourceKey('nodes', 'n'), revision: undefined }]);
  });

  it('returns from a write only once whenWritten has resolved', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let called: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (called = resolve));
    const waiting = makeRepository(env(), {
      whenWritten: () => {
        called();
        return held;
      },
    });
    let returned = false;
    const applying = waiting.apply(node('n')).then(() => (returned = true));
    await reached;
    await new Promise((r) => setImmediate(r));
    expect(await env().ds.get(resourceKey('nodes', 'n'))).toBeDefined();
    expect(returned).toBe(false);
    release();
    await applying;
    expect(returned).toBe(true);
  });
});

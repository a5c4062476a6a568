import { DEFAULT_IPAM_CONFIG, ipamConfigKey, resourceKey } from '@atoll/model';
import { describeWithStores } from '../testing/fixtures';
import { ipamConfiguration, makeRepository } from './resource-test-fixtures';

const DEFAULT_SPEC = {
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
  kubeVirtVMAddressPersistence: 'Enabled',
  ipCooldownSeconds: 0,
};

describeWithStores('IPAMConfiguration resources', (env) => {
  const repo = () => makeRepository(env());
  const storedConfig = async () => (await env().ds.get(ipamConfigKey()))?.value;

  it('shows Calico\'s defaults, without a resourceVersion, while nothing is stored', async () => {
    const expected = { apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: DEFAULT_SPEC };
    expect(await repo().get('IPAMConfiguration', 'default')).toEqual(expected);
    expect(await repo().list('IPAMConfiguration')).toEqual([expected]);
  });

  it('applies to the IPAM library\'s /calico/ipam/v2/config record, which the engine reads, and gets it back', async () => {
    const applied = await repo().apply(ipamConfiguration({ strictAffinity: true, maxBlocksPerHost: 4, ipCooldownSeconds: 30 }));
    const spec = { ...DEFAULT_SPEC, strictAffinity: true, maxBlocksPerHost: 4, ipCooldownSeconds: 30 };
    expect(applied).toMatchObject({ kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec });
    expect(await storedConfig()).toBe(
      '{"strict_affinity":true,"auto_allocate_blocks":true,"maxBlocksPerHost":4,"kubeVirtVMAddressPersistence":"Enabled","ipCooldownSeconds":30}',
    );
    expect(applied.metadata.resourceVersion).toBe((await env().ds.get(ipamConfigKey()))?.revision.toString());
    expect(await env().engine.getIPAMConfig()).toEqual({ ...DEFAULT_IPAM_CONFIG, strictAffinity: true, maxBlocksPerHost: 4, ipCooldownSeconds: 30 });
    expect(await repo().get('IPAMConfiguration', 'default')).toEqual(applied);
    expect(await repo().list('IPAMConfiguration')).toEqual([applied]);
    expect(await env().ds.get(resourceKey('ipamconfigurations', 'default'))).toBeUndefined();
  });

  it('reads a config written by `calicoctl ipam configure` (omitempty: no auto_allocate_blocks means false)', async () => {
    await env().ds.commit({ preconditions: [], mutations: [{ op: 'put', key: ipamConfigKey(), value: '{"strict_affinity":true}' }] });
    expect((await repo().get('IPAMConfiguration', 'default')).spec).toEqual({ ...DEFAULT_SPEC, strictAffinity: true, autoAllocateBlocks: false });
  });

  it.each([
    [
      'strict affinity and block auto-allocation both off',
      ipamConfiguration({ strictAffinity: false, autoAllocateBlocks: false }),
      'IPAMConfiguration "default": spec.autoAllocateBlocks: Cannot disable \'StrictAffinity\' and \'AutoAllocateBlocks\' at the same time',
    ],
    [
      'a block limit without strict affinity',
      ipamConfiguration({ maxBlocksPerHost: 4 }),
      'IPAMConfiguration "default": spec.maxBlocksPerHost: MaxBlocksPerHost requires StrictAffinity to be enabled',
    ],
    [
      'a cooldown above 1200 seconds',
      ipamConfiguration({ ipCooldownSeconds: 1201 }),
      'IPAMConfiguration "default": spec.ipCooldownSeconds: must be between 0 and 1200, got 1201',
    ],
    [
      'another name than "default"',
      ipamConfiguration({}, 'cluster'),
      'IPAMConfiguration "cluster": metadata.name: Cannot create an IPAMConfiguration resource with a name other than "default", got "cluster"',
    ],
  ])('refuses %s, storing nothing', async (_what, input, message) => {
    for (const write of [(r: unknown) => repo().apply(r), (r: unknown) => repo().create(r)]) {
      await expect(write(input)).rejects.toMatchObject({ code: 'invalid-argument', message });
    }
    expect(await storedConfig()).toBeUndefined();
  });

  it('resets to the defaults on delete, returning what was in effect', async () => {
    const applied = await repo().apply(ipamConfiguration({ strictAffinity: true, ipCooldownSeconds: 30 }));
    expect(await repo().delete('IPAMConfiguration', 'default')).toEqual(applied);
    expect(await env().engine.getIPAMConfig()).toEqual(DEFAULT_IPAM_CONFIG);
    expect((await repo().get('IPAMConfiguration', 'default')).spec).toEqual(DEFAULT_SPEC);
  });

  it('is already at the defaults when deleted with nothing stored, and writes nothing', async () => {
    expect((await repo().delete('IPAMConfiguration', 'default')).spec).toEqual(DEFAULT_SPEC);
    expect(await storedConfig()).toBeUndefined();
  });

  it('creates only where nothing is stored yet', async () => {
    const created = await repo().create(ipamConfiguration({ strictAffinity: true }));
    expect(created.spec).toEqual({ ...DEFAULT_SPEC, strictAffinity: true });
    await expect(repo().create(ipamConfiguration({ ipCooldownSeconds: 5 }))).rejects.toMatchObject({
      code: 'already-exists',
      message: 'resource already exists: IPAMConfiguration(default)',
    });
    expect(await repo().get('IPAMConfiguration', 'default')).toEqual(created);
  });

  it('applies with the resourceVersion it read, and refuses a stale one with "update conflict"', async () => {
    const first = await repo().apply(ipamConfiguration({ strictAffinity: true }));
    const withVersion = (spec: Record<string, unknown>, resourceVersion: string | undefined) => ({
      ...ipamConfiguration(spec),
      metadata: { name: 'default', resourceVersion },
    });
    const second = await repo().apply(withVersion({ strictAffinity: true, ipCooldownSeconds: 10 }, first.metadata.resourceVersion));
    expect(second.spec).toMatchObject({ ipCooldownSeconds: 10 });
    await expect(repo().apply(withVersion({ ipCooldownSeconds: 20 }, first.metadata.resourceVersion))).rejects.toMatchObject({
      code: 'conflict',
      message: 'update conflict: IPAMConfiguration(default)',
    });
    expect(await repo().get('IPAMConfiguration', 'default')).toEqual(second);
  });

  it('writes nothing when an apply changes nothing', async () => {
    const first = await repo().apply(ipamConfiguration({ strictAffinity: true }));
    expect(await repo().apply(ipamConfiguration({ strictAffinity: true }))).toEqual(first);
    expect(await repo().apply(first)).toEqual(first);
  });

  it('knows only the name "default" on get and delete', async () => {
    const missing = { code: 'not-found', message: 'resource does not exist: IPAMConfiguration(cluster)' };
    await expect(repo().get('IPAMConfiguration', 'cluster')).rejects.toMatchObject(missing);
    await expect(repo().delete('IPAMConfiguration', 'cluster')).rejects.toMatchObject(missing);
  });
});

import { resourceKey } from '@atoll/model';
import { InterceptingDatastore } from '@atoll/store/testing';
import { describeWithStores } from '../testing/fixtures';
import { ipamConfiguration, ipv4Pool, makeRepository, node, NOW_TEXT, reservation } from './resource-test-fixtures';

/** The resource carrying a resourceVersion, as a client that read it sends it back. */
const atVersion = <T extends { metadata: object }>(resource: T, resourceVersion: string | undefined) => ({
  ...resource,
  metadata: { ...resource.metadata, resourceVersion },
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** kind, a Calico-doc-like resource, a changed version of it, the v3 key it is stored under. */
const STORED_KINDS = [
  ['IPPool', ipv4Pool(), ipv4Pool('default-ipv4-ippool', { natOutgoing: false }), resourceKey('ippools', 'default-ipv4-ippool')],
  [
    'IPReservation',
    reservation(),
    reservation('my-ipreservation-1', ['192.168.2.3/32']),
    resourceKey('ipreservations', 'my-ipreservation-1'),
  ],
  ['Node', node(), node('node-hostname', { 'kubernetes.io/os': 'linux', zone: 'a' }), resourceKey('nodes', 'node-hostname')],
] as const;

describeWithStores('resource repository', (env) => {
  const repo = () => makeRepository(env());
  const stored = async (key: string) => {
    const kv = await env().ds.get(key);
    return kv && { value: JSON.parse(kv.value) as Record<string, unknown>, revision: kv.revision };
  };
  const everything = async () => (await env().ds.list('/')).items.map((kv) => kv.key);

  describe.each(STORED_KINDS)('%s', (kind, resource, changed, key) => {
    const name = resource.metadata.name;

    it('creates it, filling in uid, creationTimestamp and resourceVersion, and gets and lists the same', async () => {
      const created = await repo().create(resource);
      expect(created).toMatchObject({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, creationTimestamp: NOW_TEXT } });
      expect(created.metadata.uid).toMatch(UUID);
      expect(created.metadata.resourceVersion).toMatch(/^[1-9][0-9]*$/);
      expect(await repo().get(kind, name)).toEqual(created);
      expect(await repo().list(kind)).toEqual([created]);
    });

    it('stores the whole v3 object as JSON under its v3 key, without resourceVersion, which is the key\'s mod revision', async () => {
      const created = await repo().create(resource);
      const kv = await stored(key);
      const { resourceVersion, ...metadata } = created.metadata;
      expect(kv?.value).toEqual({ ...created, metadata });
      expect(resourceVersion).toBe(kv?.revision.toString());
    });

    it('refuses to create it twice with Calico\'s "resource already exists" message, leaving the stored one alone', async () => {
      await repo().create(resource);
      const before = await stored(key);
      await expect(repo().create(changed)).rejects.toMatchObject({
        code: 'already-exists',
        message: `resource already exists: ${kind}(${name})`,
      });
      expect(await stored(key)).toEqual(before);
    });

    it('applies a change, keeping uid and creationTimestamp and moving resourceVersion on', async () => {
      const created = await repo().apply(resource);
      const later = makeRepository(env(), { now: () => new Date('2027-01-01T00:00:00Z') });
      const updated = await later.apply(changed);
      expect(await repo().get(kind, name)).toEqual(updated);
      const content = (r: typeof created) => ({ spec: r.spec, labels: r.metadata.labels });
      expect(content(updated)).not.toEqual(content(created));
      expect(updated.metadata.uid).toBe(created.metadata.uid);
      expect(updated.metadata.creationTimestamp).toBe(NOW_TEXT);
      expect(BigInt(updated.metadata.resourceVersion!)).toBeGreaterThan(BigInt(created.metadata.resourceVersion!));
    });

    it('applies with the resourceVersion it read, and refuses a stale one with "update conflict"', async () => {
      const created = await repo().create(resource);
      const updated = await repo().apply(atVersion(changed, created.metadata.resourceVersion));
      await expect(repo().apply(atVersion(resource, created.metadata.resourceVersion))).rejects.toMatchObject({
        code: 'conflict',
        message: `update conflict: ${kind}(${name})`,
      });
      expect(await repo().get(kind, name)).toEqual(updated);
    });

    it('refuses an apply naming a resourceVersion when nothing is stored, as an update of a missing resource', async () => {
      await expect(repo().apply(atVersion(resource, '42'))).rejects.toMatchObject({
        code: 'not-found',
        message: `resource does not exist: ${kind}(${name})`,
      });
      expect(await everything()).toEqual([]);
    });

    it('deletes it and returns what was deleted; then get and delete are not-found with Calico\'s message', async () => {
      const created = await repo().create(resource);
      const deleted = await repo().delete(kind, name);
      expect(deleted.metadata.uid).toBe(created.metadata.uid);
      expect(deleted.spec).toEqual(kind === 'IPPool' ? { ...created.spec, disabled: true } : created.spec);
      expect(await stored(key)).toBeUndefined();
      const missing = { code: 'not-found', message: `resource does not exist: ${kind}(${name})` };
      await expect(repo().get(kind, name)).rejects.toMatchObject(missing);
      await expect(repo().delete(kind, name)).rejects.toMatchObject(missing);
      expect(await repo().list(kind)).toEqual([]);
    });

    it('writes nothing when an apply changes nothing', async () => {
      const created = await repo().apply(resource);
      expect(await repo().apply(resource)).toEqual(created);
      expect(await repo().apply(created)).toEqual(created);
    });

    it('refuses a create carrying a resourceVersion, as Calico does', async () => {
      await expect(repo().create(atVersion(resource, '7'))).rejects.toMatchObject({
        code: 'invalid-argument',
        message: `${kind} "${name}": metadata.resourceVersion: field must not be set for a Create request, got "7"`,
      });
      expect(await everything()).toEqual([]);
    });
  });

  it('lists in name order', async () => {
    for (const name of ['node-b', 'node-c', 'node-a']) await repo().create(node(name));
    expect((await repo().list('Node')).map((n) => n.metadata.name)).toEqual(['node-a', 'node-b', 'node-c']);
  });

  it.each([
    ['an IPv4 pool', ipv4Pool(), { cidr: '192.168.0.0/16', ipipMode: 'Always', natOutgoing: true, blockSize: 26 }],
    [
      'an IPv6 pool written non-canonically',
      { ...ipv4Pool('default-ipv6-ippool'), spec: { cidr: 'fd5f:0:0::/48', nodeSelector: '' } },
      { cidr: 'fd5f::/48', ipipMode: 'Never', natOutgoing: false, blockSize: 122 },
    ],
  ])('stores %s with Calico\'s defaults applied', async (_what, pool, expected) => {
    const created = await repo().create(pool);
    const spec = {
      vxlanMode: 'Never',
      disabled: false,
      disableBGPExport: false,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
      ...expected,
    };
    expect(created.spec).toEqual(spec);
    expect((await stored(resourceKey('ippools', pool.metadata.name)))?.value['spec']).toEqual(spec);
  });

  it('drops null fields, which mean "unset", instead of storing them', async () => {
    const created = await repo().apply({ ...ipv4Pool(), spec: { ...ipv4Pool().spec, namespaceSelector: null, vxlanMode: null } });
    expect(created.spec).not.toHaveProperty('namespaceSelector');
    expect(created.spec).toMatchObject({ vxlanMode: 'Never' });
  });

  it('ignores a uid and creationTimestamp given on update: the stored ones are kept', async () => {
    const created = await repo().create(node());
    const updated = await repo().apply({
      ...node(),
      metadata: { ...node().metadata, uid: 'someone-else', creationTimestamp: '2020-01-01T00:00:00Z' },
    });
    expect(updated.metadata).toMatchObject({ uid: created.metadata.uid, creationTimestamp: NOW_TEXT });
  });

  it.each([
    ['get', () => repo().get('BGPPeer', 'peer-1')],
    ['list', () => repo().list('BGPPeer')],
    ['delete', () => repo().delete('BGPPeer', 'peer-1')],
  ])('refuses an unknown kind in %s, naming the kinds it serves', async (_op, call) => {
    await expect(call()).rejects.toMatchObject({
      code: 'invalid-argument',
      message: 'unknown resource kind "BGPPeer": must be one of IPPool, IPReservation, IPAMConfiguration, Node',
    });
  });

  it.each([
    [
      'an unknown kind',
      { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'peer-1' }, spec: {} },
      'BGPPeer "peer-1": kind: must be one of IPPool, IPReservation, IPAMConfiguration, Node, got "BGPPeer"',
    ],
    ['a pool without a name', { ...ipv4Pool(), metadata: {} }, 'IPPool: metadata.name: name is required'],
    [
      'a pool without metadata',
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', spec: { cidr: '10.0.0.0/16' } },
      'IPPool: metadata.name: name is required',
    ],
    [
      'a pool with a bad CIDR',
      ipv4Pool('p', { cidr: '192.168.0.0/33' }),
      'IPPool "p": spec.cidr: IPPool CIDR must be a valid subnet, got "192.168.0.0/33"',
    ],
    [
      'a pool with an unknown field',
      ipv4Pool('p', { natOutgoin: true }),
      'IPPool "p": spec.natOutgoin: unknown field "natOutgoin"',
    ],
    [
      'a pool of another apiVersion',
      { ...ipv4Pool('p'), apiVersion: 'v1' },
      'IPPool "p": apiVersion: must be "projectcalico.org/v3", got "v1"',
    ],
    [
      'a node with a bad label',
      node('n1', { 'bad key!': 'x' }),
      'Node "n1": metadata.labels["bad key!"]: invalid label key: name part must consist of alphanumeric characters',
    ],
    [
      'a reservation with a bad entry',
      reservation('r1', ['10.0.0.0/8', 'not-a-cidr']),
      'IPReservation "r1": spec.reservedCIDRs[1]: must be an IP address or a CIDR, got "not-a-cidr"',
    ],
    [
      'a name with upper case',
      node('Node-1'),
      'Node "Node-1": metadata.name: name must consist of lower case alphanumeric characters',
    ],
    [
      'something that is not an object',
      'IPPool',
      'resource: kind: must be one of IPPool, IPReservation, IPAMConfiguration, Node, got null',
    ],
  ])('refuses %s with the field named, storing nothing', async (_what, input, message) => {
    for (const write of [(r: unknown) => repo().apply(r), (r: unknown) => repo().create(r)]) {
      const err = await write(input).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid-argument' });
      expect((err as Error).message).toContain(message);
    }
    expect(await everything()).toEqual([]);
  });

  it('reports every problem of a resource, joined with "; "', async () => {
    const err: unknown = await repo()
      .apply(ipv4Pool('p', { cidr: '10.0.0.0/16', blockSize: 40, ipipMode: 'Sometimes' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid-argument' });
    expect((err as Error).message.split('; ')).toEqual([
      'IPPool "p": spec.ipipMode: must be one of Never, Always, CrossSubnet, got "Sometimes"',
      'IPPool "p": spec.blockSize: IPv4 block size must be between 20 and 32, got 40',
    ]);
  });

  it.each([
    ['a name with a slash', 'a/b'],
    ['an empty name', ''],
  ])('refuses to get %s instead of building a key from it', async (_what, name) => {
    await expect(repo().get('Node', name)).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('metadata.name'),
    });
    await expect(repo().delete('Node', name)).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('refuses a resourceVersion that is not a revision number', async () => {
    await expect(repo().apply(atVersion(node(), 'abc'))).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('metadata.resourceVersion'),
    });
  });

  it('stays consistent when a competing writer changes the resource between its read and its write', async () => {
    const ds = new InterceptingDatastore(env().ds);
    const racing = makeRepository(env(), { datastore: ds });
    const first = await repo().create(node());
    ds.beforeNextCommit(async () => {
      await repo().apply(node('node-hostname', { zone: 'competitor' }));
    });
    const updated = await racing.apply(node('node-hostname', { zone: 'mine' }));
    expect(updated.metadata).toMatchObject({ uid: first.metadata.uid, labels: { zone: 'mine' } });
    expect(ds.commitCalls).toBe(2);
    expect(await repo().get('Node', 'node-hostname')).toEqual(updated);
  });

  it('reports a conflict when the version the caller named changes between its read and its write', async () => {
    const ds = new InterceptingDatastore(env().ds);
    const racing = makeRepository(env(), { datastore: ds });
    const first = await repo().create(node());
    ds.beforeNextCommit(async () => {
      await repo().apply(node('node-hostname', { zone: 'competitor' }));
    });
    await expect(
      racing.apply({
        ...node(),
        metadata: { name: 'node-hostname', labels: { zone: 'mine' }, resourceVersion: first.metadata.resourceVersion },
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect((await repo().get('Node', 'node-hostname')).metadata.labels).toEqual({ zone: 'competitor' });
  });

  it('lets exactly one of two concurrent creates of one name win', async () => {
    const results = await Promise.allSettled([repo().create(node('n1', { zone: 'a' })), repo().create(node('n1', { zone: 'b' }))]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code: string }] : []));
    expect(rejected.map((e) => e.code)).toEqual(['already-exists']);
  });

  it('takes a create whose commit applied but whose answer was lost for a success, not for "already exists"', async () => {
    const ds = new InterceptingDatastore(env().ds);
    ds.failNextCommits(1, 'after-apply');
    const created = await makeRepository(env(), { datastore: ds }).create(reservation());
    expect(await repo().get('IPReservation', 'my-ipreservation-1')).toEqual(created);
  });

  it('keeps IPAMConfiguration out of the v3 resource keys', async () => {
    await repo().apply(ipamConfiguration({ strictAffinity: true }));
    expect(await everything()).toEqual(['/calico/ipam/v2/config']);
  });
});

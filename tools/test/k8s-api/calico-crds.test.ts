import { parseJsonLossless } from '@atoll/model';
import { startKubeApiStandIn, type KubeApiStandIn } from '../../k8s-api';
import { request } from './support/raw-http';

// Calico's IPAM custom resources (crd.projectcalico.org/v1) over plain HTTP: the verbs the
// migration uses, optimistic concurrency by resourceVersion, and uint64 numbers kept exact.

const BASE = '/apis/crd.projectcalico.org/v1';
const SEQ = '1786000000000000001'; // > 2^53: JSON.parse would turn it into 1786000000000000000

const blockText = (name: string, seq = SEQ) =>
  `{"apiVersion":"crd.projectcalico.org/v1","kind":"IPAMBlock","metadata":{"name":"${name}"},` +
  `"spec":{"cidr":"10.0.0.0/26","affinity":"host:node-1","allocations":[0,null],"unallocated":[1],` +
  `"attributes":[{"handle_id":"k8s-pod-network.a","secondary":{"node":"node-1"}}],` +
  `"sequenceNumber":${seq},"sequenceNumberForAllocation":{"0":${seq}},"deleted":false,"strictAffinity":false}}`;

describe('Calico custom resources on the Kubernetes API stand-in', () => {
  let api: KubeApiStandIn;
  const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(api.url, method, path, opts);

  beforeEach(async () => {
    api = await startKubeApiStandIn();
  });
  afterEach(async () => {
    await api.stop();
  });

  it('creates, gets and lists an IPAMBlock with its 64-bit sequence numbers exact', async () => {
    const created = await call('POST', `${BASE}/ipamblocks`, { body: blockText('10-0-0-0-26') });
    expect(created.status).toBe(201);
    expect(created.text).toContain(`"sequenceNumber":${SEQ}`);
    expect(created.json.metadata).toEqual(expect.objectContaining({ name: '10-0-0-0-26', uid: expect.any(String), resourceVersion: expect.any(String) }));

    const got = await call('GET', `${BASE}/ipamblocks/10-0-0-0-26`);
    expect(got.status).toBe(200);
    const spec = (parseJsonLossless(got.text) as { spec: Record<string, unknown> }).spec;
    expect(spec['sequenceNumber']).toBe(BigInt(SEQ));
    expect(spec['sequenceNumberForAllocation']).toEqual({ '0': BigInt(SEQ) });
    expect(spec['allocations']).toEqual([0, null]);

    const list = await call('GET', `${BASE}/ipamblocks`);
    expect(list.status).toBe(200);
    expect(list.json).toEqual(expect.objectContaining({ kind: 'IPAMBlockList', apiVersion: 'crd.projectcalico.org/v1' }));
    expect(list.json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['10-0-0-0-26']);
    expect(list.text).toContain(`"sequenceNumber":${SEQ}`);
  });

  it('updates only with the current resourceVersion and answers a stale one with 409', async () => {
    const created = (await call('POST', `${BASE}/ipamblocks`, { body: blockText('b') })).json;
    const rv = created.metadata.resourceVersion as string;
    const next = blockText('b', '1786000000000000002').replace('"name":"b"', `"name":"b","resourceVersion":"${rv}"`);
    const updated = await call('PUT', `${BASE}/ipamblocks/b`, { body: next });
    expect(updated.status).toBe(200);
    expect(updated.text).toContain('"sequenceNumber":1786000000000000002');
    expect(Number(updated.json.metadata.resourceVersion)).toBeGreaterThan(Number(rv));

    const stale = await call('PUT', `${BASE}/ipamblocks/b`, { body: next });
    expect(stale.status).toBe(409);
    expect(stale.json.reason).toBe('Conflict');
    expect((await call('GET', `${BASE}/ipamblocks/b`)).text).toContain('"sequenceNumber":1786000000000000002');
  });

  it('refuses a second create of the same name and deletes with a uid precondition', async () => {
    const body = { apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: 'node-1-10-0-0-0-26' }, spec: { state: 'confirmed', node: 'node-1', cidr: '10.0.0.0/26', deleted: 'false' } };
    const created = await call('POST', `${BASE}/blockaffinities`, { body });
    expect(created.status).toBe(201);
    expect((await call('POST', `${BASE}/blockaffinities`, { body })).status).toBe(409);

    const wrongUid = await call('DELETE', `${BASE}/blockaffinities/node-1-10-0-0-0-26`, { body: { preconditions: { uid: 'not-it' } } });
    expect(wrongUid.status).toBe(409);
    const deleted = await call('DELETE', `${BASE}/blockaffinities/node-1-10-0-0-0-26`, { body: { preconditions: { uid: created.json.metadata.uid } } });
    expect(deleted.status).toBe(200);
    expect((await call('GET', `${BASE}/blockaffinities/node-1-10-0-0-0-26`)).status).toBe(404);
  });

  it('serves every Calico IPAM kind and refuses a body of another kind or version', async () => {
    for (const [plural, kind] of [
      ['ippools', 'IPPool'],
      ['ipreservations', 'IPReservation'],
      ['ipamconfigs', 'IPAMConfig'],
      ['ipamblocks', 'IPAMBlock'],
      ['blockaffinities', 'BlockAffinity'],
      ['ipamhandles', 'IPAMHandle'],
    ] as const) {
      const res = await call('POST', `${BASE}/${plural}`, { body: { apiVersion: 'crd.projectcalico.org/v1', kind, metadata: { name: 'x' }, spec: {} } });
      expect([plural, res.status]).toEqual([plural, 201]);
      expect(res.json.kind).toBe(kind);
    }
    const wrongVersion = await call('POST', `${BASE}/ippools`, { body: { apiVersion: 'v1', kind: 'IPPool', metadata: { name: 'y' } } });
    expect(wrongVersion.status).toBe(400);
    expect((await call('GET', '/apis/crd.projectcalico.org/v2/ippools')).status).toBe(404);
    expect((await call('GET', '/api/v1/ippools')).status).toBe(404);
  });
});

import { startKubeApiStandIn, type KubeApiStandIn } from '../../k8s-api';
import { request } from './support/raw-http';

// A pod's graceful deletion over HTTP, as the apiserver's pod strategy does it: marked with
// a deletionTimestamp while its node stops it, gone after a DELETE with grace 0.

const pod = (name: string, spec: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }], ...spec },
});

describe('graceful deletion of pods in the Kubernetes API stand-in', () => {
  let api: KubeApiStandIn;
  const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(api.url, method, path, opts);
  const path = (name: string) => `/api/v1/namespaces/default/pods/${name}`;

  beforeEach(async () => {
    api = await startKubeApiStandIn();
  });
  afterEach(async () => {
    await api.stop();
  });

  it('marks a pod on a node deleted with a grace period and keeps it readable and listed', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', { body: pod('g') });
    const before = Date.now();
    const del = await call('DELETE', path('g'), { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 30 } });
    expect(del.status).toBe(200);
    expect(del.json.metadata.deletionGracePeriodSeconds).toBe(30);
    const deadline = Date.parse(del.json.metadata.deletionTimestamp);
    expect(deadline).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 30_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 30_000);
    const read = await call('GET', path('g'));
    expect(read.json.metadata.deletionTimestamp).toBe(del.json.metadata.deletionTimestamp);
    const list = await call('GET', '/api/v1/namespaces/default/pods');
    expect(list.json.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['g']);
  });

  it('removes the marked pod on a DELETE with grace 0, as the kubelet sends', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', { body: pod('g') });
    await call('DELETE', path('g'), { body: { gracePeriodSeconds: 30 } });
    expect((await call('DELETE', `${path('g')}?gracePeriodSeconds=0`)).status).toBe(200);
    expect((await call('GET', path('g'))).status).toBe(404);
  });

  it('uses the pod\'s terminationGracePeriodSeconds when the request names no grace', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', { body: pod('t', { terminationGracePeriodSeconds: 10 }) });
    const del = await call('DELETE', path('t'));
    expect(del.json.metadata.deletionGracePeriodSeconds).toBe(10);
    expect((await call('GET', path('t'))).status).toBe(200);
  });

  it('shortens the grace on a later DELETE and never lengthens it', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', { body: pod('s') });
    const first = (await call('DELETE', path('s'), { body: { gracePeriodSeconds: 30 } })).json;
    const longer = (await call('DELETE', path('s'), { body: { gracePeriodSeconds: 60 } })).json;
    expect(longer.metadata).toMatchObject({ deletionGracePeriodSeconds: 30, deletionTimestamp: first.metadata.deletionTimestamp, resourceVersion: first.metadata.resourceVersion });
    const shorter = (await call('DELETE', path('s'), { body: { gracePeriodSeconds: 5 } })).json;
    expect(shorter.metadata.deletionGracePeriodSeconds).toBe(5);
    expect(Date.parse(shorter.metadata.deletionTimestamp)).toBeLessThan(Date.parse(first.metadata.deletionTimestamp));
  });

  it.each([
    ['an unscheduled pod', { nodeName: undefined }, undefined],
    ['a pod that finished', {}, 'Succeeded'],
  ])('removes %s at once even with a grace period', async (_what, spec, phase) => {
    await call('POST', '/api/v1/namespaces/default/pods', { body: pod('u', spec) });
    if (phase) await api.setPodStatus('default', 'u', { phase });
    await call('DELETE', path('u'), { body: { gracePeriodSeconds: 30 } });
    expect((await call('GET', path('u'))).status).toBe(404);
  });

  it('refuses a grace period that is not a whole number', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', { body: pod('b') });
    const del = await call('DELETE', path('b'), { body: { gracePeriodSeconds: 'soon' } });
    expect([del.status, del.json.message]).toEqual([400, 'gracePeriodSeconds must be a whole number']);
  });

  it('marks through the in-process helper too', async () => {
    await api.createPod(pod('h'));
    const marked = await api.deletePod('default', 'h', { gracePeriodSeconds: 30 });
    expect(marked.metadata['deletionGracePeriodSeconds']).toBe(30);
    await api.deletePod('default', 'h', { gracePeriodSeconds: 0 });
    expect(await api.getPod('default', 'h')).toBeUndefined();
  });
});

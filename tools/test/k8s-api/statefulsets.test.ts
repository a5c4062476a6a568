import { startKubeApiStandIn, type KubeApiStandIn } from '../../k8s-api';
import { request } from './support/raw-http';

// apps/v1 StatefulSets over HTTP: what the leak collector reads of them (spec.replicas,
// the template's annotations), with create/get/list/update/patch/delete as the apiserver.

const sts = (name: string, spec: object = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name },
  spec: { serviceName: name, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name }, annotations: { 'atoll.io/sticky': 'true' } } }, ...spec },
});

describe('StatefulSets in the Kubernetes API stand-in', () => {
  let api: KubeApiStandIn;
  const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(api.url, method, path, opts);
  const base = '/apis/apps/v1/namespaces/db/statefulsets';

  beforeEach(async () => {
    api = await startKubeApiStandIn();
  });
  afterEach(async () => {
    await api.stop();
  });

  it('creates, reads, lists, patches and deletes a StatefulSet under apps/v1, defaulting replicas to 1', async () => {
    const created = await call('POST', base, { body: sts('pg') });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ kind: 'StatefulSet', apiVersion: 'apps/v1', metadata: { name: 'pg', namespace: 'db' }, spec: { replicas: 1 } });
    expect((await call('GET', `${base}/pg`)).json.spec.template.metadata.annotations).toEqual({ 'atoll.io/sticky': 'true' });
    const list = await call('GET', '/apis/apps/v1/statefulsets');
    expect(list.json).toMatchObject({ kind: 'StatefulSetList', apiVersion: 'apps/v1' });
    expect(list.json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['pg']);
    const patched = await call('PATCH', `${base}/pg`, { body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json' });
    expect(patched.json.spec.replicas).toBe(5);
    expect((await call('DELETE', `${base}/pg`)).status).toBe(200);
    expect((await call('GET', `${base}/pg`)).status).toBe(404);
  });

  it('refuses a StatefulSet sent as core v1, and a pod sent under apps/v1', async () => {
    const wrong = await call('POST', base, { body: { ...sts('pg'), apiVersion: 'v1' } });
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toBe('the API version in the data (v1) does not match the expected API version (apps/v1)');
    expect((await call('POST', '/apis/apps/v1/namespaces/db/pods', { body: { metadata: { name: 'p' } } })).status).toBe(404);
  });

  it('is patched through the helpers and goes with its namespace', async () => {
    await api.createNamespace('db');
    await api.createStatefulSet({ metadata: { name: 'pg', namespace: 'db' }, spec: { replicas: 3 } });
    await api.patchStatefulSet('db', 'pg', { spec: { replicas: 2 } });
    const listed = await call('GET', base);
    expect(listed.json.items[0].spec.replicas).toBe(2);
    await api.deleteNamespace('db');
    expect((await call('GET', base)).json.items).toEqual([]);
  });
});

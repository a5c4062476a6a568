import { startKubeApiStandIn, type KubeApiStandIn } from '../../k8s-api';
import { request } from './support/raw-http';

// Every non-watch route over plain HTTP: status codes and body shapes as the apiserver
// returns them.

const podBody = (name: string, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] },
  ...extra,
});

const status = (code: number, reason: string, message: string, details?: object) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

describe('Kubernetes API stand-in over HTTP', () => {
  let api: KubeApiStandIn;
  const call = (method: string, path: string, opts?: Parameters<typeof request>[3]) => request(api.url, method, path, opts);

  beforeEach(async () => {
    api = await startKubeApiStandIn();
  });
  afterEach(async () => {
    await api.stop();
  });

  describe('discovery', () => {
    it('serves /api, /api/v1, /apis and /version for kubectl', async () => {
      const core = await call('GET', '/api');
      expect(core.status).toBe(200);
      expect(core.headers['content-type']).toBe('application/json');
      expect(core.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });

      const v1 = await call('GET', '/api/v1');
      expect(v1.json.kind).toBe('APIResourceList');
      expect(v1.json.resources.map((r: { name: string }) => r.name)).toEqual([
        'pods', 'pods/status', 'namespaces', 'namespaces/status', 'nodes', 'nodes/status',
      ]);
      expect(v1.json.resources[0]).toMatchObject({ name: 'pods', namespaced: true, kind: 'Pod', shortNames: ['po'] });

      const crdVersion = { groupVersion: 'crd.projectcalico.org/v1', version: 'v1' };
      const apps = { groupVersion: 'apps/v1', version: 'v1' };
      expect((await call('GET', '/apis')).json).toEqual({
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          { name: 'apps', versions: [apps], preferredVersion: apps },
          { name: 'crd.projectcalico.org', versions: [crdVersion], preferredVersion: crdVersion },
        ],
      });
      const appsV1 = await call('GET', '/apis/apps/v1');
      expect(appsV1.json).toMatchObject({ kind: 'APIResourceList', groupVersion: 'apps/v1' });
      expect(appsV1.json.resources.map((r: { name: string }) => r.name)).toEqual(['statefulsets', 'statefulsets/status']);
      expect((await call('GET', '/version')).json).toMatchObject({ major: '1', minor: '32' });
      expect((await call('GET', '/healthz')).text).toBe('ok');
    });

    it('answers an unknown path with the apiserver\'s 404 Status', async () => {
      for (const path of ['/api/v1/services', '/apis/apps/v1/deployments', '/api/v1/statefulsets', '/api/v1/pods/x', '/api/v1/namespaces/ns/pods/x/log']) {
        const res = await call('GET', path);
        expect([path, res.status, res.json]).toEqual([
          path, 404, status(404, 'NotFound', 'the server could not find the requested resource', {}),
        ]);
      }
    });
  });

  describe('pods', () => {
    it('creates a pod (201) filling uid, creationTimestamp, resourceVersion and namespace, with status reset to Pending', async () => {
      const res = await call('POST', '/api/v1/namespaces/team-a/pods', { body: podBody('web', { status: { phase: 'Running' } }) });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ kind: 'Pod', apiVersion: 'v1', status: { phase: 'Pending' } });
      const meta = res.json.metadata;
      expect(meta).toMatchObject({ name: 'web', namespace: 'team-a', resourceVersion: '1' });
      expect(meta.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(meta.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    it('gets one pod, or the exact 404 Status for a missing one', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('x') });
      const found = await call('GET', '/api/v1/namespaces/default/pods/x');
      expect(found.status).toBe(200);
      expect(found.json.metadata.name).toBe('x');

      const missing = await call('GET', '/api/v1/namespaces/default/pods/y');
      expect(missing.status).toBe(404);
      expect(missing.text).toBe(
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"y\\" not found","reason":"NotFound","details":{"name":"y","kind":"pods"},"code":404}',
      );
      // same name in another namespace is another object
      expect((await call('GET', '/api/v1/namespaces/other/pods/x')).status).toBe(404);
    });

    it('refuses a second create with 409 AlreadyExists', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('dup') });
      const again = await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('dup') });
      expect(again.status).toBe(409);
      expect(again.json).toEqual(status(409, 'AlreadyExists', 'pods "dup" already exists', { name: 'dup', kind: 'pods' }));
    });

    it.each([
      ['a namespace differing from the path', { metadata: { name: 'a', namespace: 'other' } }, 400, 'BadRequest'],
      ['a set resourceVersion', { metadata: { name: 'a', resourceVersion: '5' } }, 400, 'BadRequest'],
      ['another kind', { kind: 'Node', metadata: { name: 'a' } }, 400, 'BadRequest'],
      ['another apiVersion', { apiVersion: 'apps/v1', metadata: { name: 'a' } }, 400, 'BadRequest'],
      ['no name', { metadata: {} }, 422, 'Invalid'],
      ['an invalid name', { metadata: { name: 'Not_Valid' } }, 422, 'Invalid'],
      ['a non-string label', { metadata: { name: 'a', labels: { n: 1 } } }, 422, 'Invalid'],
      ['a body that is not an object', [1, 2], 400, 'BadRequest'],
    ])('rejects a create with %s', async (_what, body, code, reason) => {
      const res = await call('POST', '/api/v1/namespaces/default/pods', { body });
      expect([res.status, res.json.reason, res.json.code]).toEqual([code, reason, code]);
    });

    it('rejects malformed JSON with 400 and a protobuf body with 415', async () => {
      expect((await call('POST', '/api/v1/namespaces/default/pods', { body: '{"metadata":' })).status).toBe(400);
      const proto = await call('POST', '/api/v1/namespaces/default/pods', {
        body: 'k8s\u0000',
        contentType: 'application/vnd.kubernetes.protobuf',
      });
      expect([proto.status, proto.json.reason]).toEqual([415, 'UnsupportedMediaType']);
    });

    it('names a pod from generateName', async () => {
      const res = await call('POST', '/api/v1/namespaces/default/pods', { body: { metadata: { generateName: 'job-' } } });
      expect(res.status).toBe(201);
      expect(res.json.metadata.name).toMatch(/^job-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    });

    it('lists pods in a namespace and across namespaces, sorted, with the list resourceVersion and no per-item kind', async () => {
      await call('POST', '/api/v1/namespaces/b/pods', { body: podBody('z') });
      await call('POST', '/api/v1/namespaces/a/pods', { body: podBody('y') });
      await call('POST', '/api/v1/namespaces/b/pods', { body: podBody('x') });

      const all = await call('GET', '/api/v1/pods');
      expect(all.json.kind).toBe('PodList');
      expect(all.json.apiVersion).toBe('v1');
      expect(all.json.metadata).toEqual({ resourceVersion: '3' });
      expect(all.json.items.map((p: { metadata: { namespace: string; name: string } }) => `${p.metadata.namespace}/${p.metadata.name}`))
        .toEqual(['a/y', 'b/x', 'b/z']);
      expect(all.json.items[0].kind).toBeUndefined();

      const inB = await call('GET', '/api/v1/namespaces/b/pods');
      expect(inB.json.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['x', 'z']);
      expect((await call('GET', '/api/v1/namespaces/empty/pods')).json.items).toEqual([]);
    });

    it('applies field and label selectors to lists, and 400s on an unsupported field', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('a', { metadata: { name: 'a', labels: { app: 'web' } } }) });
      await call('POST', '/api/v1/namespaces/default/pods', {
        body: { ...podBody('b'), spec: { nodeName: 'node-2' }, metadata: { name: 'b', labels: { app: 'db' } } },
      });
      const q = (query: string) => call('GET', `/api/v1/pods?${query}`);
      const names = async (query: string) => (await q(query)).json.items.map((p: { metadata: { name: string } }) => p.metadata.name);
      expect(await names('fieldSelector=spec.nodeName%3Dnode-2')).toEqual(['b']);
      expect(await names('fieldSelector=spec.nodeName!%3Dnode-2,metadata.namespace%3Ddefault')).toEqual(['a']);
      expect(await names('labelSelector=app%20in%20(web,db),app!%3Ddb')).toEqual(['a']);
      expect(await names('labelSelector=!app')).toEqual([]);
      expect(await names('fieldSelector=status.phase%3DPending')).toEqual(['a', 'b']);

      const bad = await q('fieldSelector=spec.unschedulable%3Dtrue');
      expect(bad.status).toBe(400);
      expect(bad.json).toEqual(status(400, 'BadRequest', 'field label not supported: spec.unschedulable'));
      expect((await q('labelSelector=a%20in%20b')).status).toBe(400);
    });

    it('updates with PUT, keeping status, and 409s on a stale resourceVersion', async () => {
      const created = (await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('u') })).json;
      await api.setPodStatus('default', 'u', { phase: 'Running' });
      const current = (await call('GET', '/api/v1/namespaces/default/pods/u')).json;

      const body = { ...current, metadata: { ...current.metadata, labels: { v: '2' } }, status: { phase: 'Failed' } };
      const updated = await call('PUT', '/api/v1/namespaces/default/pods/u', { body });
      expect(updated.status).toBe(200);
      expect(updated.json.metadata.labels).toEqual({ v: '2' });
      expect(updated.json.status).toEqual({ phase: 'Running' }); // the main endpoint never writes status
      expect(updated.json.metadata.uid).toBe(created.metadata.uid);
      expect(Number(updated.json.metadata.resourceVersion)).toBeGreaterThan(Number(current.metadata.resourceVersion));

      const stale = await call('PUT', '/api/v1/namespaces/default/pods/u', { body }); // still carries the old resourceVersion
      expect(stale.status).toBe(409);
      expect(stale.json).toEqual(
        status(
          409,
          'Conflict',
          'Operation cannot be fulfilled on pods "u": the object has been modified; please apply your changes to the latest version and try again',
          { name: 'u', kind: 'pods' },
        ),
      );
    });

    it('treats an unchanged PUT as a no-op that keeps the resourceVersion', async () => {
      const created = (await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('same') })).json;
      const again = await call('PUT', '/api/v1/namespaces/default/pods/same', { body: created });
      expect(again.json.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
      expect(api.resourceVersion()).toBe(Number(created.metadata.resourceVersion));
    });

    it('404s a PUT or PATCH of a missing pod and 400s a PUT whose name differs from the URL', async () => {
      expect((await call('PUT', '/api/v1/namespaces/default/pods/none', { body: podBody('none') })).status).toBe(404);
      expect(
        (await call('PATCH', '/api/v1/namespaces/default/pods/none', { body: {}, contentType: 'application/merge-patch+json' })).status,
      ).toBe(404);
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('p') });
      expect((await call('PUT', '/api/v1/namespaces/default/pods/p', { body: podBody('q') })).status).toBe(400);
    });

    it.each([
      ['application/merge-patch+json', { metadata: { labels: { a: '1', b: null } } }],
      ['application/strategic-merge-patch+json', { metadata: { labels: { a: '1', b: null } } }],
      ['application/json-patch+json', [{ op: 'add', path: '/metadata/labels/a', value: '1' }, { op: 'remove', path: '/metadata/labels/b' }]],
    ])('patches labels with %s', async (contentType, patch) => {
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('m', { metadata: { name: 'm', labels: { b: 'x', c: 'y' } } }) });
      const res = await call('PATCH', '/api/v1/namespaces/default/pods/m', { body: patch, contentType });
      expect(res.status).toBe(200);
      expect(res.json.metadata.labels).toEqual({ a: '1', c: 'y' });
    });

    it('refuses apply patches with 415, and a patch carrying a stale resourceVersion with 409', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('m') });
      const apply = await call('PATCH', '/api/v1/namespaces/default/pods/m', { body: {}, contentType: 'application/apply-patch+yaml' });
      expect([apply.status, apply.json.reason]).toEqual([415, 'UnsupportedMediaType']);
      const stale = await call('PATCH', '/api/v1/namespaces/default/pods/m', {
        body: { metadata: { resourceVersion: '999', labels: { a: 'b' } } },
        contentType: 'application/merge-patch+json',
      });
      expect([stale.status, stale.json.reason]).toEqual([409, 'Conflict']);
      const failedTest = await call('PATCH', '/api/v1/namespaces/default/pods/m', {
        body: [{ op: 'test', path: '/metadata/name', value: 'other' }],
        contentType: 'application/json-patch+json',
      });
      expect(failedTest.status).toBe(422);
    });

    it('reads and writes pod status only through /status', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('s') });
      const patched = await call('PATCH', '/api/v1/namespaces/default/pods/s/status', {
        body: { metadata: { labels: { ignored: 'yes' } }, status: { phase: 'Running', podIP: '10.1.0.4', podIPs: [{ ip: '10.1.0.4' }, { ip: 'fd00::4' }] } },
        contentType: 'application/merge-patch+json',
      });
      expect(patched.status).toBe(200);
      expect(patched.json.status).toEqual({ phase: 'Running', podIP: '10.1.0.4', podIPs: [{ ip: '10.1.0.4' }, { ip: 'fd00::4' }] });
      expect(patched.json.metadata.labels).toBeUndefined();

      const got = await call('GET', '/api/v1/namespaces/default/pods/s/status');
      expect(got.json.kind).toBe('Pod');
      expect(got.json.status.podIP).toBe('10.1.0.4');

      const put = await call('PUT', '/api/v1/namespaces/default/pods/s/status', {
        body: { ...got.json, spec: { nodeName: 'changed' }, status: { phase: 'Failed', reason: 'Evicted' } },
      });
      expect(put.json.status).toEqual({ phase: 'Failed', reason: 'Evicted' });
      expect(put.json.spec.nodeName).toBe('node-1');
      expect((await call('DELETE', '/api/v1/namespaces/default/pods/s/status')).status).toBe(405);
    });

    it('deletes a pod at once, returning it, and 404s a second delete', async () => {
      const created = (await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('d') })).json;
      const del = await call('DELETE', '/api/v1/namespaces/default/pods/d');
      expect(del.status).toBe(200);
      expect(del.json.metadata.uid).toBe(created.metadata.uid);
      expect(del.json.metadata.resourceVersion).toBe(String(api.resourceVersion()));
      expect((await call('GET', '/api/v1/namespaces/default/pods/d')).status).toBe(404);
      expect((await call('DELETE', '/api/v1/namespaces/default/pods/d')).json).toEqual(
        status(404, 'NotFound', 'pods "d" not found', { name: 'd', kind: 'pods' }),
      );
    });

    it('honours DeleteOptions preconditions', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', { body: podBody('d') });
      const wrongUid = await call('DELETE', '/api/v1/namespaces/default/pods/d', {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-it' } },
      });
      expect([wrongUid.status, wrongUid.json.reason]).toEqual([409, 'Conflict']);
      expect(wrongUid.json.message).toContain('Precondition failed: UID in precondition: not-it');
      const stale = await call('DELETE', '/api/v1/namespaces/default/pods/d', { body: { preconditions: { resourceVersion: '0' } } });
      expect(stale.status).toBe(409);
      expect((await call('GET', '/api/v1/namespaces/default/pods/d')).status).toBe(200);
    });

    it.each([
      ['POST', '/api/v1/pods'],
      ['DELETE', '/api/v1/namespaces/default/pods'],
      ['POST', '/api/v1/namespaces/default/pods/x'],
      ['PUT', '/api/v1/watch/namespaces/default/pods/x'],
    ])('answers %s %s with 405 MethodNotAllowed', async (method, path) => {
      const res = await call(method, path, { body: podBody('x') });
      expect(res.json).toEqual(status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    });

    it('refuses dryRun rather than persisting the write', async () => {
      const res = await call('POST', '/api/v1/namespaces/default/pods?dryRun=All', { body: podBody('dry') });
      expect(res.status).toBe(400);
      expect(await api.getPod('default', 'dry')).toBeUndefined();
    });
  });

  describe('namespaces and nodes', () => {
    it('creates a namespace as Active with its name label, lists, gets and 404s', async () => {
      const res = await call('POST', '/api/v1/namespaces', { body: { metadata: { name: 'team-a' } } });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({
        kind: 'Namespace',
        metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
      expect(res.json.metadata.namespace).toBeUndefined();
      expect((await call('GET', '/api/v1/namespaces')).json).toMatchObject({ kind: 'NamespaceList', items: [{ metadata: { name: 'team-a' } }] });
      expect((await call('GET', '/api/v1/namespaces/team-a')).json.metadata.name).toBe('team-a');
      expect((await call('GET', '/api/v1/namespaces/nope')).json).toEqual(
        status(404, 'NotFound', 'namespaces "nope" not found', { name: 'nope', kind: 'namespaces' }),
      );
      expect((await call('POST', '/api/v1/namespaces', { body: { metadata: { name: 'has.dot' } } })).status).toBe(422);
    });

    it('deletes a namespace together with its pods', async () => {
      await api.createNamespace('gone');
      await api.createPod({ metadata: { namespace: 'gone', name: 'p' } });
      await api.createPod({ metadata: { namespace: 'kept', name: 'p' } });
      const del = await call('DELETE', '/api/v1/namespaces/gone');
      expect(del.status).toBe(200);
      expect((await call('GET', '/api/v1/pods')).json.items.map((p: { metadata: { namespace: string } }) => p.metadata.namespace)).toEqual(['kept']);
    });

    it('keeps a node\'s status on create, patches labels, and serves node status', async () => {
      const node = { metadata: { name: 'node-1' }, spec: { podCIDR: '10.0.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.1' }] } };
      const res = await call('POST', '/api/v1/nodes', { body: node });
      expect(res.json.status).toEqual(node.status);
      const labelled = await call('PATCH', '/api/v1/nodes/node-1', {
        body: { metadata: { labels: { zone: 'a' } } },
        contentType: 'application/strategic-merge-patch+json',
      });
      expect(labelled.json.metadata.labels).toEqual({ zone: 'a' });
      expect((await call('GET', '/api/v1/nodes?labelSelector=zone%3Da')).json.items).toHaveLength(1);
      expect((await call('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dnode-2')).json.items).toHaveLength(0);
      expect((await call('GET', '/api/v1/nodes/node-1/status')).json.status.addresses[0].address).toBe('192.168.1.1');
      expect((await call('DELETE', '/api/v1/nodes/node-1')).status).toBe(200);
      expect((await call('GET', '/api/v1/nodes/node-1')).status).toBe(404);
    });
  });

  describe('kubectl table output', () => {
    it('answers an Accept for meta.k8s.io Table with pod rows', async () => {
      await api.createPod({ metadata: { name: 'web' }, spec: { nodeName: 'node-1', containers: [{ name: 'c' }] } });
      await api.setPodStatus('default', 'web', { phase: 'Running', podIP: '10.0.0.9' });
      const res = await call('GET', '/api/v1/namespaces/default/pods', {
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      });
      expect(res.json.kind).toBe('Table');
      expect(res.json.apiVersion).toBe('meta.k8s.io/v1');
      expect(res.json.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
        'Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates',
      ]);
      expect(res.json.rows[0].cells.slice(0, 4)).toEqual(['web', '0/1', 'Running', 0]);
      expect(res.json.rows[0].cells.slice(5, 7)).toEqual(['10.0.0.9', 'node-1']);
      expect(res.json.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'web', namespace: 'default' } });
    });
  });
});

describe('Kubernetes API stand-in options', () => {
  it('requires the bearer token when one is configured (401 Status otherwise)', async () => {
    const api = await startKubeApiStandIn({ token: 't0ken' });
    try {
      for (const token of [undefined, 'wrong']) {
        const res = await request(api.url, 'GET', '/api/v1/pods', { token });
        expect(res.status).toBe(401);
        expect(res.json).toEqual(status(401, 'Unauthorized', 'Unauthorized'));
      }
      expect((await request(api.url, 'GET', '/api', { token: 'wrong' })).status).toBe(401);
      expect((await request(api.url, 'GET', '/api/v1/pods', { token: 't0ken' })).status).toBe(200);
    } finally {
      await api.stop();
    }
  });

  it('with strictNamespaces, refuses pods in a namespace that does not exist', async () => {
    const api = await startKubeApiStandIn({ strictNamespaces: true });
    try {
      const res = await request(api.url, 'POST', '/api/v1/namespaces/nope/pods', { body: podBody('p') });
      expect(res.json).toEqual(status(404, 'NotFound', 'namespaces "nope" not found', { name: 'nope', kind: 'namespaces' }));
      await api.createNamespace('yes');
      expect((await request(api.url, 'POST', '/api/v1/namespaces/yes/pods', { body: podBody('p') })).status).toBe(201);
    } finally {
      await api.stop();
    }
  });

  it('without strictNamespaces, creates pods anywhere and defaults the helper\'s namespace to default', async () => {
    const api = await startKubeApiStandIn();
    try {
      expect((await request(api.url, 'POST', '/api/v1/namespaces/nope/pods', { body: podBody('p') })).status).toBe(201);
      expect((await api.createPod({ metadata: { name: 'q' } })).metadata.namespace).toBe('default');
    } finally {
      await api.stop();
    }
  });

  it('listens on 127.0.0.1 only, writes a kubeconfig and removes it on stop', async () => {
    const fs = await import('node:fs');
    const api = await startKubeApiStandIn();
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const text = fs.readFileSync(api.kubeconfigPath, 'utf8');
    expect(text).toContain(`server: "${api.url}"`);
    expect(text).toContain('insecure-skip-tls-verify: true');
    expect(fs.statSync(api.kubeconfigPath).mode & 0o777).toBe(0o600);
    await api.stop();
    await api.stop(); // idempotent
    expect(fs.existsSync(api.kubeconfigPath)).toBe(false);
    await expect(request(api.url, 'GET', '/api')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('rejects helper writes with the same ApiError the HTTP route answers', async () => {
    const api = await startKubeApiStandIn();
    try {
      await api.createNode('n1');
      await expect(api.createNode('n1')).rejects.toMatchObject({ code: 409, status: { reason: 'AlreadyExists' } });
      await expect(api.deletePod('default', 'none')).rejects.toMatchObject({ code: 404 });
      await expect(api.labelNode('n1', { a: 'b' })).resolves.toMatchObject({ metadata: { labels: { a: 'b' } } });
      await expect(api.labelNode('n1', { a: null })).resolves.toMatchObject({ metadata: { labels: {} } });
    } finally {
      await api.stop();
    }
  });
});

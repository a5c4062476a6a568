import { startKubeApiStandIn, type KubeApiStandIn } from '../../k8s-api';
import { startClientNodeDriver, type ClientNodeDriver } from './support/client-node-driver';

// The real @kubernetes/client-node 1.4.0 (run in a child process: it is an ES module)
// against the stand-in, through the kubeconfig the stand-in writes.

const pod = (namespace: string, name: string, nodeName: string, labels: Record<string, string> = {}) => ({
  metadata: { namespace, name, labels },
  spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
});

describe('@kubernetes/client-node against the stand-in', () => {
  let standIn: KubeApiStandIn;
  let client: ClientNodeDriver;

  beforeEach(async () => {
    standIn = await startKubeApiStandIn();
    client = await startClientNodeDriver(standIn.kubeconfigPath);
  });

  afterEach(async () => {
    await client.stop();
    await standIn.stop();
  });

  it('reads a pod with readNamespacedPod and gets a 404 ApiException for a missing one', async () => {
    await standIn.createPod(pod('default', 'web-1', 'node-1'));
    await standIn.setPodStatus('default', 'web-1', { phase: 'Running', podIP: '10.0.0.7', podIPs: [{ ip: '10.0.0.7' }] });

    const found = await client.call('readNamespacedPod', { namespace: 'default', name: 'web-1' });
    expect(found.ok).toBe(true);
    expect(found.result.metadata.name).toBe('web-1');
    expect(found.result.spec.nodeName).toBe('node-1');
    expect(found.result.status).toEqual({ phase: 'Running', podIP: '10.0.0.7', podIPs: [{ ip: '10.0.0.7' }] });

    const missing = await client.call('readNamespacedPod', { namespace: 'default', name: 'nope' });
    expect(missing.ok).toBe(false);
    expect(missing.code).toBe(404);
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
  });

  it('reads namespaces and nodes', async () => {
    await standIn.createNamespace('team-a');
    await standIn.createNode({ metadata: { name: 'node-1', labels: { zone: 'a' } } });
    expect((await client.call('readNamespace', { name: 'team-a' })).result.name).toBe('team-a');
    expect((await client.call('readNode', { name: 'node-1' })).result.labels).toEqual({ zone: 'a' });
    expect((await client.call('readNode', { name: 'node-9' })).code).toBe(404);
  });

  it('lists pods with field and label selectors, in one namespace and across all', async () => {
    await standIn.createPod(pod('default', 'a', 'node-1', { app: 'web' }));
    await standIn.createPod(pod('default', 'b', 'node-2', { app: 'web' }));
    await standIn.createPod(pod('other', 'c', 'node-1', { app: 'db' }));

    const onNode1 = await client.call('listPodForAllNamespaces', { fieldSelector: 'spec.nodeName=node-1' });
    expect(onNode1.result).toEqual({ kind: 'PodList', resourceVersion: String(standIn.resourceVersion()), names: ['default/a', 'other/c'] });

    const webInDefault = await client.call('listNamespacedPod', { namespace: 'default', labelSelector: 'app in (web)' });
    expect(webInDefault.result.names).toEqual(['default/a', 'default/b']);

    const notNode1 = await client.call('listNamespacedPod', { namespace: 'default', fieldSelector: 'spec.nodeName!=node-1' });
    expect(notNode1.result.names).toEqual(['default/b']);
  });

  it('creates, JSON-patches (the client default) and deletes a pod', async () => {
    const created = await client.call('createNamespacedPod', { namespace: 'default', body: pod('default', 'p', 'node-1') });
    expect(created.ok).toBe(true);
    const patched = await client.call('patchNamespacedPod', {
      namespace: 'default',
      name: 'p',
      body: [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }],
    });
    expect(patched.result.labels).toEqual({ tier: 'front' });
    expect((await client.call('deleteNamespacedPod', { namespace: 'default', name: 'p' })).ok).toBe(true);
    expect(await standIn.getPod('default', 'p')).toBeUndefined();
  });

  it('runs an informer on spec.nodeName=node-1 that sees adds, updates and deletes of that node\'s pods only', async () => {
    await standIn.createPod(pod('default', 'before', 'node-1'));
    await standIn.createPod(pod('default', 'elsewhere', 'node-2'));
    await client.call('startInformer', { path: '/api/v1/pods?fieldSelector=spec.nodeName=node-1', fieldSelector: 'spec.nodeName=node-1' });
    await client.waitForEvent((e) => e.event === 'add' && e.name === 'before');

    await standIn.createPod(pod('default', 'live', 'node-1'));
    await client.waitForEvent((e) => e.event === 'add' && e.name === 'live');
    await standIn.patchPod('default', 'live', { metadata: { labels: { v: '2' } } });
    await client.waitForEvent((e) => e.event === 'update' && e.name === 'live' && e.labels?.v === '2');
    await standIn.deletePod('default', 'live');
    await client.waitForEvent((e) => e.event === 'delete' && e.name === 'live');
    await standIn.deletePod('default', 'elsewhere');
    await standIn.deletePod('default', 'before');
    await client.waitForEvent((e) => e.event === 'delete' && e.name === 'before');

    const state = await client.call('informerState');
    expect(state.result.names).toEqual([]);
    expect(client.events.some((e) => e.name === 'elsewhere')).toBe(false);
    expect(client.events.filter((e) => e.event === 'error')).toEqual([]);
  });

  it('re-lists after a 410 Expired and reconciles what changed while it was away', async () => {
    await standIn.createPod(pod('default', 'stays', 'node-1'));
    await standIn.createPod(pod('default', 'goes', 'node-1'));
    await client.call('startInformer', { path: '/api/v1/pods?fieldSelector=spec.nodeName=node-1', fieldSelector: 'spec.nodeName=node-1' });
    await client.waitForEvent((e) => e.event === 'add' && e.name === 'goes');
    expect(client.events.filter((e) => e.event === 'list')).toHaveLength(1);

    // End the watch (as an apiserver timeout does) and, before the client can reconnect,
    // change node-1's pods and compact the history past the client's resourceVersion.
    // Nothing below yields to I/O, so the client's resume necessarily comes after.
    standIn.closeWatches();
    await standIn.deletePod('default', 'goes');
    await standIn.createPod(pod('default', 'new', 'node-1'));
    standIn.compactHistory();

    await client.waitForEvent((e) => e.event === 'list' && e.count === 2);
    await client.waitForEvent((e) => e.event === 'delete' && e.name === 'goes');
    await client.waitForEvent((e) => e.event === 'add' && e.name === 'new');
    expect((await client.call('informerState')).result.names).toEqual(['default/new', 'default/stays']);

    // and the new watch is live
    await standIn.patchPod('default', 'stays', { metadata: { labels: { after: 'relist' } } });
    await client.waitForEvent((e) => e.event === 'update' && e.name === 'stays' && e.labels?.after === 'relist');
    expect(client.events.filter((e) => e.event === 'error')).toEqual([]);
    await client.call('stopInformer');
  });
});

describe('@kubernetes/client-node with a bearer token', () => {
  it('sends the kubeconfig token and gets 401 with a wrong one (loadFromOptions)', async () => {
    const standIn = await startKubeApiStandIn({ token: 'right-token' });
    const client = await startClientNodeDriver(standIn.kubeconfigPath);
    try {
      await standIn.createNamespace('ns1');
      expect((await client.call('readNamespace', { name: 'ns1' })).result.name).toBe('ns1');
      const options = {
        clusters: [{ name: 'c', server: standIn.url, skipTLSVerify: true }],
        users: [{ name: 'u', token: 'wrong-token' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      };
      const denied = await client.call('readNamespaceWith', { options, name: 'ns1' });
      expect(denied.ok).toBe(false);
      expect(denied.code).toBe(401);
    } finally {
      await client.stop();
      await standIn.stop();
    }
  });
});

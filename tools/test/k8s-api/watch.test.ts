import { startKubeApiStandIn, type KubeApiStandIn } from '../../k8s-api';
import { openWatch, request, type RawWatch, type WatchLine } from './support/raw-http';

// Watch streams over plain HTTP: framing, event sequences, resume, selectors, bookmarks,
// expiry and shutdown.

const pod = (name: string, nodeName = 'node-1', labels: Record<string, string> = {}, namespace = 'default') => ({
  metadata: { name, namespace, labels },
  spec: { nodeName },
});

/** `TYPE name@rv` — compact enough to compare whole sequences. */
const summary = (e: WatchLine) =>
  e.type === 'BOOKMARK' || e.type === 'ERROR'
    ? e.type
    : `${e.type} ${e.object.metadata.namespace ? `${e.object.metadata.namespace}/` : ''}${e.object.metadata.name}@${e.object.metadata.resourceVersion}`;

describe('watch streams', () => {
  let api: KubeApiStandIn;
  const watches: RawWatch[] = [];
  const watch = async (path: string) => {
    const w = await openWatch(api.url, path);
    watches.push(w);
    return w;
  };

  beforeEach(async () => {
    api = await startKubeApiStandIn({ historyLimit: 1000 });
  });
  afterEach(async () => {
    for (const w of watches.splice(0)) w.close();
    await api.stop();
  });

  it('streams ADDED, MODIFIED and DELETED as one JSON object per line, with global resourceVersions', async () => {
    await api.createNamespace('ns'); // rv 1: revisions are shared by all kinds
    const w = await watch(`/api/v1/pods?watch=true&resourceVersion=${api.resourceVersion()}`);
    expect(w.status).toBe(200);
    expect(w.headers['content-type']).toBe('application/json');
    expect(w.headers['transfer-encoding']).toBe('chunked');

    await api.createPod(pod('a'));
    await api.setPodStatus('default', 'a', { phase: 'Running' });
    await api.deletePod('default', 'a');
    const events = await w.take(3);
    expect(events.map(summary)).toEqual(['ADDED default/a@2', 'MODIFIED default/a@3', 'DELETED default/a@4']);
    expect(events[0]!.object).toMatchObject({ kind: 'Pod', apiVersion: 'v1' });
    expect(events[1]!.object.status).toEqual({ phase: 'Running' });
  });

  it('starts with the current state as ADDED events when no resourceVersion (or 0) is given', async () => {
    await api.createPod(pod('a'));
    await api.createPod(pod('b'));
    for (const query of ['watch=true', 'watch=1&resourceVersion=0']) {
      const w = await watch(`/api/v1/namespaces/default/pods?${query}`);
      expect((await w.take(2)).map(summary)).toEqual(['ADDED default/a@1', 'ADDED default/b@2']);
    }
  });

  it('resumes from a resourceVersion by replaying the history after it', async () => {
    await api.createPod(pod('a'));
    const rv = api.resourceVersion();
    await api.createPod(pod('b'));
    await api.patchPod('default', 'a', { metadata: { labels: { x: 'y' } } });
    const w = await watch(`/api/v1/pods?watch=true&resourceVersion=${rv}`);
    expect((await w.take(2)).map(summary)).toEqual(['ADDED default/b@2', 'MODIFIED default/a@3']);
    await api.deletePod('default', 'b');
    expect(summary(await w.next())).toBe('DELETED default/b@4');
  });

  it('resuming from a resourceVersion ahead of the store skips changes up to it', async () => {
    const w = await watch('/api/v1/pods?watch=true&resourceVersion=2');
    await api.createPod(pod('a')); // rv 1
    await api.createPod(pod('b')); // rv 2
    await api.createPod(pod('c')); // rv 3
    expect(summary(await w.next())).toBe('ADDED default/c@3');
    expect(w.events).toHaveLength(1);
  });

  it('scopes a namespaced watch to its namespace, and serves the /watch/ path prefix', async () => {
    const inA = await watch('/api/v1/namespaces/a/pods?watch=true&resourceVersion=0');
    const prefixed = await watch('/api/v1/watch/namespaces/a/pods');
    const all = await watch('/api/v1/pods?watch=true&resourceVersion=0');
    await api.createPod(pod('x', 'node-1', {}, 'b'));
    await api.createPod(pod('y', 'node-1', {}, 'a'));
    expect((await all.take(2)).map(summary)).toEqual(['ADDED b/x@1', 'ADDED a/y@2']);
    expect(summary(await inA.next())).toBe('ADDED a/y@2');
    expect(summary(await prefixed.next())).toBe('ADDED a/y@2');
    expect(inA.events).toHaveLength(1);
  });

  it('watches one object through its own path', async () => {
    const w = await watch('/api/v1/namespaces/default/pods/target?watch=true');
    await api.createPod(pod('other'));
    await api.createPod(pod('target'));
    expect(summary(await w.next())).toBe('ADDED default/target@2');
  });

  it('sends an object that starts matching the selector as ADDED and one that stops as DELETED', async () => {
    await api.createPod(pod('p', 'node-1', { app: 'db' }));
    const w = await watch(`/api/v1/pods?watch=true&resourceVersion=${api.resourceVersion()}&labelSelector=app%3Dweb`);
    await api.patchPod('default', 'p', { metadata: { labels: { app: 'web' } } }); // 2: now matches
    await api.patchPod('default', 'p', { metadata: { labels: { tier: 'front' } } }); // 3: still matches
    await api.patchPod('default', 'p', { metadata: { labels: { app: 'db' } } }); // 4: stops matching
    await api.patchPod('default', 'p', { metadata: { labels: { tier: 'back' } } }); // 5: not seen
    await api.patchPod('default', 'p', { metadata: { labels: { app: 'web' } } }); // 6
    const events = await w.take(4);
    expect(events.map(summary)).toEqual(['ADDED default/p@2', 'MODIFIED default/p@3', 'DELETED default/p@4', 'ADDED default/p@6']);
    // the DELETED event carries the last state that matched, stamped with the change's revision
    expect(events[2]!.object.metadata.labels).toEqual({ app: 'web', tier: 'front' });
  });

  it.each([
    ['fieldSelector=spec.nodeName%3Dnode-1', ['ADDED default/on1@1', 'DELETED default/on1@3']],
    ['fieldSelector=spec.nodeName!%3Dnode-1', ['ADDED default/on2@2', 'MODIFIED default/on2@4']],
    ['fieldSelector=status.phase%3DRunning', ['ADDED default/on2@4']],
    ['labelSelector=!team', ['ADDED default/on1@1', 'DELETED default/on1@3']],
  ])('applies %s to watch events', async (selector, expected) => {
    const w = await watch(`/api/v1/pods?watch=true&resourceVersion=0&${selector}`);
    await api.createPod(pod('on1', 'node-1'));
    await api.createPod(pod('on2', 'node-2', { team: 'x' }));
    await api.deletePod('default', 'on1');
    await api.setPodStatus('default', 'on2', { phase: 'Running' });
    await api.createNode('marker'); // rv 5: a later event of another kind flushes nothing into this watch
    await new Promise((r) => setTimeout(r, 50));
    expect(w.events.map(summary)).toEqual(expected);
  });

  it('watches nodes and namespaces, and a namespace delete sends its pods\' deletes first', async () => {
    const nodes = await watch('/api/v1/nodes?watch=true&resourceVersion=0');
    const namespaces = await watch('/api/v1/namespaces?watch=true&resourceVersion=0');
    const pods = await watch('/api/v1/pods?watch=true&resourceVersion=0');
    await api.createNode('n1');
    await api.labelNode('n1', { zone: 'a' });
    await api.createNamespace('team');
    await api.createPod(pod('p', 'n1', {}, 'team'));
    await api.deleteNamespace('team');
    expect((await nodes.take(2)).map(summary)).toEqual(['ADDED n1@1', 'MODIFIED n1@2']);
    expect((await namespaces.take(2)).map(summary)).toEqual(['ADDED team@3', 'DELETED team@6']);
    expect((await pods.take(2)).map(summary)).toEqual(['ADDED team/p@4', 'DELETED team/p@5']);
  });

  it('sends BOOKMARK events with the current resourceVersion only when allowWatchBookmarks=true', async () => {
    await api.stop();
    api = await startKubeApiStandIn({ bookmarkIntervalMs: 40 });
    await api.createPod(pod('a'));
    const plain = await watch('/api/v1/pods?watch=true&resourceVersion=1');
    const bookmarked = await watch('/api/v1/pods?watch=true&resourceVersion=1&allowWatchBookmarks=true');
    await api.createNode('elsewhere'); // rv 2, not a pod
    const bookmark = await bookmarked.next(1000);
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '2' } } });
    await bookmarked.next(1000); // periodic
    expect(plain.events).toEqual([]);
  });

  it('with sendInitialEvents=true sends the state, then a bookmark marking its end', async () => {
    await api.createPod(pod('a'));
    const w = await watch('/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
    const [added, end] = await w.take(2);
    expect(summary(added!)).toBe('ADDED default/a@1');
    expect(end).toEqual({
      type: 'BOOKMARK',
      object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '1', annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
  });

  it('answers a resourceVersion older than the kept history with one 410 Expired ERROR event and ends the stream', async () => {
    await api.stop();
    api = await startKubeApiStandIn({ historyLimit: 2 });
    for (const name of ['a', 'b', 'c', 'd']) await api.createPod(pod(name)); // history keeps rv 3 and 4
    const old = await watch('/api/v1/pods?watch=true&resourceVersion=1');
    expect(old.status).toBe(200);
    await old.ended;
    expect(old.events).toEqual([
      {
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 1 (3)', reason: 'Expired', code: 410 },
      },
    ]);
    // the oldest revision still covered by history resumes normally
    const fresh = await watch('/api/v1/pods?watch=true&resourceVersion=2');
    expect((await fresh.take(2)).map(summary)).toEqual(['ADDED default/c@3', 'ADDED default/d@4']);
  });

  it('expires every older start after compactHistory()', async () => {
    await api.createPod(pod('a'));
    await api.createPod(pod('b'));
    api.compactHistory();
    const w = await watch('/api/v1/pods?watch=true&resourceVersion=1');
    await w.ended;
    expect(w.events.map((e) => [e.type, e.object.code])).toEqual([['ERROR', 410]]);
    const current = await watch(`/api/v1/pods?watch=true&resourceVersion=${api.resourceVersion()}`);
    await api.deletePod('default', 'a');
    expect(summary(await current.next())).toBe('DELETED default/a@3');
  });

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now();
    const w = await watch('/api/v1/pods?watch=true&timeoutSeconds=1');
    await w.ended;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each([
    ['watch=true&resourceVersion=abc'],
    ['watch=true&timeoutSeconds=-1'],
    ['watch=maybe'],
    ['watch=true&labelSelector=in%20in'],
    ['watch=true&fieldSelector=spec.foo%3Dbar'],
  ])('refuses %s with 400 before streaming', async (query) => {
    const res = await request(api.url, 'GET', `/api/v1/pods?${query}`);
    expect([res.status, res.json.reason]).toEqual([400, 'BadRequest']);
  });

  it('forgets a watch the client closed, and ends open ones on closeWatches() and stop()', async () => {
    const a = await watch('/api/v1/pods?watch=true');
    const b = await watch('/api/v1/nodes?watch=true');
    expect(api.openWatchCount()).toBe(2);
    a.close();
    for (let i = 0; i < 50 && api.openWatchCount() !== 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(api.openWatchCount()).toBe(1);
    api.closeWatches();
    await b.ended;
    expect(api.openWatchCount()).toBe(0);

    const c = await watch('/api/v1/pods?watch=true');
    await api.stop();
    await c.ended;
  });

  it('requires the token for watches too', async () => {
    await api.stop();
    api = await startKubeApiStandIn({ token: 'tok' });
    expect((await request(api.url, 'GET', '/api/v1/pods?watch=true')).status).toBe(401);
    const w = await openWatch(api.url, '/api/v1/pods?watch=true', { token: 'tok' });
    watches.push(w);
    expect(w.status).toBe(200);
  });
});

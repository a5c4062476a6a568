import { applyJsonPatch, applyMergePatch, applyPatch } from '../../k8s-api/patch';
import { parseRoute } from '../../k8s-api/routes';
import { ApiError } from '../../k8s-api/status';
import { humanDuration, tableRequested } from '../../k8s-api/table';

// Pure pieces, table by table: patch documents, URL routing, kubectl table negotiation.

describe('JSON merge patch (RFC 7386)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j patched with %j is %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('does not modify its input', () => {
    const target = { metadata: { labels: { a: '1' } } };
    applyMergePatch(target, { metadata: { labels: { a: null } } });
    expect(target).toEqual({ metadata: { labels: { a: '1' } } });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { name: 'p', labels: { a: '1' } }, list: ['x', 'y'] };
  it.each([
    [[{ op: 'add', path: '/metadata/labels/b', value: '2' }], { metadata: { name: 'p', labels: { a: '1', b: '2' } }, list: ['x', 'y'] }],
    [[{ op: 'remove', path: '/metadata/labels/a' }], { metadata: { name: 'p', labels: {} }, list: ['x', 'y'] }],
    [[{ op: 'replace', path: '/metadata/name', value: 'q' }], { metadata: { name: 'q', labels: { a: '1' } }, list: ['x', 'y'] }],
    [[{ op: 'add', path: '/list/-', value: 'z' }], { ...doc, list: ['x', 'y', 'z'] }],
    [[{ op: 'add', path: '/list/0', value: 'w' }], { ...doc, list: ['w', 'x', 'y'] }],
    [[{ op: 'remove', path: '/list/1' }], { ...doc, list: ['x'] }],
    [[{ op: 'move', from: '/list', path: '/moved' }], { metadata: doc.metadata, moved: ['x', 'y'] }],
    [[{ op: 'copy', from: '/metadata/name', path: '/copy' }], { ...doc, copy: 'p' }],
    [[{ op: 'test', path: '/metadata/labels', value: { a: '1' } }], doc],
    [[{ op: 'add', path: '/metadata/labels/x~1y', value: 'z' }], { ...doc, metadata: { name: 'p', labels: { a: '1', 'x/y': 'z' } } }],
  ])('applies %j', (ops, expected) => {
    expect(applyJsonPatch(doc, ops)).toEqual(expected);
  });

  it.each([
    [[{ op: 'test', path: '/metadata/name', value: 'other' }], 422],
    [[{ op: 'remove', path: '/nope' }], 422],
    [[{ op: 'replace', path: '/nope/deeper', value: 1 }], 422],
    [[{ op: 'add', path: '/list/9', value: 1 }], 422],
    [[{ op: 'frobnicate', path: '/a' }], 400],
    [{ op: 'add' }, 400],
  ])('refuses %j with %i', (ops, code) => {
    expect(() => applyJsonPatch(doc, ops)).toThrow(ApiError);
    try {
      applyJsonPatch(doc, ops);
    } catch (err) {
      expect((err as ApiError).code).toBe(code);
    }
  });

  it('picks the patch kind from the Content-Type and 415s the others', () => {
    expect(applyPatch('application/merge-patch+json; charset=utf-8', { a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
    expect(applyPatch('application/strategic-merge-patch+json', { a: 1 }, { a: null })).toEqual({});
    expect(applyPatch('application/json-patch+json', { a: 1 }, [{ op: 'remove', path: '/a' }])).toEqual({});
    expect(() => applyPatch('application/apply-patch+yaml', {}, {})).toThrow('unknown format');
  });
});

describe('routes', () => {
  const r = (path: string) => {
    const route = parseRoute(path);
    switch (route.kind) {
      case 'collection':
        return `${route.kind} ${route.resource.name} ns=${route.namespace ?? '-'}${route.watchPrefix ? ' watch' : ''}`;
      case 'object':
        return `${route.kind} ${route.resource.name} ns=${route.namespace ?? '-'} ${route.name}${route.subresource ? `/${route.subresource}` : ''}${route.watchPrefix ? ' watch' : ''}`;
      case 'discovery':
        return `discovery ${route.document}`;
      default:
        return route.kind;
    }
  };
  it.each([
    ['/api', 'discovery api'],
    ['/api/', 'discovery api'],
    ['/api/v1', 'discovery apiV1'],
    ['/apis', 'discovery apis'],
    ['/version', 'discovery version'],
    ['/healthz', 'health'],
    ['/api/v1/pods', 'collection pods ns=-'],
    ['/api/v1/namespaces/default/pods', 'collection pods ns=default'],
    ['/api/v1/namespaces/default/pods/web-1', 'object pods ns=default web-1'],
    ['/api/v1/namespaces/default/pods/web-1/status', 'object pods ns=default web-1/status'],
    ['/api/v1/namespaces/default/pods/a%2Fb', 'object pods ns=default a/b'],
    ['/api/v1/watch/namespaces/default/pods', 'collection pods ns=default watch'],
    ['/api/v1/watch/pods', 'collection pods ns=- watch'],
    ['/api/v1/namespaces', 'collection namespaces ns=-'],
    ['/api/v1/namespaces/default', 'object namespaces ns=- default'],
    ['/api/v1/namespaces/default/status', 'object namespaces ns=- default/status'],
    ['/api/v1/watch/namespaces/default', 'object namespaces ns=- default watch'],
    ['/api/v1/nodes', 'collection nodes ns=-'],
    ['/api/v1/nodes/node-1', 'object nodes ns=- node-1'],
    ['/api/v1/nodes/node-1/status', 'object nodes ns=- node-1/status'],
    ['/api/v1/pods/web-1', 'unknown'],
    ['/api/v1/namespaces/default/nodes', 'unknown'],
    ['/api/v1/namespaces/default/pods/web-1/log', 'unknown'],
    ['/api/v1/namespaces/default/finalize', 'unknown'],
    ['/api/v1/services', 'unknown'],
    ['/api/v2/pods', 'unknown'],
    ['/apis/apps/v1', 'discovery appsV1'],
    ['/apis/apps/v1/namespaces/db/statefulsets', 'collection statefulsets ns=db'],
    ['/apis/apps/v1/namespaces/db/statefulsets/pg', 'object statefulsets ns=db pg'],
    ['/apis/apps/v1/watch/statefulsets', 'collection statefulsets ns=- watch'],
    ['/apis/apps/v1/namespaces/db/pods', 'unknown'],
    ['/api/v1/namespaces/db/statefulsets', 'unknown'],
    ['/apis/apps/v1/deployments', 'unknown'],
    ['/api/v1/namespaces/%E0%A4%A/pods', 'unknown'],
  ])('%s → %s', (path, expected) => {
    expect(r(path)).toBe(expected);
  });
});

describe('kubectl table negotiation', () => {
  it.each([
    ['application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'v1'],
    ['application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json', 'v1beta1'],
    ['application/json', undefined],
    ['application/json, */*;q=0.8', undefined],
    [undefined, undefined],
    ['application/json;as=Table;v=v2;g=meta.k8s.io', undefined],
  ])('Accept %j asks for table version %j', (accept, version) => {
    expect(tableRequested(accept)?.version).toBe(version);
  });

  it.each([
    [0, '0s'],
    [59_000, '59s'],
    [119_000, '119s'],
    [150_000, '2m30s'],
    [600_000, '10m'],
    [3 * 3600_000 + 60_000, '3h1m'],
    [30 * 3600_000, '30h'],
    [50 * 3600_000, '2d2h'],
    [400 * 86400_000, '400d'],
    [800 * 86400_000, '2y'],
  ])('AGE of %i ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

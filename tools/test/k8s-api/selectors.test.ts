import { RESOURCES } from '../../k8s-api/resources';
import { compileSelectors, labelsMatch, parseFieldSelector, parseLabelSelector } from '../../k8s-api/selectors';
import { ApiError } from '../../k8s-api/status';
import type { KubeObject } from '../../k8s-api/types';

// The selector grammar and semantics of k8s.io/apimachinery, case by case.

describe('field selectors', () => {
  it.each([
    ['', []],
    ['spec.nodeName=node-1', [{ field: 'spec.nodeName', op: '=', value: 'node-1' }]],
    ['spec.nodeName==node-1', [{ field: 'spec.nodeName', op: '=', value: 'node-1' }]],
    ['spec.nodeName!=node-1', [{ field: 'spec.nodeName', op: '!=', value: 'node-1' }]],
    ['spec.nodeName=', [{ field: 'spec.nodeName', op: '=', value: '' }]],
    [
      'metadata.namespace=a,status.phase!=Failed',
      [
        { field: 'metadata.namespace', op: '=', value: 'a' },
        { field: 'status.phase', op: '!=', value: 'Failed' },
      ],
    ],
    ['metadata.name=a\\,b\\=c\\\\', [{ field: 'metadata.name', op: '=', value: 'a,b=c\\' }]],
  ])('parses %j', (selector, expected) => {
    expect(parseFieldSelector(selector)).toEqual(expected);
  });

  it.each([['spec.nodeName'], ['a=b,c'], ['metadata.name=a\\x']])('refuses %j with 400', (selector) => {
    expect(() => parseFieldSelector(selector)).toThrow(ApiError);
    try {
      parseFieldSelector(selector);
    } catch (err) {
      expect((err as ApiError).code).toBe(400);
    }
  });
});

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', n: '5', empty: '' };

  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true], // absent labels satisfy !=
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db,cache)', true],
    ['missing notin (x)', true],
    ['app notin (web)', false],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['app in (web), !missing, tier', true],
    ['empty=', true],
    ['empty in (,x)', true],
    ['n>4', true],
    ['n<5', false],
    ['app>1', false], // not an integer label value
    ['  app  =  web  ', true],
    ['example.com/role=x', false],
  ])('%j against {app:web,tier:front,n:5,empty:""} is %s', (selector, expected) => {
    expect(labelsMatch(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('treats an object without labels as having none', () => {
    expect(labelsMatch(parseLabelSelector('!app'), undefined)).toBe(true);
    expect(labelsMatch(parseLabelSelector('app'), undefined)).toBe(false);
  });

  it.each([['app in web'], ['app in ()'], ['=web'], ['app=web,'], ['app in (a b)'], ['n>x'], ['app=(x)'], ['!']])(
    'refuses %j with 400',
    (selector) => {
      let error: unknown;
      try {
        parseLabelSelector(selector);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe(400);
    },
  );
});

describe('selectors compiled for one kind', () => {
  const podOn = (nodeName: string, phase: string, labels: Record<string, string> = {}): KubeObject => ({
    kind: 'Pod',
    metadata: { name: `p-${nodeName}`, namespace: 'ns', labels },
    spec: { nodeName, hostNetwork: true },
    status: { phase, podIP: '10.0.0.1' },
  });

  it.each([
    [{ fieldSelector: 'spec.nodeName=node-1' }, true],
    [{ fieldSelector: 'spec.nodeName=node-2' }, false],
    [{ fieldSelector: 'spec.nodeName!=node-2,status.phase=Running' }, true],
    [{ fieldSelector: 'metadata.namespace=ns,metadata.name=p-node-1' }, true],
    [{ fieldSelector: 'spec.hostNetwork=true' }, true],
    [{ fieldSelector: 'status.podIP=10.0.0.1' }, true],
    [{ fieldSelector: 'spec.nodeName=node-1', labelSelector: 'app=web' }, true],
    [{ fieldSelector: 'spec.nodeName=node-1', labelSelector: 'app=db' }, false],
  ])('pods: %j matches a Running web pod on node-1: %s', (selectors, expected) => {
    expect(compileSelectors(RESOURCES.pods, selectors)(podOn('node-1', 'Running', { app: 'web' }))).toBe(expected);
  });

  it.each([
    ['pods', 'spec.unschedulable=true'],
    ['nodes', 'spec.nodeName=x'],
    ['namespaces', 'spec.nodeName=x'],
  ] as const)('%s: refuses the unsupported field in %j with 400', (resource, fieldSelector) => {
    expect(() => compileSelectors(RESOURCES[resource], { fieldSelector })).toThrow('field label not supported');
  });

  it('nodes: matches spec.unschedulable and metadata.name', () => {
    const node: KubeObject = { metadata: { name: 'n1' }, spec: { unschedulable: true } };
    expect(compileSelectors(RESOURCES.nodes, { fieldSelector: 'spec.unschedulable=true,metadata.name=n1' })(node)).toBe(true);
    expect(compileSelectors(RESOURCES.nodes, { fieldSelector: 'spec.unschedulable=false' })({ metadata: { name: 'n2' } })).toBe(true);
  });
});

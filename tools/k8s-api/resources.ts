import { calicoCrdTypes, type CalicoResourceName } from './calico-crds';
import type { KubeObject } from './types';

// The resources the stand-in serves (core/v1 pods, namespaces and nodes; apps/v1
// statefulsets), with the parts of the apiserver's per-kind "strategy" that clients can
// observe: which fields a field selector may use, what a create resets, and that each has
// a status subresource.

export type ResourceName = 'pods' | 'namespaces' | 'nodes' | 'statefulsets' | CalicoResourceName;

export interface ResourceType {
  readonly name: ResourceName;
  readonly singularName: string;
  readonly kind: string;
  readonly listKind: string;
  /** `v1` for core kinds, `GROUP/VERSION` for the kinds of an API group. */
  readonly apiVersion: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /**
   * Field selector labels the apiserver accepts for this kind, each mapped to the string
   * it compares against. Any other label is a 400, as on a real server.
   */
  readonly fieldLabels: Readonly<Record<string, (obj: KubeObject) => string>>;
  /** What the apiserver's PrepareForCreate does to a new object (in place, on a copy). */
  prepareForCreate(obj: KubeObject): void;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const field = (obj: KubeObject, ...path: string[]): unknown => {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
};
const bool = (v: unknown): string => (v === true ? 'true' : 'false');

// Every kind answers these two (cluster-scoped objects have an empty namespace).
const metadataLabels = {
  'metadata.name': (o: KubeObject) => str(o.metadata.name),
  'metadata.namespace': (o: KubeObject) => str(o.metadata.namespace),
};

const pods: ResourceType = {
  name: 'pods',
  apiVersion: 'v1',
  singularName: 'pod',
  kind: 'Pod',
  listKind: 'PodList',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  fieldLabels: {
    ...metadataLabels,
    'spec.nodeName': (o) => str(field(o, 'spec', 'nodeName')),
    'spec.restartPolicy': (o) => str(field(o, 'spec', 'restartPolicy')),
    'spec.schedulerName': (o) => str(field(o, 'spec', 'schedulerName')),
    'spec.serviceAccountName': (o) => str(field(o, 'spec', 'serviceAccountName')),
    'spec.hostNetwork': (o) => bool(field(o, 'spec', 'hostNetwork')),
    'status.phase': (o) => str(field(o, 'status', 'phase')),
    'status.podIP': (o) => str(field(o, 'status', 'podIP')),
    'status.nominatedNodeName': (o) => str(field(o, 'status', 'nominatedNodeName')),
  },
  prepareForCreate(obj) {
    // A new pod's status belongs to the kubelet: the apiserver resets it to Pending.
    obj.status = { phase: 'Pending' };
  },
};

const namespaces: ResourceType = {
  name: 'namespaces',
  apiVersion: 'v1',
  singularName: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  fieldLabels: {
    ...metadataLabels,
    'status.phase': (o) => str(field(o, 'status', 'phase')),
  },
  prepareForCreate(obj) {
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    obj.spec = { ...spec, finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
    // Since 1.21 every namespace carries its own name as a label (namespaceSelector relies on it).
    obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': str(obj.metadata.name) };
  },
};

const nodes: ResourceType = {
  name: 'nodes',
  apiVersion: 'v1',
  singularName: 'node',
  kind: 'Node',
  listKind: 'NodeList',
  namespaced: false,
  shortNames: ['no'],
  categories: [],
  fieldLabels: {
    ...metadataLabels,
    'spec.unschedulable': (o) => bool(field(o, 'spec', 'unschedulable')),
  },
  prepareForCreate() {
    // The kubelet registers a node with its status, so the apiserver keeps it on create.
  },
};

// Calico's IPAM custom resources: cluster-scoped, answering only the metadata selectors.
const calicoCrds = calicoCrdTypes<ResourceType>((facts) => ({
  ...facts,
  namespaced: false,
  shortNames: [],
  categories: [],
  fieldLabels: metadataLabels,
}));

// Only what a StatefulSet's clients read here: spec.replicas (defaulted to 1, as the
// apiserver does) and spec.template. No controller runs: tests create its pods themselves.
const statefulsets: ResourceType = {
  name: 'statefulsets',
  apiVersion: 'apps/v1',
  singularName: 'statefulset',
  kind: 'StatefulSet',
  listKind: 'StatefulSetList',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  fieldLabels: { ...metadataLabels },
  prepareForCreate(obj) {
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    obj.spec = { ...spec, replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 1 };
    obj.status = { replicas: 0 };
  },
};

export const RESOURCES: Readonly<Record<ResourceName, ResourceType>> = { pods, namespaces, nodes, statefulsets, ...calicoCrds };

/** The kinds of one API group version (`v1`: the core group). */
export const resourcesOf = (apiVersion: ResourceType['apiVersion']) => Object.values(RESOURCES).filter((r) => r.apiVersion === apiVersion);

/** The kind served under `name` in that group version. */
export function resourceByName(name: string, apiVersion: ResourceType['apiVersion'] = 'v1'): ResourceType | undefined {
  const type = Object.prototype.hasOwnProperty.call(RESOURCES, name) ? RESOURCES[name as ResourceName] : undefined;
  return type?.apiVersion === apiVersion ? type : undefined;
}

/** Pods created without a namespace land here, as with kubectl's default context. */
export const DEFAULT_NAMESPACE = 'default';

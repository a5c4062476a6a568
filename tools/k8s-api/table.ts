import { RESOURCES, type ResourceName } from './resources';
import type { KubeObject } from './types';

// Server-side printing (meta.k8s.io Table) for kubectl get. Without it kubectl falls back
// to NAME/AGE only; with it `kubectl get pods -o wide` shows STATUS, IP and NODE — the
// columns an IPAM developer looks at. Columns follow the apiserver's printers.

export interface TableRequest {
  /** meta.k8s.io version the client asked for (kubectl asks v1, then v1beta1). */
  readonly version: 'v1' | 'v1beta1';
}

interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer';
  readonly format?: 'name';
  readonly priority: 0 | 1;
  readonly description: string;
  readonly cell: (obj: KubeObject, now: number) => string | number;
}

/**
 * Reads `Accept` the way the apiserver negotiates: the first media range asking for
 * `as=Table;g=meta.k8s.io` with a version we serve wins; anything else means plain JSON.
 */
export function tableRequested(accept: string | undefined): TableRequest | undefined {
  for (const range of (accept ?? '').split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim());
    if (type !== 'application/json') continue;
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1')) return { version: p.v };
  }
  return undefined;
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, which kubectl's AGE column uses. */
export function humanDuration(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const text = (v: unknown, none = '<none>'): string => (typeof v === 'string' && v !== '' ? v : none);

const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  priority: 0,
  description: 'Name must be unique within a namespace.',
  cell: (o) => o.metadata.name ?? '',
};
const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  priority: 0,
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (o, now) =>
    o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : '<unknown>',
};

const podColumns: Column[] = [
  nameColumn,
  {
    name: 'Ready',
    type: 'string',
    priority: 0,
    description: 'The aggregate readiness state of this pod for accepting traffic.',
    cell: (o) => {
      const statuses = arr(obj(o.status).containerStatuses);
      return `${statuses.filter((c) => c.ready === true).length}/${arr(obj(o.spec).containers).length}`;
    },
  },
  {
    name: 'Status',
    type: 'string',
    priority: 0,
    description: 'The aggregate status of the containers in this pod.',
    cell: (o) => text(obj(o.status).reason, text(obj(o.status).phase, 'Unknown')),
  },
  {
    name: 'Restarts',
    type: 'integer',
    priority: 0,
    description: 'The number of times the containers in this pod have been restarted.',
    cell: (o) => arr(obj(o.status).containerStatuses).reduce((n, c) => n + (Number(c.restartCount) || 0), 0),
  },
  ageColumn,
  { name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod.', cell: (o) => text(obj(o.status).podIP) },
  { name: 'Node', type: 'string', priority: 1, description: 'Name of the Node this pod is assigned to.', cell: (o) => text(obj(o.spec).nodeName) },
  {
    name: 'Nominated Node',
    type: 'string',
    priority: 1,
    description: 'Name of the node nominated by the scheduler.',
    cell: (o) => text(obj(o.status).nominatedNodeName),
  },
  {
    name: 'Readiness Gates',
    type: 'string',
    priority: 1,
    description: 'Readiness gates of the pod.',
    cell: (o) => (arr(obj(o.spec).readinessGates).length ? `${arr(obj(o.spec).readinessGates).length}` : '<none>'),
  },
];

const namespaceColumns: Column[] = [
  nameColumn,
  { name: 'Status', type: 'string', priority: 0, description: 'The status of the namespace.', cell: (o) => text(obj(o.status).phase, '') },
  ageColumn,
];

function nodeReadiness(o: KubeObject): string {
  const ready = arr(obj(o.status).conditions).find((c) => c.type === 'Ready');
  const state = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  return obj(o.spec).unschedulable === true ? `${state},SchedulingDisabled` : state;
}

function nodeRoles(o: KubeObject): string {
  const prefix = 'node-role.kubernetes.io/';
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((k) => k.startsWith(prefix) && k.length > prefix.length)
    .map((k) => k.slice(prefix.length));
  return roles.length ? roles.sort().join(',') : '<none>';
}

const nodeAddress = (o: KubeObject, type: string) =>
  text(arr(obj(o.status).addresses).find((a) => a.type === type)?.address);
const nodeInfo = (o: KubeObject, key: string) => text(obj(obj(o.status).nodeInfo)[key], '');

const nodeColumns: Column[] = [
  nameColumn,
  { name: 'Status', type: 'string', priority: 0, description: 'The status of the node.', cell: nodeReadiness },
  { name: 'Roles', type: 'string', priority: 0, description: 'The roles of the node.', cell: nodeRoles },
  ageColumn,
  { name: 'Version', type: 'string', priority: 0, description: 'Kubelet Version reported by the node.', cell: (o) => nodeInfo(o, 'kubeletVersion') },
  { name: 'Internal-IP', type: 'string', priority: 1, description: 'Internal IP of the node.', cell: (o) => nodeAddress(o, 'InternalIP') },
  { name: 'External-IP', type: 'string', priority: 1, description: 'External IP of the node.', cell: (o) => nodeAddress(o, 'ExternalIP') },
  { name: 'OS-Image', type: 'string', priority: 1, description: 'OS image reported by the node.', cell: (o) => text(nodeInfo(o, 'osImage'), '<unknown>') },
  { name: 'Kernel-Version', type: 'string', priority: 1, description: 'Kernel version reported by the node.', cell: (o) => text(nodeInfo(o, 'kernelVersion'), '<unknown>') },
  {
    name: 'Container-Runtime',
    type: 'string',
    priority: 1,
    description: 'Container runtime reported by the node.',
    cell: (o) => text(nodeInfo(o, 'containerRuntimeVersion'), '<unknown>'),
  },
];

const COLUMNS: Readonly<Partial<Record<ResourceName, Column[]>>> = {
  pods: podColumns,
  namespaces: namespaceColumns,
  nodes: nodeColumns,
  statefulsets: [nameColumn, ageColumn],
};

/** What the apiserver shows for a custom resource without printer columns. */
const customResourceColumns: Column[] = [nameColumn, ageColumn];

/** `includeObject` query parameter: what each row carries besides its cells. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function toTable(
  resource: ResourceName,
  kind: string,
  objectApiVersion: string,
  objects: readonly KubeObject[],
  resourceVersion: string,
  request: TableRequest,
  includeObject: IncludeObject = 'Metadata',
  now = Date.now(),
): object {
  const columns = COLUMNS[resource] ?? customResourceColumns;
  const apiVersion = `meta.k8s.io/${request.version}`;
  return {
    kind: 'Table',
    apiVersion,
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ cell: _c, ...def }) => ({ format: '', ...def })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? { ...o, kind, apiVersion: objectApiVersion }
                : { kind: 'PartialObjectMetadata', apiVersion, metadata: o.metadata },
          }),
    })),
  };
}

import { execFileSync } from 'node:child_process';
import path from 'node:path';
// `yaml` comes with @atoll/model (hoisted to the workspace root); kubectl kustomize prints
// YAML only.
import { parseAllDocuments } from 'yaml';

// Rendering the kustomizations the way an operator's `kubectl apply -k` does, and reading
// the result.

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy');
export const KUBECTL = process.env['ATOLL_KUBECTL_BIN'] ?? 'kubectl';
export const NAMESPACE = 'atoll-system';

/** What every rendered object has; the rest is read through the helpers below. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** A container as these tests read it (a loose view of core/v1 Container). */
export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
  readonly ports?: readonly { name?: string; containerPort: number }[];
  readonly resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readonly securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  readonly volumeMounts?: readonly { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
}

export interface PodSpec {
  readonly hostNetwork?: boolean;
  readonly dnsPolicy?: string;
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly priorityClassName?: string;
  readonly hostAliases?: readonly { ip: string; hostnames: string[] }[];
  readonly tolerations?: readonly Record<string, string>[];
  readonly affinity?: Record<string, unknown>;
  readonly securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number; seccompProfile?: { type: string } };
  readonly initContainers?: readonly Container[];
  readonly containers: readonly Container[];
  readonly volumes?: readonly ({ name: string } & Record<string, unknown>)[];
}

/** `kubectl kustomize <dir>` (offline; a path relative to deploy/, or absolute), parsed into objects. */
export function render(kustomization: string): K8sObject[] {
  const dir = path.resolve(DEPLOY_DIR, kustomization);
  let text: string;
  try {
    text = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 32 * 1024 * 1024 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error(`${KUBECTL} not found: install kubectl (v1.27 or later) or set ATOLL_KUBECTL_BIN`);
    throw new Error(`kubectl kustomize ${kustomization} failed: ${e.stderr?.trim() || e.message}`);
  }
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`kubectl kustomize ${kustomization}: document ${i + 1}: ${doc.errors[0]!.message}`);
    return doc.toJS() as K8sObject;
  });
}

export const id = (o: Pick<K8sObject, 'kind' | 'metadata'>): string => `${o.kind}/${o.metadata.name}`;

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not among the rendered objects: ${objects.map(id).join(', ')}`);
  return found;
}

/** A generated ConfigMap, whose name carries a hash suffix unless generation disabled it. */
export function findGenerated(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (o.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name)));
  if (found.length !== 1) throw new Error(`expected one ${kind} generated from ${name}, found ${found.length}`);
  return found[0]!;
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];

export interface Workload {
  readonly object: K8sObject;
  readonly pod: PodSpec;
}

/** Every object that runs pods, with its pod template's spec. */
export function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects
    .filter((o) => WORKLOAD_KINDS.includes(o.kind))
    .map((o) => ({ object: o, pod: (o['spec'] as { template: { spec: PodSpec } }).template.spec }));
}

export function podSpec(objects: readonly K8sObject[], kind: string, name: string): PodSpec {
  return (find(objects, kind, name)['spec'] as { template: { spec: PodSpec } }).template.spec;
}

export interface LocatedContainer {
  readonly workload: string;
  readonly init: boolean;
  readonly container: Container;
  readonly pod: PodSpec;
}

/** Every container and init container, named "Kind/name container". */
export function containers(objects: readonly K8sObject[]): LocatedContainer[] {
  return workloads(objects).flatMap(({ object, pod }) => [
    ...(pod.initContainers ?? []).map((container) => ({ workload: id(object), init: true, container, pod })),
    ...pod.containers.map((container) => ({ workload: id(object), init: false, container, pod })),
  ]);
}

export const where = (c: LocatedContainer): string => `${c.workload} ${c.init ? 'init container' : 'container'} ${c.container.name}`;

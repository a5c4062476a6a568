import { loadResources } from '@atoll/model';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { find, id, render, type K8sObject } from './support/manifests';
import { unknownFieldProblems } from './support/unknown-fields';

// Every rendered object against the Kubernetes OpenAPI schema (kubernetes-models, offline),
// and the default IPPool against Atoll's own resource model.

interface Model {
  validate(): void;
}
type ModelClass = new (data: never) => Model;

const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/DaemonSet': DaemonSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
};

function validationProblem(o: K8sObject): string | undefined {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) return `no schema known for ${o.apiVersion} ${o.kind}: add its kubernetes-models class to MODELS`;
  try {
    new Model(o as never).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe.each(['base', 'overlays/external-etcd'])('every object of deploy/%s', (kustomization) => {
  const objects = render(kustomization);
  it.each(objects.map((o) => [id(o), o] as const))('%s validates against its Kubernetes schema', (_name, object) => {
    expect(validationProblem(object)).toBeUndefined();
  });
});

describe('the schema check', () => {
  it('catches a wrong type in a pod template', () => {
    const broken = JSON.parse(JSON.stringify(find(render('base'), 'Deployment', 'atoll-allocator'))) as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(validationProblem(broken as unknown as K8sObject)).toMatch(/replicas must be integer/);
  });
});

describe('the default IPPool', () => {
  const data = find(render('base'), 'ConfigMap', 'atoll-default-ippool')['data'] as Record<string, string>;
  const [file, text] = Object.entries(data)[0]!;

  it('is one valid projectcalico.org/v3 IPPool as atollctl will load it', () => {
    const resources = loadResources(text, file);
    expect(resources).toHaveLength(1);
    expect(resources[0]).toMatchObject({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: 'default-ipv4-ippool' },
      spec: { cidr: '192.168.0.0/16', blockSize: 26, natOutgoing: true, nodeSelector: 'all()' },
    });
  });

  it('keeps Calico’s defaults for everything it does not set', () => {
    const [pool] = loadResources(text, file, { applyDefaults: true });
    expect(pool).toMatchObject({ spec: { ipipMode: 'Never', vxlanMode: 'Never', disabled: false, allowedUses: ['Workload', 'Tunnel'] } });
  });
});

describe('fields the schemas do not know', () => {
  it.each(['base', 'overlays/external-etcd'])('deploy/%s uses none', (kustomization) => {
    expect(unknownFieldProblems(render(kustomization))).toEqual([]);
  });

  it('are found, with the object they are in', () => {
    const base = render('base');
    const broken = JSON.parse(JSON.stringify(find(base, 'DaemonSet', 'atoll-node-agent'))) as { spec: { template: { spec: Record<string, unknown> } } };
    broken.spec.template.spec['hostNetwrok'] = true;
    const namespace = { ...find(base, 'Namespace', 'atoll-system'), metdata: {} };
    const problems = unknownFieldProblems([namespace, find(base, 'Service', 'atoll-allocator'), broken as unknown as K8sObject]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^Namespace\/atoll-system: .*metdata\W* does not exist in type 'INamespace'/);
    expect(problems[1]).toMatch(/^DaemonSet\/atoll-node-agent: .*hostNetwrok\W* does not exist in type 'IPodSpec'/);
  });
});

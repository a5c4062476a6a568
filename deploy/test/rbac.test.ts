import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { find, id, NAMESPACE, REPO_ROOT, render, workloads, type K8sObject } from './support/manifests';

// RBAC grants exactly what the code uses. USED_BY_CODE is the table; the first test reads
// the code that talks to Kubernetes and checks the table against it, so a new API call
// without its grant (or a grant left behind after the call went) fails here.

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** Per ServiceAccount: the app whose code runs under it, and the API calls that code makes. */
const USED_BY_CODE: Readonly<Record<string, { readonly app: string; readonly rules: readonly Rule[] }>> = {
  // apps/node-agent/src/kube/kube-client.ts: informers on this node's pods, namespaces and
  // this Node (list + watch), and a GET of each when the cache has not caught up.
  'atoll-node-agent': { app: 'apps/node-agent', rules: [{ apiGroups: [''], resources: ['pods', 'namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] }] },
  // apps/allocator/src/gc/kube-informers.ts: the leak collector's informers on every pod,
  // node and StatefulSet, and a live GET of each before it releases an address; a GET of a
  // sticky pod's namespace for its atoll.io/sticky annotation.
  'atoll-allocator': {
    app: 'apps/allocator',
    rules: [
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'watch'] },
    ],
  },
};

// atollctl runs on an operator's machine with the operator's own kubeconfig (migrate,
// explain), never under a ServiceAccount of deploy/: no grant of ours applies to it.
const RUN_WITH_OPERATOR_CREDENTIALS = ['apps/ctl'];

const READ_VERBS = ['get', 'list', 'watch'];

/** "group|resource|verb" for every combination a rule grants. */
const grants = (rules: readonly Rule[]): string[] =>
  [...new Set(rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`)))))].sort();

// --- what the code calls ------------------------------------------------------------------

const CLIENT = '@kubernetes/client-node';
/** Resources of the `apps` group (AppsV1Api); every other resource the code reads is core. */
const APPS_GROUP_RESOURCES = new Set(['statefulsets', 'deployments', 'daemonsets', 'replicasets', 'controllerrevisions']);
const VERB_OF_METHOD: Readonly<Record<string, string>> = { read: 'get', list: 'list', create: 'create', replace: 'update', patch: 'patch', delete: 'delete', deleteCollection: 'deletecollection' };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Files of an app's src/ that import the Kubernetes client. */
const clientFiles = (app: string) => sourceFiles(path.join(REPO_ROOT, app, 'src')).filter((f) => readFileSync(f, 'utf8').includes(`'${CLIENT}'`));

/** The grants a source file's Kubernetes calls need: CoreV1Api methods and informers (list + watch). */
function grantsCalledIn(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const rel = path.relative(REPO_ROOT, file);
  const out: string[] = [];
  for (const m of text.matchAll(/makeApiClient\((\w+)\)/g)) {
    if (m[1] !== 'CoreV1Api' && m[1] !== 'AppsV1Api') throw new Error(`${rel} uses ${m[1]}: teach deploy/test/rbac.test.ts its methods`);
  }
  if (/\bnew Watch\(|\bKubernetesObjectApi\b/.test(text)) throw new Error(`${rel} uses a generic client: teach deploy/test/rbac.test.ts what it calls`);
  for (const m of text.matchAll(/makeInformer\(\s*\w+\s*,\s*[`'"]\/api\/v1\/([a-z]+)/g)) out.push(`|${m[1]}|list`, `|${m[1]}|watch`);
  for (const m of text.matchAll(/makeInformer\(\s*\w+\s*,\s*[`'"]\/apis\/apps\/v1\/([a-z]+)/g)) out.push(`apps|${m[1]}|list`, `apps|${m[1]}|watch`);
  for (const m of text.matchAll(/\.(read|list|create|replace|patch|delete|deleteCollection)(?:Namespaced)?([A-Z][A-Za-z]*?)(?:ForAllNamespaces)?(Status)?\(/g)) {
    const resource = `${m[2]!.toLowerCase()}s${m[3] ? '/status' : ''}`; // StatefulSet → statefulsets
    out.push(`${APPS_GROUP_RESOURCES.has(resource) ? 'apps' : ''}|${resource}|${VERB_OF_METHOD[m[1]!]}`);
  }
  return out;
}

const APPS = readdirSync(path.join(REPO_ROOT, 'apps')).filter((a) => readdirSync(path.join(REPO_ROOT, 'apps', a)).includes('src') && !RUN_WITH_OPERATOR_CREDENTIALS.includes(`apps/${a}`));

describe('the table of what the code uses', () => {
  it('lists every app that talks to Kubernetes', () => {
    const talking = APPS.filter((a) => clientFiles(`apps/${a}`).length > 0).map((a) => `apps/${a}`);
    expect(talking.sort()).toEqual(Object.values(USED_BY_CODE).map((u) => u.app).sort());
  });

  it.each(Object.entries(USED_BY_CODE))('matches the calls the code running as %s makes', (_sa, { app, rules }) => {
    const called = [...new Set(clientFiles(app).flatMap(grantsCalledIn))].sort();
    expect(called).toEqual(grants(rules));
  });
});

// --- what the manifests grant -------------------------------------------------------------

describe.each(['base', 'overlays/external-etcd'])('RBAC of deploy/%s', (kustomization) => {
  const objects = render(kustomization);
  const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
  const serviceAccounts = objects.filter((o) => o.kind === 'ServiceAccount');

  const rulesOf = (o: K8sObject) => (o['rules'] ?? []) as (Rule & { nonResourceURLs?: string[]; resourceNames?: string[] })[];
  const boundTo = (sa: string) =>
    bindings.filter((b) => ((b['subjects'] ?? []) as { kind: string; name: string; namespace?: string }[]).some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === NAMESPACE));
  const roleOf = (b: K8sObject) => {
    const ref = b['roleRef'] as { kind: string; name: string };
    return find(objects, ref.kind, ref.name);
  };

  it('grants no write verb, no wildcard and no non-resource URL anywhere', () => {
    for (const role of roles) {
      expect(role['aggregationRule']).toBeUndefined();
      for (const rule of rulesOf(role)) {
        const where = `${id(role)} ${JSON.stringify(rule)}`;
        expect({ where, verbs: rule.verbs.filter((v) => !READ_VERBS.includes(v)) }).toEqual({ where, verbs: [] });
        expect({ where, wildcards: [...rule.apiGroups, ...rule.resources, ...rule.verbs].filter((x) => x.includes('*')) }).toEqual({ where, wildcards: [] });
        expect({ where, nonResourceURLs: rule.nonResourceURLs }).toEqual({ where, nonResourceURLs: undefined });
      }
    }
  });

  it.each(Object.entries(USED_BY_CODE))('grants %s exactly what its code uses', (sa, { rules }) => {
    const granted = grants(boundTo(sa).flatMap((b) => rulesOf(roleOf(b))));
    expect(granted).toEqual(grants(rules));
  });

  it('binds only Atoll’s ServiceAccounts in atoll-system, to roles that exist', () => {
    for (const b of bindings) {
      const subjects = b['subjects'] as { kind: string; name: string; namespace?: string }[];
      for (const s of subjects) {
        expect({ binding: id(b), subject: s }).toEqual({ binding: id(b), subject: { kind: 'ServiceAccount', name: expect.stringMatching(/^atoll-/), namespace: NAMESPACE } });
        expect(serviceAccounts.map((x) => x.metadata.name)).toContain(s.name);
      }
      expect(() => roleOf(b)).not.toThrow();
    }
  });

  it('binds nothing to ServiceAccounts whose code does not use the API, and mounts them no token', () => {
    for (const sa of serviceAccounts.map((s) => s.metadata.name).filter((n) => !(n in USED_BY_CODE))) {
      expect({ sa, bindings: boundTo(sa).map(id) }).toEqual({ sa, bindings: [] });
      expect({ sa, automount: find(objects, 'ServiceAccount', sa)['automountServiceAccountToken'] }).toEqual({ sa, automount: false });
    }
    for (const { object, pod } of workloads(objects)) {
      const uses = (pod.serviceAccountName ?? 'default') in USED_BY_CODE;
      const mounted = pod.automountServiceAccountToken ?? find(objects, 'ServiceAccount', pod.serviceAccountName!)['automountServiceAccountToken'] ?? true;
      expect({ workload: id(object), serviceAccount: pod.serviceAccountName, tokenMounted: mounted }).toEqual({ workload: id(object), serviceAccount: pod.serviceAccountName, tokenMounted: uses });
    }
  });
});

describe('reading the code’s Kubernetes calls', () => {
  it('turns client methods and informer paths into grants', () => {
    const file = path.join(REPO_ROOT, 'apps/node-agent/src/kube/kube-client.ts');
    expect([...new Set(grantsCalledIn(file))].sort()).toEqual(['|namespaces|get', '|namespaces|list', '|namespaces|watch', '|nodes|get', '|nodes|list', '|nodes|watch', '|pods|get', '|pods|list', '|pods|watch']);
  });
});

import { CALICO_CRD_API_VERSION } from './calico-crds';
import { RESOURCES, resourcesOf } from './resources';
import type { DiscoveryDocument } from './routes';

// Legacy (unaggregated) discovery documents. kubectl asks for aggregated discovery first
// (Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList, …) and
// falls back to these when the response's Content-Type is plain application/json.

/** The Kubernetes version the stand-in claims; kubectl warns only beyond ±1 minor. */
export const SERVED_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0+atoll-stand-in' } as const;

const WRITE_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

function apiResourceList(groupVersion: string) {
  const core = groupVersion === 'v1';
  // Calico's custom resources have no status subresource; core and apps kinds do.
  const withStatus = !groupVersion.startsWith('crd.');
  const resources = resourcesOf(groupVersion).flatMap((r) => [
    {
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: WRITE_VERBS,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    },
    ...(withStatus ? [{ name: `${r.name}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: STATUS_VERBS }] : []),
  ]);
  return { kind: 'APIResourceList', ...(core ? {} : { apiVersion: 'v1' }), groupVersion, resources };
}

/** The API groups served besides core v1 (apps for StatefulSets, Calico's custom resources). */
function apiGroupList() {
  const groupVersions = [...new Set(Object.values(RESOURCES).map((r) => r.apiVersion).filter((v) => v.includes('/')))];
  const groups = groupVersions.map((gv) => {
    const [name, version] = gv.split('/') as [string, string];
    const v = { groupVersion: gv, version };
    return { name, versions: [v], preferredVersion: v };
  });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function discoveryDocument(document: DiscoveryDocument, serverAddress: string): object {
  switch (document) {
    case 'api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
      };
    case 'apiV1':
      return apiResourceList('v1');
    case 'appsV1':
      return apiResourceList('apps/v1');
    case 'apis':
      return apiGroupList();
    case 'calicoCrdV1':
      return apiResourceList(CALICO_CRD_API_VERSION);
    case 'version':
      return {
        ...SERVED_VERSION,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2025-01-01T00:00:00Z',
        goVersion: 'go1.23.0',
        compiler: 'gc',
        platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      };
  }
}

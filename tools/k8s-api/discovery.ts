import { resourcesOf, type ResourceType } from './resources';
import type { DiscoveryDocument } from './routes';

// Legacy (unaggregated) discovery documents. kubectl asks for aggregated discovery first
// (Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList, …) and
// falls back to these when the response's Content-Type is plain application/json.

/** The Kubernetes version the stand-in claims; kubectl warns only beyond ±1 minor. */
export const SERVED_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0+atoll-stand-in' } as const;

const WRITE_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

function apiResourceList(groupVersion: ResourceType['apiVersion']) {
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
    { name: `${r.name}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: STATUS_VERBS },
  ]);
  return { kind: 'APIResourceList', groupVersion, resources };
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
    case 'apis': {
      const version = { groupVersion: 'apps/v1', version: 'v1' };
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [version], preferredVersion: version }] };
    }
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

import { parseGroupRoute } from './group-routes';
import { resourceByName, type ResourceType } from './resources';

// URL paths → what they address, with no I/O: the apiserver's core/v1 layout
//   /api/v1/namespaces/NS/pods[/NAME[/status]]   namespaced
//   /api/v1/pods                                  a namespaced kind across all namespaces
//   /api/v1/namespaces[/NAME[/status]], /api/v1/nodes[/NAME[/status]]   cluster-scoped
//   /apis/apps/v1/namespaces/NS/statefulsets[/NAME[/status]], /apis/apps/v1/statefulsets
// each also under the deprecated watch/ prefix, plus discovery and health paths.

export type DiscoveryDocument = 'api' | 'apiV1' | 'apis' | 'appsV1' | 'version' | 'calicoCrdV1';

export type Route =
  | { readonly kind: 'discovery'; readonly document: DiscoveryDocument }
  | { readonly kind: 'health' }
  | {
      readonly kind: 'collection';
      readonly resource: ResourceType;
      /** Absent for cluster-scoped kinds and for the all-namespaces path of a namespaced one. */
      readonly namespace?: string;
      readonly watchPrefix: boolean;
    }
  | {
      readonly kind: 'object';
      readonly resource: ResourceType;
      readonly namespace?: string;
      readonly name: string;
      readonly subresource?: 'status';
      readonly watchPrefix: boolean;
    }
  | { readonly kind: 'unknown' };

const UNKNOWN: Route = { kind: 'unknown' };

const FIXED: Readonly<Record<string, Route>> = {
  '/api': { kind: 'discovery', document: 'api' },
  '/api/v1': { kind: 'discovery', document: 'apiV1' },
  '/apis': { kind: 'discovery', document: 'apis' },
  '/apis/apps/v1': { kind: 'discovery', document: 'appsV1' },
  '/version': { kind: 'discovery', document: 'version' },
  '/healthz': { kind: 'health' },
  '/livez': { kind: 'health' },
  '/readyz': { kind: 'health' },
};

function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return undefined; // malformed %-escape
  }
}

export function parseRoute(pathname: string): Route {
  const trimmed = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const fixed = FIXED[trimmed];
  if (fixed) return fixed;

  const segments = decodeSegments(trimmed);
  if (!segments) return UNKNOWN;
  const core = segments[0] === 'api' && segments[1] === 'v1';
  const apps = segments[0] === 'apis' && segments[1] === 'apps' && segments[2] === 'v1';
  // other API groups (Calico's custom resources) have routes of their own
  if (segments[0] === 'apis' && !apps) return parseGroupRoute(segments);
  if (!core && !apps) return UNKNOWN;
  const apiVersion = core ? 'v1' : 'apps/v1';
  let rest = segments.slice(core ? 2 : 3);
  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);

  let namespace: string | undefined;
  const scoped = rest[0] === 'namespaces' && rest.length >= 3 ? resourceByName(rest[2]!, apiVersion) : undefined;
  if (scoped?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = resourceByName(rest[0] ?? '', apiVersion);
  if (!resource) return UNKNOWN;

  if (rest.length === 1) return { kind: 'collection', resource, namespace, watchPrefix };
  // one object of a namespaced kind is only reachable under its namespace
  if (resource.namespaced && namespace === undefined) return UNKNOWN;
  const name = rest[1]!;
  if (rest.length === 2) return { kind: 'object', resource, namespace, name, watchPrefix };
  if (rest.length === 3 && rest[2] === 'status' && !watchPrefix) {
    return { kind: 'object', resource, namespace, name, subresource: 'status', watchPrefix };
  }
  return UNKNOWN;
}

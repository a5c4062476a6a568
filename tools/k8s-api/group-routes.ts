import { CALICO_CRD_API_VERSION } from './calico-crds';
import { resourceByName, type ResourceType } from './resources';
import type { Route } from './routes';

// Paths of API groups (/apis/GROUP/VERSION/...), for the kinds that live in one (Calico's
// custom resources). Cluster-scoped only, as Calico's IPAM kinds are:
//   /apis/GROUP/VERSION/PLURAL[/NAME]   and the same under /apis/GROUP/VERSION/watch/

/** `segments` are the decoded path segments, starting with "apis". */
export function parseGroupRoute(segments: readonly string[]): Route {
  const [apis, group, version, ...tail] = segments;
  if (apis !== 'apis' || group === undefined || version === undefined) return { kind: 'unknown' };
  if (tail.length === 0) return `${group}/${version}` === CALICO_CRD_API_VERSION ? { kind: 'discovery', document: 'calicoCrdV1' } : { kind: 'unknown' };
  let rest = tail;
  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);
  const resource: ResourceType | undefined = resourceByName(rest[0] ?? '', `${group}/${version}`);
  if (!resource || resource.apiVersion !== `${group}/${version}` || resource.namespaced) return { kind: 'unknown' };
  if (rest.length === 1) return { kind: 'collection', resource, watchPrefix };
  if (rest.length === 2) return { kind: 'object', resource, name: rest[1]!, watchPrefix };
  return { kind: 'unknown' };
}

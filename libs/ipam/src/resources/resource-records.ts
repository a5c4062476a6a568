import {
  parseResourceKey,
  Resource,
  ResourceKind,
  resourceKey,
  resourceNameProblems,
  ResourcePlural,
  resourcePrefix,
  ValidationError,
} from '@atoll/model';
import { Datastore, Kv } from '@atoll/store';
import { io } from '../io';
import { corruptResource, invalidResource } from './resource-errors';

// Resources kept whole under their v3 key (/calico/resources/v3/projectcalico.org/<plural>/<name>),
// as Calico's etcd mode keeps them: the v3 object as JSON with uid and creationTimestamp,
// without resourceVersion (that is the key's mod revision, set on the way out).

/** The kinds stored under a v3 resource key (IPAMConfiguration is not: see ipam-configuration.ts). */
export type StoredKind = Exclude<ResourceKind, 'IPAMConfiguration'>;

const PLURALS: Readonly<Record<StoredKind, ResourcePlural>> = {
  IPPool: 'ippools',
  IPReservation: 'ipreservations',
  Node: 'nodes',
};

/** A resource as read from the store: the decoded value, its exact text and its mod revision. */
export interface StoredResource<R extends Resource = Resource> extends Kv {
  readonly resource: R;
}

export function storedResourceKey(kind: StoredKind, name: string): string {
  return resourceKey(PLURALS[kind], name);
}

/** Refuses a name that is not a valid resource name (and so could not be a key segment). */
export function checkResourceName(kind: string, name: string): void {
  const reasons = typeof name === 'string' ? resourceNameProblems(name) : ['name is required'];
  if (reasons.length > 0) {
    throw invalidResource(reasons.map((reason) => new ValidationError(kind, undefined, 'metadata.name', reason, name)));
  }
}

export function decodeStoredResource<R extends Resource>(kind: StoredKind, kv: Kv): StoredResource<R> {
  const name = parseResourceKey(kv.key)?.name ?? kv.key;
  let value: unknown;
  try {
    value = JSON.parse(kv.value);
  } catch (err) {
    throw corruptResource(kind, name, kv.key, err instanceof Error ? err.message : String(err));
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value) || !isObject(value['metadata'])) {
    throw corruptResource(kind, name, kv.key, 'not a resource object with metadata');
  }
  if (value['kind'] !== undefined && value['kind'] !== kind) {
    throw corruptResource(kind, name, kv.key, `its kind is ${JSON.stringify(value['kind'])}`);
  }
  return { ...kv, resource: value as unknown as R };
}

export async function readStoredResource<R extends Resource>(
  ds: Datastore,
  kind: StoredKind,
  name: string,
): Promise<StoredResource<R> | undefined> {
  const kv = await io(() => ds.get(storedResourceKey(kind, name)));
  return kv && decodeStoredResource<R>(kind, kv);
}

/**
 * Every stored resource of a kind, in name order (etcd key order). An unreadable value
 * fails the list, unless `skipUnreadable` (checks that Calico also runs past bad entries).
 */
export async function listStoredResources<R extends Resource>(
  ds: Datastore,
  kind: StoredKind,
  options: { skipUnreadable?: boolean } = {},
): Promise<StoredResource<R>[]> {
  const plural = PLURALS[kind];
  const { items } = await io(() => ds.list(resourcePrefix(plural)));
  return items
    .filter((kv) => parseResourceKey(kv.key)?.plural === plural)
    .flatMap((kv) => {
      try {
        return [decodeStoredResource<R>(kind, kv)];
      } catch (err) {
        if (options.skipUnreadable) return [];
        throw err;
      }
    });
}

/** A copy with `metadata.resourceVersion` set from a mod revision (decimal, as Calico). */
export function withResourceVersion<R extends Resource>(resource: R, revision: bigint): R {
  const copy = structuredClone(resource);
  copy.metadata.resourceVersion = revision.toString();
  return copy;
}

export interface ResourceIdentity {
  readonly uid: string;
  readonly creationTimestamp: string;
}

/**
 * The value to store: the (defaulted) resource with its identity, without resourceVersion,
 * fields in the order Go writes them (kind, apiVersion, metadata, spec, status).
 */
export function storedForm<R extends Resource>(resource: R, identity: ResourceIdentity): R {
  const { name, ...metadataRest } = structuredClone(resource.metadata);
  delete metadataRest.resourceVersion;
  delete metadataRest.uid;
  delete metadataRest.creationTimestamp;
  const { apiVersion, kind, metadata: _metadata, ...body } = structuredClone(resource);
  return {
    kind,
    apiVersion,
    metadata: { name, uid: identity.uid, creationTimestamp: identity.creationTimestamp, ...metadataRest },
    ...body,
  } as R;
}

/**
 * The revision a caller's `metadata.resourceVersion` names, or undefined when it gives none
 * (an empty string is none, as in Kubernetes). Anything but a positive decimal is refused.
 */
export function requestedRevision(resource: Resource): bigint | undefined {
  const text = resource.metadata.resourceVersion;
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9][0-9]{0,19}$/.test(text)) {
    throw invalidResource([
      new ValidationError(
        resource.kind,
        resource.metadata.name,
        'metadata.resourceVersion',
        'must be the decimal resourceVersion a get returned',
        text,
      ),
    ]);
  }
  return BigInt(text);
}

/** Kubernetes' creationTimestamp text: RFC 3339 in UTC, whole seconds (`2026-08-01T10:00:00Z`). */
export function rfc3339Seconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A copy without null-valued object fields: null means "unset", as in Go's JSON decoding,
 * so nothing stores a null that Calico would have left out (the loader does the same).
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== null) out[key] = withoutNulls(field);
  }
  return out;
}

import { randomBytes, randomUUID } from 'node:crypto';
import { markedForDeletion, podGracePeriod } from './graceful-delete';
import { jsonEqual } from './json-equality';
import type { Expectation, ObjectRef, ObjectStore } from './object-store';
import { applyPatch, MERGE_PATCH } from './patch';
import { DEFAULT_NAMESPACE, RESOURCES, type ResourceName, type ResourceType } from './resources';
import { compileSelectors } from './selectors';
import { badRequest, invalid, notFound, type StatusCause } from './status';
import type { KubeObject, KubeObjectInput } from './types';

// The apiserver's REST semantics for create / update / patch / delete / read / list, shared
// by the HTTP handlers and the in-process test helpers so that both produce the same
// objects, errors and watch events. Objects read from the store are copies; a candidate
// is built from them and only `store.commit` makes it real.

/** Which part of an object a write may change: the apiserver's main vs `/status` endpoint. */
export type WriteTarget = 'main' | 'status';

export interface ListOptions {
  /** Restricts to one namespace (namespaced kinds only). */
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
}

export interface ObjectList {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string };
  items: KubeObject[];
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface DeleteOptions {
  /** DeleteOptions.gracePeriodSeconds (body or query); pods only (see graceful-delete.ts). */
  gracePeriodSeconds?: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// The apiserver's generateName suffix alphabet: no vowels, no look-alike characters.
const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function randomSuffix(): string {
  return [...randomBytes(5)].map((b) => NAME_SUFFIX_ALPHABET[b % NAME_SUFFIX_ALPHABET.length]).join('');
}

/** RFC 3339 without fractional seconds, as metav1.Time serialises. */
function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class ResourceOperations {
  constructor(
    private readonly store: ObjectStore,
    private readonly options: { strictNamespaces: boolean },
  ) {}

  read(resource: ResourceName, namespace: string, name: string): KubeObject {
    const obj = this.store.get(this.ref(resource, namespace, name));
    if (!obj) throw notFound(resource, name);
    return obj;
  }

  list(resource: ResourceName, opts: ListOptions = {}): ObjectList {
    const type = RESOURCES[resource];
    const matches = compileSelectors(type, opts);
    const { items, resourceVersion } = this.store.list(resource, type.namespaced ? opts.namespace : undefined);
    return {
      kind: type.listKind,
      apiVersion: type.apiVersion,
      metadata: { resourceVersion: String(resourceVersion) },
      // The apiserver omits kind and apiVersion on list items; clients must not rely on them.
      items: items.filter(matches).map(({ kind: _k, apiVersion: _a, ...rest }) => rest as KubeObject),
    };
  }

  /** `pathNamespace` is the namespace in the URL (absent for the in-process helpers). */
  create(resource: ResourceName, pathNamespace: string | undefined, input: unknown): KubeObject {
    const type = RESOURCES[resource];
    const obj = this.candidate(type, input);
    const meta = obj.metadata;
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (type.namespaced) {
      if (pathNamespace !== undefined && meta.namespace && meta.namespace !== pathNamespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = pathNamespace ?? (meta.namespace || DEFAULT_NAMESPACE);
      if (this.options.strictNamespaces && !this.store.get(this.ref('namespaces', '', meta.namespace))) {
        throw notFound('namespaces', meta.namespace);
      }
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    this.validateName(type, meta.name ?? '');
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    type.prepareForCreate(obj);
    return this.store.commit(this.ref(resource, meta.namespace ?? '', meta.name!), obj, { kind: 'absent' }).object;
  }

  /**
   * PUT: replaces the object (`main`: everything but status; `status`: only status). A
   * non-empty `metadata.resourceVersion` in `input` must match the stored one (409 if not).
   */
  update(resource: ResourceName, namespace: string, name: string, input: unknown, target: WriteTarget): KubeObject {
    const type = RESOURCES[resource];
    const current = this.read(resource, namespace, name);
    const body = this.candidate(type, input);
    if (body.metadata.name !== undefined && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced && body.metadata.namespace && body.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return this.replace(type, current, body, target);
  }

  /** PATCH: `contentType` selects merge / strategic-merge (as merge) / JSON patch. */
  patch(
    resource: ResourceName,
    namespace: string,
    name: string,
    contentType: string,
    patch: unknown,
    target: WriteTarget,
  ): KubeObject {
    const type = RESOURCES[resource];
    const current = this.read(resource, namespace, name);
    const patched = applyPatch(contentType, current, patch);
    const body = this.candidate(type, patched);
    return this.replace(type, current, body, target);
  }

  /** A merge patch, for the helpers (`labelNode`, `setPodStatus`). */
  mergePatch(resource: ResourceName, namespace: string, name: string, patch: object, target: WriteTarget): KubeObject {
    return this.patch(resource, namespace, name, MERGE_PATCH, patch, target);
  }

  /**
   * Removes the object and returns its last state; a pod on a node with a grace period is
   * only marked (graceful-delete.ts) and returned as marked. No finalizers. Deleting a
   * namespace first deletes the pods in it, as the namespace controller eventually would,
   * each with its own DELETED event.
   */
  delete(resource: ResourceName, namespace: string, name: string, preconditions: DeletePreconditions = {}, options: DeleteOptions = {}): KubeObject {
    const ref = this.ref(resource, namespace, name);
    const expect: Expectation = { kind: 'present', ...preconditions };
    this.store.verify(ref, expect);
    if (resource === 'pods') {
      const pod = this.read(resource, namespace, name);
      const grace = podGracePeriod(pod, options.gracePeriodSeconds);
      if (grace > 0) {
        const marked = markedForDeletion(pod, grace, Date.now());
        return marked ? this.store.commit(ref, marked, expect).object : pod;
      }
    }
    if (resource === 'namespaces') {
      for (const resource of ['pods', 'statefulsets'] as const) {
        for (const obj of this.store.list(resource, name).items) {
          this.store.commit(this.ref(resource, name, obj.metadata.name!), null, { kind: 'present' });
        }
      }
    }
    return this.store.commit(ref, null, expect).object;
  }

  /** The candidate's `metadata.resourceVersion`, when set, is the CAS precondition. */
  private replace(type: ResourceType, current: KubeObject, body: KubeObject, target: WriteTarget): KubeObject {
    const expectedRv = body.metadata.resourceVersion || undefined;
    let next: KubeObject;
    if (target === 'status') {
      // The status endpoint changes status only (metav1.ResetObjectMetaForStatus).
      next = structuredClone(current);
      if (body.status === undefined) delete next.status;
      else next.status = body.status;
    } else {
      // The main endpoint never changes status, and identity fields stay as created.
      next = body;
      if (current.status === undefined) delete next.status;
      else next.status = structuredClone(current.status);
      next.metadata = {
        ...next.metadata,
        name: current.metadata.name,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
      };
      if (type.namespaced) next.metadata.namespace = current.metadata.namespace;
      else delete next.metadata.namespace;
    }
    const expect: Expectation = { kind: 'present', resourceVersion: expectedRv };
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (jsonEqual(next, current)) {
      // A no-op write stores nothing and emits no event, but still honours the precondition.
      this.store.verify(this.refOf(type, current), expect);
      return current;
    }
    return this.store.commit(this.refOf(type, current), next, expect).object;
  }

  /** A deep copy of `input` with kind/apiVersion filled in, or a 400 if it is not one of ours. */
  private candidate(type: ResourceType, input: unknown): KubeObject {
    const version = type.apiVersion.split('/').pop()!;
    if (!isPlainObject(input)) throw badRequest(`${type.kind} in version "${version}" cannot be handled: body must be an object`);
    const obj = structuredClone(input) as KubeObjectInput;
    if (obj.apiVersion !== undefined && obj.apiVersion !== type.apiVersion) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${type.apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== type.kind) {
      throw badRequest(`${obj.kind} in version "${version}" cannot be handled as a ${type.kind}`);
    }
    if (obj.metadata !== undefined && !isPlainObject(obj.metadata)) throw badRequest('metadata must be an object');
    const metadata = obj.metadata ?? {};
    this.validateStringMap(type, metadata.name ?? '', 'labels', metadata.labels);
    this.validateStringMap(type, metadata.name ?? '', 'annotations', metadata.annotations);
    // kind and apiVersion first, as the apiserver serialises them
    const { kind: _k, apiVersion: _a, metadata: _m, ...rest } = obj;
    return { kind: type.kind, apiVersion: type.apiVersion, metadata, ...rest };
  }

  private validateStringMap(type: ResourceType, name: string, field: string, map: unknown): void {
    if (map === undefined) return;
    if (!isPlainObject(map) || Object.values(map).some((v) => typeof v !== 'string')) {
      throw invalid(type.kind, name, [
        { reason: 'FieldValueInvalid', message: 'Invalid value: values must be strings', field: `metadata.${field}` },
      ]);
    }
  }

  private validateName(type: ResourceType, name: string): void {
    const causes: StatusCause[] = [];
    if (!name) {
      causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
    } else if (type.name === 'namespaces' ? !DNS_LABEL.test(name) || name.length > 63 : !DNS_SUBDOMAIN.test(name) || name.length > 253) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": a lowercase RFC 1123 ${type.name === 'namespaces' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-'${type.name === 'namespaces' ? '' : " or '.'"}, and must start and end with an alphanumeric character`,
        field: 'metadata.name',
      });
    }
    if (causes.length > 0) throw invalid(type.kind, name, causes);
  }

  private ref(resource: ResourceName, namespace: string, name: string): ObjectRef {
    return { resource, namespace: RESOURCES[resource].namespaced ? namespace : '', name };
  }

  private refOf(type: ResourceType, obj: KubeObject): ObjectRef {
    return this.ref(type.name, obj.metadata.namespace ?? '', obj.metadata.name!);
  }
}

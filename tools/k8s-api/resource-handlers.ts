import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody, sendJson } from './http-io';
import { assertPatchType } from './patch';
import type { DeleteOptions, DeletePreconditions, ObjectList, ResourceOperations } from './resource-operations';
import type { Route } from './routes';
import { compileSelectors, type ObjectPredicate } from './selectors';
import { badRequest, methodNotAllowed } from './status';
import { tableRequested, toTable, type IncludeObject } from './table';
import type { KubeObject } from './types';
import type { WatchParams } from './watch-stream';

// HTTP verbs on resource paths → ResourceOperations calls (or a watch stream). This layer
// only translates: query strings, bodies and status codes; the semantics live in
// ResourceOperations so the in-process helpers share them.

export interface ResourceHandlerContext {
  readonly operations: ResourceOperations;
  readonly bookmarkIntervalMs: number;
  /** Starts and registers a watch stream on `res`. */
  openWatch(res: ServerResponse, params: WatchParams): void;
}

type ResourceRoute = Extract<Route, { kind: 'collection' | 'object' }>;

/** strconv.ParseBool, which the apiserver uses for `watch` and `allowWatchBookmarks`. */
function queryBool(query: URLSearchParams, name: string): boolean | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw badRequest(`invalid boolean value for ${name}: "${v}"`);
}

function queryUint(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`${name}: Invalid value: "${v}": must be a non-negative integer`);
  return Number(v);
}

function watchParams(ctx: ResourceHandlerContext, route: ResourceRoute, query: URLSearchParams): WatchParams {
  const selected = compileSelectors(route.resource, {
    fieldSelector: query.get('fieldSelector') ?? undefined,
    labelSelector: query.get('labelSelector') ?? undefined,
  });
  const { namespace } = route;
  const name = route.kind === 'object' ? route.name : undefined;
  const matches: ObjectPredicate = (obj) =>
    (namespace === undefined || obj.metadata.namespace === namespace) &&
    (name === undefined || obj.metadata.name === name) &&
    selected(obj);
  return {
    resource: route.resource,
    matches,
    resourceVersion: queryUint(query, 'resourceVersion'),
    sendInitialEvents: queryBool(query, 'sendInitialEvents') === true,
    allowBookmarks: queryBool(query, 'allowWatchBookmarks') === true,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    timeoutSeconds: queryUint(query, 'timeoutSeconds'),
  };
}

/** A list or one object, as a meta.k8s.io Table when the client's Accept asks for one (kubectl get). */
function sendRead(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams, read: ObjectList | KubeObject): void {
  const table = tableRequested(req.headers.accept);
  if (!table) return sendJson(res, 200, read);
  const include = query.get('includeObject') ?? 'Metadata';
  if (!['None', 'Metadata', 'Object'].includes(include)) throw badRequest(`includeObject: Unsupported value: "${include}"`);
  const objects = 'items' in read ? (read as ObjectList).items : [read as KubeObject];
  const rv = 'items' in read ? (read as ObjectList).metadata.resourceVersion : ((read as KubeObject).metadata.resourceVersion ?? '');
  sendJson(res, 200, toTable(route.resource.name, route.resource.kind, route.resource.apiVersion, objects, rv, table, include as IncludeObject));
}

function deletePreconditions(body: unknown): DeletePreconditions {
  if (body === undefined || body === null || typeof body !== 'object') return {};
  const pre = (body as { preconditions?: DeletePreconditions }).preconditions;
  return {
    ...(pre?.uid ? { uid: pre.uid } : {}),
    ...(pre?.resourceVersion ? { resourceVersion: pre.resourceVersion } : {}),
  };
}

/** gracePeriodSeconds from the DeleteOptions body, else from the query (kubectl sends either). */
function deleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const fromBody = body !== null && typeof body === 'object' ? (body as { gracePeriodSeconds?: unknown }).gracePeriodSeconds : undefined;
  const raw = fromBody ?? (query.has('gracePeriodSeconds') ? Number(query.get('gracePeriodSeconds')) : undefined);
  if (raw === undefined) return {};
  if (typeof raw !== 'number' || !Number.isInteger(raw)) throw badRequest('gracePeriodSeconds must be a whole number');
  // The apiserver treats a negative grace period as "use the default".
  return raw < 0 ? {} : { gracePeriodSeconds: raw };
}

export async function handleResourceRequest(
  ctx: ResourceHandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): Promise<void> {
  const ops = ctx.operations;
  const resource = route.resource.name;
  const method = req.method ?? 'GET';
  // Writes here are real writes: refuse dry runs rather than silently persisting them.
  if (query.has('dryRun')) throw badRequest('dryRun is not supported by the Kubernetes API stand-in');
  const watch = route.watchPrefix || queryBool(query, 'watch') === true;
  if (route.watchPrefix && method !== 'GET') throw methodNotAllowed();

  if (route.kind === 'collection') {
    if (method === 'GET' && watch) return ctx.openWatch(res, watchParams(ctx, route, query));
    if (method === 'GET') {
      const list = ops.list(resource, {
        namespace: route.namespace,
        fieldSelector: query.get('fieldSelector') ?? undefined,
        labelSelector: query.get('labelSelector') ?? undefined,
      });
      return sendRead(req, res, route, query, list);
    }
    // creating a namespaced object needs its namespace in the path (POST /api/v1/pods is 405)
    if (method === 'POST' && (!route.resource.namespaced || route.namespace !== undefined)) {
      return sendJson(res, 201, ops.create(resource, route.namespace, await readJsonBody(req)));
    }
    throw methodNotAllowed();
  }

  const namespace = route.namespace ?? '';
  const target = route.subresource === 'status' ? 'status' : 'main';
  switch (method) {
    case 'GET':
      if (watch && target === 'main') return ctx.openWatch(res, watchParams(ctx, route, query));
      return sendRead(req, res, route, query, ops.read(resource, namespace, route.name));
    case 'PUT':
      return sendJson(res, 200, ops.update(resource, namespace, route.name, await readJsonBody(req), target));
    case 'PATCH': {
      // the media type decides before the body is even parsed (415 before 400)
      const contentType = assertPatchType(req.headers['content-type']);
      const patch = await readJsonBody(req, [contentType]);
      return sendJson(res, 200, ops.patch(resource, namespace, route.name, contentType, patch, target));
    }
    case 'DELETE':
      if (target === 'status') throw methodNotAllowed();
    {
      const body = await readJsonBody(req);
      return sendJson(res, 200, ops.delete(resource, namespace, route.name, deletePreconditions(body), deleteOptions(body, query)));
    }
    default:
      throw methodNotAllowed();
  }
}

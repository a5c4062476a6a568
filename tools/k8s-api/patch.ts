import { jsonEqual } from './json-equality';
import { badRequest, unsupportedMediaType, ApiError } from './status';

// PATCH bodies. JSON merge patch (RFC 7386) also stands in for strategic merge patch: the
// two agree on maps (labels, annotations, status fields), which is what tests patch; they
// differ only on lists with merge keys (containers, conditions), which strategic merge
// merges by key and this replaces whole. JSON patch (RFC 6902) is here because it is
// @kubernetes/client-node's default Content-Type for every patch* method.

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const SUPPORTED_PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH] as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** RFC 6901 pointer → unescaped reference tokens. */
function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`json patch: invalid path "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

// A failed `test` or a missing path: the apiserver answers these with 422 Invalid-like
// errors; a 422 here keeps client retry logic (which only retries 409) honest.
const patchFailed = (message: string) =>
  new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the server rejected our request due to an error in our request: ${message}`,
    reason: 'Invalid',
    code: 422,
  });

function parentOf(doc: unknown, tokens: string[], path: string): { parent: Record<string, unknown> | unknown[]; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw patchFailed(`json patch: path "${path}" does not exist`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw patchFailed(`json patch: path "${path}" does not exist`);
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const t of pointerTokens(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, t) ? cur[t] : undefined;
    else cur = undefined;
    if (cur === undefined) throw patchFailed(`json patch: path "${path}" does not exist`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, path: string): number {
  if (forInsert && key === '-') return arr.length;
  const i = Number(key);
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^\d+$/.test(key) || i > max) throw patchFailed(`json patch: index out of range in "${path}"`);
  return i;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointerTokens(path);
  if (tokens.length === 0) return structuredClone(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, path), 0, structuredClone(value));
  else parent[key] = structuredClone(value);
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const tokens = pointerTokens(path);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, path), 1);
  else if (Object.prototype.hasOwnProperty.call(parent, key)) delete parent[key];
  else throw patchFailed(`json patch: path "${path}" does not exist`);
  return doc;
}

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch: the body must be a JSON array of operations');
  let doc: unknown = structuredClone(target);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isObject(raw) || typeof raw.path !== 'string') throw badRequest('json patch: every operation needs op and path');
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, raw.path, raw.value);
        break;
      case 'remove':
        doc = removeAt(doc, raw.path);
        break;
      case 'replace':
        getAt(doc, raw.path);
        doc = addAt(removeAt(doc, raw.path), raw.path, raw.value);
        break;
      case 'move': {
        const v = getAt(doc, raw.from ?? '');
        doc = addAt(removeAt(doc, raw.from ?? ''), raw.path, v);
        break;
      }
      case 'copy':
        doc = addAt(doc, raw.path, getAt(doc, raw.from ?? ''));
        break;
      case 'test':
        if (!jsonEqual(getAt(doc, raw.path), raw.value)) {
          throw patchFailed(`json patch: test failed at "${raw.path}"`);
        }
        break;
      default:
        throw badRequest(`json patch: unknown operation "${String((raw as { op: unknown }).op)}"`);
    }
  }
  return doc;
}

/** Media type without parameters (`application/merge-patch+json; charset=utf-8`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The patch media type of a Content-Type header, or a 415 for any other. */
export function assertPatchType(contentType: string | undefined): string {
  const type = mediaType(contentType);
  if (!(SUPPORTED_PATCH_TYPES as readonly string[]).includes(type)) throw unsupportedMediaType(type, SUPPORTED_PATCH_TYPES);
  return type;
}

export function applyPatch(contentType: string | undefined, target: unknown, patch: unknown): unknown {
  return assertPatchType(contentType) === JSON_PATCH ? applyJsonPatch(target, patch) : applyMergePatch(target, patch);
}

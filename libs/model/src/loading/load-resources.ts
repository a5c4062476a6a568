import { Document, LineCounter, parseAllDocuments } from 'yaml';
import {
  API_VERSION,
  applyDefaults,
  describeValue,
  isResourceKind,
  RESOURCE_KINDS,
  Resource,
  validateResource,
} from '../resources';
import { LoadProblem, loadProblem, ResourceLoadError } from './load-error';

export interface LoadOptions {
  /** Refuse input larger than this many bytes (UTF-8). Default 4 MiB. */
  maxBytes?: number;
  /** Refuse input with more resources than this (documents plus List items). Default 1000. */
  maxResources?: number;
  /** Return resources with their kind's defaults applied. Default false: as written. */
  applyDefaults?: boolean;
}

export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_RESOURCES = 1000;
// YAML aliases can expand a small file into a huge tree ("billion laughs"); resources never need many.
const MAX_ALIAS_COUNT = 100;

/** One resource-shaped value and where it came from. */
interface Located {
  readonly value: unknown;
  readonly document: number;
  readonly item?: number;
}

/**
 * Parses YAML or JSON (JSON is read as YAML, of which it is a subset) holding one or more
 * `projectcalico.org/v3` resources: several documents separated by `---`, and/or `List` /
 * `<Kind>List` documents with `items`, as `calicoctl get -o yaml` prints them. Empty
 * documents are skipped. Every resource is validated (validateResource); the same kind and
 * name twice in one input is refused. Returns the resources as written (null fields
 * dropped, since null means unset) or, with `applyDefaults`, defaulted.
 *
 * Throws ResourceLoadError listing every problem, each naming the source, the 1-based
 * document (and List item) number, the resource and the field.
 */
export function loadResources(text: string, source = '<input>', options: LoadOptions = {}): Resource[] {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxResources = options.maxResources ?? DEFAULT_MAX_RESOURCES;
  const fail = (problem: Omit<LoadProblem, 'message' | 'source'>): never => {
    throw new ResourceLoadError([loadProblem({ source, ...problem })]);
  };

  if (typeof text !== 'string') fail({ text: 'input must be text' });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    fail({ text: `input is ${bytes} bytes, more than the limit of ${maxBytes}; split it into smaller files` });
  }

  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  if (documents.length > maxResources) {
    fail({ text: `input has ${documents.length} documents, more than the limit of ${maxResources}` });
  }

  const problems: LoadProblem[] = [];
  const located: Located[] = [];
  documents.forEach((doc, i) => {
    const document = i + 1;
    const value = documentValue(doc, document, source, lineCounter, problems);
    if (value === undefined || value === null) return; // empty document, e.g. a trailing `---`
    located.push(...expandList(value, document, source, problems));
  });
  if (located.length > maxResources) {
    fail({ text: `input has ${located.length} resources, more than the limit of ${maxResources}` });
  }

  const resources: Resource[] = [];
  const seen = new Map<string, Located>();
  for (const entry of located) {
    const where = { source, document: entry.document, ...(entry.item === undefined ? {} : { item: entry.item }) };
    if (!isObject(entry.value)) {
      const text = `must be a resource (a mapping with apiVersion, kind, metadata and spec), got ${describeValue(entry.value)}`;
      problems.push(loadProblem({ ...where, text }));
      continue;
    }
    const errors = validateResource(entry.value);
    for (const error of errors) {
      problems.push(
        loadProblem({ ...where, kind: error.kind, resourceName: error.resourceName, field: error.field, text: error.detail }),
      );
    }
    if (errors.length > 0) continue;
    const resource = withoutNulls(entry.value) as Resource;
    const key = `${resource.kind}/${resource.metadata.name}`;
    const earlier = seen.get(key);
    if (earlier) {
      problems.push(
        loadProblem({
          ...where,
          kind: resource.kind,
          resourceName: resource.metadata.name,
          field: 'metadata.name',
          text: `metadata.name: the same ${resource.kind} is also defined in ${describeLocation(earlier)}`,
        }),
      );
      continue;
    }
    seen.set(key, entry);
    resources.push(options.applyDefaults ? applyDefaults(resource) : resource);
  }

  const [first, ...rest] = problems;
  if (first) throw new ResourceLoadError([first, ...rest]);
  return resources;
}

function describeLocation(entry: Located): string {
  return entry.item === undefined ? `document ${entry.document}` : `document ${entry.document}, item ${entry.item}`;
}

/** The plain value of one YAML document, or undefined after recording its syntax errors. */
function documentValue(
  doc: Document.Parsed,
  document: number,
  source: string,
  lineCounter: LineCounter,
  problems: LoadProblem[],
): unknown {
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      problems.push(loadProblem({ source, document, line, text: `YAML syntax error at column ${col}: ${error.message}` }));
    }
    return undefined;
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // Unresolved or excessive aliases surface only when the tree is built.
    problems.push(loadProblem({ source, document, text: `YAML error: ${err instanceof Error ? err.message : String(err)}` }));
    return undefined;
  }
}

const LIST_FIELDS = ['apiVersion', 'kind', 'metadata', 'items'];

/**
 * A `List` (any known kinds; apiVersion v1 as kubectl writes it, or projectcalico.org/v3) or
 * `<Kind>List` (one kind; items may leave out apiVersion and kind) becomes its items;
 * anything else is one resource.
 */
function expandList(value: unknown, document: number, source: string, problems: LoadProblem[]): Located[] {
  if (!isObject(value)) return [{ value, document }];
  const list = value;
  const kind = list['kind'];
  if (typeof kind !== 'string' || !kind.endsWith('List')) return [{ value, document }];

  const local: LoadProblem[] = [];
  const add = (field: string, text: string) => local.push(loadProblem({ source, document, kind, field, text }));
  for (const key of Object.keys(list)) {
    if (!LIST_FIELDS.includes(key)) add(key, `${key}: unknown field ${JSON.stringify(key)}`);
  }
  const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  if (itemKind !== undefined && !isResourceKind(itemKind)) {
    add('kind', `kind: must be List or one of ${RESOURCE_KINDS.map((k) => `${k}List`).join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const allowedVersions = kind === 'List' ? ['v1', API_VERSION] : [API_VERSION];
  if (!allowedVersions.includes(list['apiVersion'] as string)) {
    add('apiVersion', `apiVersion: must be ${allowedVersions.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(list['apiVersion'] ?? null)}`);
  }
  const items = list['items'];
  if (items !== undefined && items !== null && !Array.isArray(items)) add('items', 'items: must be a list');
  if (local.length > 0) {
    problems.push(...local);
    return [];
  }
  const located: Located[] = [];
  (Array.isArray(items) ? items : []).forEach((item: unknown, i) => {
    const ownKind = isObject(item) ? item['kind'] : undefined;
    if (itemKind !== undefined && ownKind !== undefined && ownKind !== itemKind) {
      const text = `kind: must be ${JSON.stringify(itemKind)}, the kind of every item in ${kind}, got ${JSON.stringify(ownKind)}`;
      problems.push(loadProblem({ source, document, item: i + 1, field: 'kind', text }));
      return;
    }
    located.push({ value: itemKind === undefined ? item : withListDefaults(item, itemKind), document, item: i + 1 });
  });
  return located;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Items of a typed list may leave out apiVersion and kind; they are the list's. */
function withListDefaults(item: unknown, kind: string): unknown {
  if (!isObject(item)) return item;
  const { apiVersion, kind: ownKind, ...rest } = item;
  return { apiVersion: apiVersion ?? API_VERSION, kind: ownKind ?? kind, ...rest };
}

/** A copy without null-valued object fields: null means "unset", as in Go's JSON decoding. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== null) out[key] = withoutNulls(field);
  }
  return out;
}

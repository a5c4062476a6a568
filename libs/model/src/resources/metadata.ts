import {
  annotationKeyProblems,
  ANNOTATIONS_MAX_TOTAL_BYTES,
  annotationsTotalBytes,
  labelKeyProblems,
  labelValueProblems,
  resourceNameProblems,
} from './names';
import { isPlainObject, PlainObject, readObject, readString, readStringMap, rejectUnknownFields } from './field-types';
import { mapEntryPath, ProblemList } from './problem-list';

/** The API group/version of every resource Atoll reads and writes, as in Calico. */
export const API_VERSION = 'projectcalico.org/v3';
export type ApiVersion = typeof API_VERSION;

/**
 * The subset of Kubernetes ObjectMeta that Calico's v3 resources use. All four kinds here
 * are cluster-scoped, so there is no namespace.
 */
export interface ObjectMeta {
  name: string;
  uid?: string;
  creationTimestamp?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

const METADATA_FIELDS = [
  'name',
  'uid',
  'creationTimestamp',
  'resourceVersion',
  'labels',
  'annotations',
  'deletionTimestamp',
] as const;

const STRING_METADATA_FIELDS = ['uid', 'creationTimestamp', 'resourceVersion', 'deletionTimestamp'] as const;

/** The name as written, if it is a string; used to label problems before the name is checked. */
export function nameOf(value: unknown): string | undefined {
  if (!isPlainObject(value) || !isPlainObject(value['metadata'])) return undefined;
  const name = value['metadata']['name'];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Checks metadata: a valid resource name (required), string fields, label keys/values per
 * Kubernetes rules, annotation keys and total size. `checkName` replaces the default
 * DNS-1123 name rule for kinds with their own (IPAMConfiguration must be "default").
 */
export function validateMetadata(
  problems: ProblemList,
  value: unknown,
  options: { checkName?: (name: string) => string[] } = {},
): void {
  if (value === undefined || value === null) {
    problems.add('metadata.name', 'name is required');
    return;
  }
  const metadata = readObject(problems, value, 'metadata');
  if (!metadata) return;
  if (metadata['namespace'] !== undefined && metadata['namespace'] !== null) {
    problems.add('metadata.namespace', `${problems.kind} is cluster-scoped: remove the namespace`, metadata['namespace']);
  }
  rejectUnknownFields(
    problems,
    Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'namespace')),
    'metadata',
    METADATA_FIELDS,
  );

  const name = readString(problems, metadata, 'name', 'metadata');
  if (metadata['name'] === undefined || metadata['name'] === null) problems.add('metadata.name', 'name is required');
  if (name !== undefined) {
    const nameProblems = (options.checkName ?? resourceNameProblems)(name);
    for (const reason of nameProblems) problems.add('metadata.name', reason, name);
  }
  for (const key of STRING_METADATA_FIELDS) readString(problems, metadata, key, 'metadata');

  const labels = readStringMap(problems, metadata, 'labels', 'metadata');
  if (labels) validateLabels(problems, labels, 'metadata.labels');

  const annotations = readStringMap(problems, metadata, 'annotations', 'metadata');
  if (annotations) validateAnnotations(problems, annotations);
}

export function validateLabels(problems: ProblemList, labels: Readonly<Record<string, string>>, field: string): void {
  for (const [key, value] of Object.entries(labels)) {
    const entry = mapEntryPath(field, key);
    for (const reason of labelKeyProblems(key)) problems.add(entry, `invalid label key: ${reason}`);
    for (const reason of labelValueProblems(value)) problems.add(entry, `invalid label value: ${reason}`, value);
  }
}

function validateAnnotations(problems: ProblemList, annotations: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(annotations)) {
    for (const reason of annotationKeyProblems(key)) {
      problems.add(mapEntryPath('metadata.annotations', key), `invalid annotation key: ${reason}`);
    }
  }
  const total = annotationsTotalBytes(annotations);
  if (total > ANNOTATIONS_MAX_TOTAL_BYTES) {
    problems.add(
      'metadata.annotations',
      `total size of annotations is too large by ${total - ANNOTATIONS_MAX_TOTAL_BYTES} bytes`,
    );
  }
}

/**
 * Checks apiVersion, kind and the allowed top-level fields, then metadata. Returns the
 * spec object (an absent spec is an empty one, as in Go), or undefined when spec is not an object.
 */
export function validateEnvelope(
  problems: ProblemList,
  value: unknown,
  options: { allowStatus: boolean; checkName?: (name: string) => string[] },
): PlainObject | undefined {
  if (!isPlainObject(value)) {
    problems.add('(resource)', 'must be an object', value);
    return undefined;
  }
  rejectUnknownFields(
    problems,
    value,
    '',
    options.allowStatus ? ['apiVersion', 'kind', 'metadata', 'spec', 'status'] : ['apiVersion', 'kind', 'metadata', 'spec'],
  );
  if (value['apiVersion'] !== API_VERSION) {
    problems.add('apiVersion', `must be ${JSON.stringify(API_VERSION)}`, value['apiVersion'] ?? null);
  }
  if (value['kind'] !== problems.kind) {
    problems.add('kind', `must be ${JSON.stringify(problems.kind)}`, value['kind'] ?? null);
  }
  if (options.allowStatus) readObject(problems, value['status'], 'status');
  validateMetadata(problems, value['metadata'], options.checkName ? { checkName: options.checkName } : {});
  if (value['spec'] === undefined || value['spec'] === null) return {};
  return readObject(problems, value['spec'], 'spec');
}

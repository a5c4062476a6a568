import { fieldPath, indexPath, mapEntryPath, ProblemList } from './problem-list';

// Readers for untyped input (parsed YAML/JSON). Each one reports a wrong type as a problem
// naming the field and returns undefined, so later checks see the field as absent and do
// not pile a second message on the same mistake.
//
// `null` counts as absent everywhere: Go's JSON decoding, which Calico uses, leaves a field
// at its zero value for `null`, so `nodeSelector:` with nothing after it means "unset".

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `field`, or undefined (reported) when it is something else. Absent → undefined, silently. */
export function readObject(problems: ProblemList, value: unknown, field: string): PlainObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (isPlainObject(value)) return value;
  problems.add(field, 'must be an object', value);
  return undefined;
}

/** calicoctl decodes strictly: a field it does not know is an error, not silently dropped. */
export function rejectUnknownFields(
  problems: ProblemList,
  object: PlainObject,
  parent: string,
  known: readonly string[],
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) problems.add(fieldPath(parent, key), `unknown field ${JSON.stringify(key)}`);
  }
}

export function readString(problems: ProblemList, object: PlainObject, key: string, parent: string): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  problems.add(fieldPath(parent, key), 'must be a string', value);
  return undefined;
}

export function readBoolean(problems: ProblemList, object: PlainObject, key: string, parent: string): boolean | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  // YAML 1.1 spellings (yes/no/on/off) are plain strings in YAML 1.2; say what is accepted.
  problems.add(fieldPath(parent, key), 'must be true or false', value);
  return undefined;
}

export function readInteger(problems: ProblemList, object: PlainObject, key: string, parent: string): number | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  problems.add(fieldPath(parent, key), 'must be an integer', value);
  return undefined;
}

/** A list of strings; wrong entries are reported one by one and left out of the result. */
export function readStringList(
  problems: ProblemList,
  object: PlainObject,
  key: string,
  parent: string,
): string[] | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  const field = fieldPath(parent, key);
  if (!Array.isArray(value)) {
    problems.add(field, 'must be a list of strings', value);
    return undefined;
  }
  const out: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry === 'string') out.push(entry);
    else problems.add(indexPath(field, i), 'must be a string', entry);
  });
  return out;
}

/** A string → string map (labels, annotations). */
export function readStringMap(
  problems: ProblemList,
  object: PlainObject,
  key: string,
  parent: string,
): Record<string, string> | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  const field = fieldPath(parent, key);
  if (!isPlainObject(value)) {
    problems.add(field, 'must be a map of strings to strings', value);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else problems.add(mapEntryPath(field, k), 'must be a string', v);
  }
  return out;
}

/** A list of objects; each entry that is not an object is reported. Entries keep their index. */
export function readObjectList(
  problems: ProblemList,
  object: PlainObject,
  key: string,
  parent: string,
): Array<{ entry: PlainObject; field: string }> | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  const field = fieldPath(parent, key);
  if (!Array.isArray(value)) {
    problems.add(field, 'must be a list', value);
    return undefined;
  }
  const out: Array<{ entry: PlainObject; field: string }> = [];
  value.forEach((entry: unknown, i) => {
    const entryField = indexPath(field, i);
    if (isPlainObject(entry)) out.push({ entry, field: entryField });
    else problems.add(entryField, 'must be an object', entry);
  });
  return out;
}

/**
 * A string that must be one of `allowed`. With `emptyMeansAbsent`, "" is the same as a
 * missing field (Calico's `omitempty` string enums such as ipipMode); otherwise "" is
 * refused like any other unknown value (Calico's pointer enums such as assignmentMode).
 */
export function readEnum<T extends string>(
  problems: ProblemList,
  object: PlainObject,
  key: string,
  parent: string,
  allowed: readonly T[],
  options: { emptyMeansAbsent?: boolean } = {},
): T | undefined {
  const value = readString(problems, object, key, parent);
  if (value === undefined || (value === '' && options.emptyMeansAbsent)) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  problems.add(fieldPath(parent, key), `must be one of ${allowed.join(', ')}`, value);
  return undefined;
}

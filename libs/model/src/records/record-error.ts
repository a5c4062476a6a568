/** A stored value that does not have the shape of the record it should hold. */
export class RecordDecodeError extends Error {
  constructor(
    readonly record: string,
    readonly field: string,
    reason: string,
  ) {
    super(`invalid ${record}: ${field}: ${reason}`);
    this.name = 'RecordDecodeError';
  }
}

export function asObject(record: string, field: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RecordDecodeError(record, field, 'expected an object');
  return v as Record<string, unknown>;
}

export function optionalString(record: string, field: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new RecordDecodeError(record, field, 'expected a string');
  return v;
}

export function optionalBoolean(record: string, field: string, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new RecordDecodeError(record, field, 'expected true or false');
  return v;
}

export function uint64(record: string, field: string, v: unknown): bigint {
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new RecordDecodeError(record, field, 'expected an unsigned integer');
}

export function stringMap(record: string, field: string, v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const o = asObject(record, field, v);
  for (const [k, x] of Object.entries(o)) {
    if (typeof x !== 'string') throw new RecordDecodeError(record, `${field}.${k}`, 'expected a string');
  }
  // fromEntries defines own properties: a key named "__proto__" stays a key (assignment
  // would set the prototype and drop it).
  return Object.fromEntries(Object.entries(o)) as Record<string, string>;
}

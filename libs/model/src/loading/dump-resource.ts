import { Document, parseDocument, Scalar, visit } from 'yaml';
import { Resource } from '../resources';

export type DumpFormat = 'yaml' | 'json';

const TOP_LEVEL_ORDER = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

/**
 * Text for printing or saving a resource, which loadResources reads back to an equal
 * resource. Top-level fields come in the conventional order (apiVersion, kind, metadata,
 * spec, status); the rest keep theirs.
 */
export function dumpResource(resource: Resource, format: DumpFormat): string {
  const ordered = orderTopLevel(resource);
  if (format === 'json') return `${JSON.stringify(ordered, null, 2)}\n`;
  const doc = new Document(ordered);
  // Written as YAML 1.2, but Go's yaml (calicoctl, kubectl) reads YAML 1.1, where plain
  // yes/no/on/off are booleans and 2024-01-01 is a timestamp: quote every string, keys
  // included (a label key "on" would otherwise become "true"), that a YAML 1.1 reader would
  // take for something else, so both read the same text.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && !readsAsStringInYaml11(node.value)) {
        node.type = Scalar.QUOTE_DOUBLE;
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Anything doubtful (errors, warnings such as unknown tags) counts as "not a string": quoting is always safe. */
function readsAsStringInYaml11(text: string): boolean {
  const doc = parseDocument(text, { version: '1.1', logLevel: 'silent' });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return false;
  try {
    return typeof doc.toJS() === 'string';
  } catch {
    return false;
  }
}

function orderTopLevel(resource: Resource): Record<string, unknown> {
  const fields = resource as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_ORDER) if (fields[key] !== undefined) out[key] = fields[key];
  for (const [key, value] of Object.entries(fields)) if (!(key in out) && value !== undefined) out[key] = value;
  return out;
}

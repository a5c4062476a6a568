import { parseDocument } from 'yaml';

/** One YAML (or JSON) document as plain data; a syntax error throws naming the first problem. */
export function parseYamlDocument(text: string, what: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, version: '1.2' });
  if (doc.errors.length > 0) throw new Error(`${what} is not valid YAML: ${doc.errors[0]!.message}`);
  return doc.toJS();
}

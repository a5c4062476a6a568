// Indented JSON for machine-readable output. Like JSON.stringify(value, null, 2), except
// that bigint values (block sequence numbers, IPv6-sized counts) are written as their exact
// digits instead of throwing: `jq` and Go read them as numbers.

function write(value: unknown, indent: string, step: string): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'object': {
      if (value === null) return 'null';
      const inner = indent + step;
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        const items = value.map((v) => inner + (write(v, inner, step) ?? 'null'));
        return `[\n${items.join(',\n')}\n${indent}]`;
      }
      const entries: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const text = write(v, inner, step);
        if (text !== undefined) entries.push(`${inner}${JSON.stringify(k)}: ${text}`);
      }
      return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
    }
    default:
      return undefined; // undefined, functions, symbols: left out, as JSON.stringify does
  }
}

/** The value as indented JSON text ending in "\n". */
export function formatJson(value: unknown): string {
  return `${write(value, '', '  ') ?? 'null'}\n`;
}

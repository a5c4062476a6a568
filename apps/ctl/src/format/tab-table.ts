// The column tables of `calicoctl get` (Go's text/tabwriter with minwidth 5, padding 3 and
// every cell tab-terminated): each column is as wide as its widest cell plus three spaces,
// at least five; the last column is padded too, as calicoctl's is.

const MIN_WIDTH = 5;
const PADDING = 3;

function width(text: string): number {
  return [...text].length;
}

/** Header line and one line per row, each ending in "\n". */
export function renderTabTable(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headings, ...rows];
  const widths = headings.map((_, i) => Math.max(MIN_WIDTH, ...all.map((r) => width(r[i] ?? '') + PADDING)));
  const cell = (text: string, i: number) => text + ' '.repeat(widths[i]! - width(text));
  return all.map((r) => headings.map((_, i) => cell(r[i] ?? '', i)).join('') + '\n').join('');
}

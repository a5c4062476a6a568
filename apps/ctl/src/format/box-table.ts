// The boxed tables of `calicoctl ipam show` (go-pretty's default style): `+---+` borders,
// one space of padding, headers centred, each column aligned on its own.

export type Alignment = 'left' | 'right';

export interface BoxColumn {
  readonly header: string;
  readonly align?: Alignment;
}

/** Display width in code points (addresses and names are ASCII; this keeps odd input aligned). */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, size: number, align: Alignment | 'center'): string {
  const gap = Math.max(size - width(text), 0);
  if (align === 'right') return ' '.repeat(gap) + text;
  if (align === 'left') return text + ' '.repeat(gap);
  // Calico's documented output puts the odd space on the right: "| IPS TOTAL  |".
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + text + ' '.repeat(gap - left);
}

/** The table as text, every line ending in "\n"; rows shorter than the header get empty cells. */
export function renderBoxTable(columns: readonly BoxColumn[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+\n`;
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |\n`;
  const header = line(columns.map((c, i) => pad(c.header, widths[i]!, 'center')));
  const body = rows.map((r) => line(columns.map((c, i) => pad(r[i] ?? '', widths[i]!, c.align ?? 'left')))).join('');
  return border + header + border + body + border;
}

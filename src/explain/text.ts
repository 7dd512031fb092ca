// Small text-layout helpers shared by the explain renderers (pure).

function width(text: string): number {
  return [...text].length;
}

export interface ColumnOptions {
  /** Put before every line. */
  indent?: string;
  /** Spaces after a column's widest cell. */
  gap?: number;
  /** The narrowest a padded column may be, gap included (Go's tabwriter minwidth). */
  minWidth?: number;
  /** Drop trailing spaces (default true). */
  trim?: boolean;
}

/** Pad every column but the last to its widest cell plus `gap` spaces (at least `minWidth`). */
export function columns(rows: string[][], options: ColumnOptions = {}): string[] {
  const indent = options.indent ?? '';
  const gap = options.gap ?? 2;
  const count = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < count - 1; c++) widths.push(Math.max(options.minWidth ?? 0, Math.max(0, ...rows.map((r) => width(r[c] ?? ''))) + gap));
  return rows.map((row) => {
    const line = indent + row.map((cell, c) => (c === row.length - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - width(cell)))).join('');
    return options.trim === false ? line : line.trimEnd();
  });
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

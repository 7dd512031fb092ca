// Small text-layout helpers shared by the explain renderers (pure).

function width(text: string): number {
  return [...text].length;
}

/** Pad every column but the last to its widest cell plus `gap` spaces; lines are indented by `indent`. */
export function columns(rows: string[][], options: { indent?: string; gap?: number } = {}): string[] {
  const indent = options.indent ?? '';
  const gap = options.gap ?? 2;
  const count = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < count - 1; c++) widths.push(Math.max(0, ...rows.map((r) => width(r[c] ?? ''))));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, c) => (c === row.length - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - width(cell) + gap)))
        .join('')
        .trimEnd(),
  );
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

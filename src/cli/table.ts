// Docker's table layout (Go tabwriter: min width 10, padding 3, last column unpadded).
export { humanDuration, humanSize, timeAgo } from './human.js';

const MIN_WIDTH = 10;
const PADDING = 3;

function width(text: string): number {
  return [...text].length;
}

/**
 * Align rows under headers as `docker ps`/`docker images` do: every column but the last is padded
 * to max(widest cell + 3, 10). Returns the lines joined with '\n', without a trailing newline.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const lines = [headers, ...rows];
  const columns = Math.max(...lines.map((l) => l.length));
  const widths: number[] = [];
  for (let c = 0; c < columns - 1; c++) {
    const widest = Math.max(...lines.map((l) => width(l[c] ?? '')));
    widths.push(Math.max(widest + PADDING, MIN_WIDTH));
  }
  return lines
    .map((line) =>
      line
        .map((cell, c) => {
          const w = widths[c];
          return w === undefined || c === line.length - 1 ? cell : cell + ' '.repeat(w - width(cell));
        })
        .join(''),
    )
    .join('\n');
}

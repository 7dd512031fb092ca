// Docker's table layout (Go tabwriter: min width 10, padding 3, last column unpadded).
import { columns } from '../explain/text.js';
import { compileTemplate } from './template.js';
export { humanDuration, humanSize, timeAgo } from '../base/human.js';

/**
 * Align rows under headers as `docker ps`/`docker images` do: every column but the last is padded
 * to max(widest cell + 3, 10). Returns the lines joined with '\n', without a trailing newline.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  return columns([headers, ...rows], { gap: 3, minWidth: 10, trim: false }).join('\n');
}

/**
 * Rows as Docker prints them: the default columns, or a --format template per row, where a
 * `table ` prefix aligns the template's tab-separated cells under the same template rendered
 * with the headers.
 */
export function formatRows<Row extends object>(rows: Row[], headers: Row, columns: (keyof Row)[], format?: string): string {
  const cells = (row: Row): string[] => columns.map((c) => String(row[c]));
  if (format === undefined || format === '' || format === 'table') return formatTable(cells(headers), rows.map(cells));
  const table = /^table\s+/.exec(format);
  if (!table) {
    const template = compileTemplate(format);
    return rows.map((row) => template.execute(row)).join('\n');
  }
  const template = compileTemplate(format.slice(table[0].length));
  const split = (line: string): string[] => line.split('\t');
  // The header row through Docker's HeaderFunctions: `{{.Name | upper}}` still heads NAME.
  return formatTable(split(template.execute(headers, { header: true })), rows.map((row) => split(template.execute(row))));
}

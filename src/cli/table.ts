// Docker's table layout (Go tabwriter: min width 10, padding 3, last column unpadded).
import { columns } from '../explain/text.js';
export { humanDuration, humanSize, timeAgo } from './human.js';

/**
 * Align rows under headers as `docker ps`/`docker images` do: every column but the last is padded
 * to max(widest cell + 3, 10). Returns the lines joined with '\n', without a trailing newline.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  return columns([headers, ...rows], { gap: 3, minWidth: 10, trim: false }).join('\n');
}

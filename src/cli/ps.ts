// `ps`: Docker's columns, statuses and truncation, from container records (pure).
import type { ContainerRecord } from '../base/records.js';
import { formatPortsColumn } from '../network/ports.js';
import { dockerStatus, statusText } from '../runtime/inspect.js';
import { formatRows, timeAgo } from './table.js';

export interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  trunc?: boolean;
  format?: string;
}

function ellipsis(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Status: string;
  Ports: string;
  Names: string;
  State: string;
  Networks: string;
}

export function psRow(record: ContainerRecord, now: Date, truncate: boolean): PsRow {
  const command = [...record.config.entrypoint, ...record.config.cmd].join(' ');
  return {
    ID: truncate ? record.id.slice(0, 12) : record.id,
    Image: record.config.image,
    Command: `"${truncate ? ellipsis(command, 20) : command}"`,
    CreatedAt: record.created,
    RunningFor: timeAgo(new Date(record.created), now),
    Status: statusText(record, now),
    Ports: formatPortsColumn(record.network?.ports ?? record.rootlessNet?.ports ?? []),
    Names: record.name,
    State: dockerStatus(record),
    Networks: record.hostConfig.networkMode,
  };
}

/** Docker's column titles for `ps --format 'table …'`. */
const PS_HEADERS: PsRow = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES', State: 'STATE', Networks: 'NETWORKS',
};

export function formatPsTable(records: ContainerRecord[], flags: PsFlags, now: Date): string {
  const truncate = flags.trunc !== false;
  if (flags.quiet) return records.map((r) => (truncate ? r.id.slice(0, 12) : r.id)).join('\n');
  const rows = records.map((r) => psRow(r, now, truncate));
  return formatRows(rows, PS_HEADERS, ['ID', 'Image', 'Command', 'RunningFor', 'Status', 'Ports', 'Names'], flags.format);
}

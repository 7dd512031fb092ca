// The Engine API's wire basics: JSON bodies in (capped), JSON and errors out with Docker's
// status codes, and query parameters as Docker reads them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MinictrError } from '../base/errors.js';

/** Docker's limit is larger; 1 MiB of JSON is more than any create body needs. */
export const MAX_BODY_BYTES = 1 << 20;

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function readJson<T>(req: IncomingMessage): Promise<T | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ApiError(400, `invalid JSON in the request body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Docker's status for one of minictr's errors: 404 not found, 409 conflict, 403 address taken, 400 bad input, 500 else. */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (!(err instanceof MinictrError)) return 500;
  if (/^E_NO_SUCH_|^E_NOT_FOUND$|^E_IMAGE_GONE$/.test(err.code)) return 404;
  if (/^E_NAME_IN_USE$|^E_PORT_IN_USE$|^E_RUNNING$|^E_NOT_RUNNING$|^E_PAUSED$|^E_VOLUME_IN_USE$|^E_NETWORK_EXISTS$|^E_AMBIGUOUS$|^E_ALREADY_CONNECTED$|^E_NOT_CONNECTED$|^E_ALIAS_CLASH$|^E_FIRST_NETWORK$|^E_ONE_NETWORK$/.test(err.code)) return 409;
  // libnetwork's "Address already in use" is a Forbidden error: 403.
  if (err.code === 'E_ADDRESS_IN_USE') return 403;
  if (/^E_BAD_|^E_NOT_A_TTY$|^E_CONFLICTING_OPTIONS$/.test(err.code)) return 400;
  return 500;
}

export function sendError(res: ServerResponse, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, statusOf(err), { message });
}

/** Docker's booleans in a query: 1, true, True. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v !== null && ['1', 'true', 'True', 'TRUE'].includes(v);
}

/** Docker's `filters` query: a JSON map of name → values (a list, or a map of value → true). */
export function queryFilters(query: URLSearchParams): Record<string, string[]> {
  const raw = query.get('filters');
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError(400, `invalid filters: ${raw}`);
  }
  const out: Record<string, string[]> = {};
  if (parsed && typeof parsed === 'object') {
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      out[key] = Array.isArray(value) ? value.map(String) : value && typeof value === 'object' ? Object.keys(value) : [];
    }
  }
  return out;
}

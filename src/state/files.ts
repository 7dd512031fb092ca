// Atomic JSON files: write a temp file beside the target, then rename over it.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MinictrError, errorMessage } from '../errors.js';

function parseJson<T>(path: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new MinictrError('E_STATE_CORRUPT', `${path} is not valid JSON; remove it or restore it`, { cause: err });
  }
}

function readFailure(path: string, err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw new MinictrError('E_STATE_READ', `could not read ${path}: ${errorMessage(err)}`, { cause: err });
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return readFailure(path, err);
  }
  return parseJson<T>(path, text);
}

/**
 * The same, blocking: for reading many small records at once (every container's), where
 * a thread-pool round trip per open, read and close would cost more than the reads.
 */
export function readJsonSync<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return readFailure(path, err);
  }
  return parseJson<T>(path, text);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new MinictrError(
      'E_STATE_WRITE',
      `could not write ${path}: ${errorMessage(err)}; check that the state dir is writable and not full`,
      { cause: err },
    );
  }
}

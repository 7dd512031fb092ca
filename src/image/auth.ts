// Registry credentials from `minictr login`: <root>/auth.json, mode 0600, shaped like Docker's
// config.json ({"auths": {"HOST": {"auth": base64("user:password")}}}).
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';
import { readJson, writeJsonAtomic } from '../state/files.js';
import { withLock } from '../state/lock.js';
import type { Paths } from '../state/paths.js';
import type { Credentials } from './registry.js';

interface AuthFile {
  auths: Record<string, { auth?: string }>;
}

export function authFile(paths: Paths): string {
  return join(paths.root, 'auth.json');
}

async function readAuth(paths: Paths): Promise<AuthFile> {
  const raw = await readJson<Partial<AuthFile>>(authFile(paths));
  if (raw === undefined) return { auths: {} };
  if (typeof raw !== 'object' || raw === null || typeof raw.auths !== 'object' || raw.auths === null) {
    throw new MinictrError('E_STATE_CORRUPT', `${authFile(paths)} is not a credentials file; remove it and log in again`);
  }
  return { auths: raw.auths };
}

/** The stored credentials for a registry key ('docker.io', 'localhost:5000'), if any. */
export async function credentialsFor(paths: Paths, key: string): Promise<Credentials | undefined> {
  const entry = (await readAuth(paths)).auths[key];
  if (!entry?.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Store credentials for a registry (replacing any), readable by root only. */
export async function storeCredentials(paths: Paths, key: string, creds: Credentials): Promise<string> {
  return withLock(paths, 'images', async () => {
    const file = await readAuth(paths);
    file.auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
    await writeJsonAtomic(authFile(paths), file);
    await chmod(authFile(paths), 0o600);
    return authFile(paths);
  });
}

/** Forget a registry's credentials; false when there were none. */
export async function removeCredentials(paths: Paths, key: string): Promise<boolean> {
  return withLock(paths, 'images', async () => {
    const file = await readAuth(paths);
    if (!(key in file.auths)) return false;
    delete file.auths[key];
    await writeJsonAtomic(authFile(paths), file);
    return true;
  });
}

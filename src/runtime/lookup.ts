// Finds a container's command inside its root filesystem before starting it, so a missing
// command fails at once with Docker's 127 (or 126) instead of inside a half-started container.
// Blocking calls on purpose: a PATH search is a chain of ~20 lstat()s, each one a thread-pool
// round trip when asynchronous (~4 ms in all), and nothing else runs meanwhile.
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { MinictrError, EXIT_CANNOT_INVOKE, EXIT_NOT_FOUND } from '../base/errors.js';

/** Resolve `path` (absolute, inside the container) against layered roots, following symlinks inside them. */
function resolveIn(roots: string[], path: string, depth = 0): { host: string } | undefined {
  if (depth > 40) return undefined;
  const parts = posix.normalize(path).split('/').filter(Boolean);
  let current = '/';
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(current, parts[i] ?? '');
    let found: { host: string; isLink: boolean } | undefined;
    for (const root of roots) {
      const host = join(root, next);
      try {
        const st = lstatSync(host);
        found = { host, isLink: st.isSymbolicLink() };
        break;
      } catch {
        // not in this layer
      }
    }
    if (!found) return undefined;
    if (found.isLink) {
      const target = readlinkSync(found.host);
      const rest = parts.slice(i + 1).join('/');
      const base = target.startsWith('/') ? target : posix.join(current, target);
      return resolveIn(roots, posix.join(base, rest), depth + 1);
    }
    current = next;
  }
  for (const root of roots) {
    try {
      lstatSync(join(root, current));
      return { host: join(root, current) };
    } catch {
      // next layer
    }
  }
  return undefined;
}

/**
 * Check the command exists and is executable in the container's filesystem.
 * `roots` are searched in order (overlay upper first, then the image).
 */
export function checkCommand(roots: string[], command: string, pathEnv: string): void {
  const candidates = command.includes('/')
    ? [posix.isAbsolute(command) ? command : posix.join('/', command)]
    : pathEnv.split(':').filter(Boolean).map((dir) => posix.join(dir, command));
  let sawNonExecutable = false;
  for (const candidate of candidates) {
    const found = resolveIn(roots, candidate);
    if (!found) continue;
    const st = statSync(found.host, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isFile() && (st.mode & 0o111) !== 0) return;
    sawNonExecutable = true;
  }
  if (sawNonExecutable) {
    throw new MinictrError('E_CANNOT_INVOKE', `exec: "${command}": permission denied`, { exitCode: EXIT_CANNOT_INVOKE });
  }
  const where = command.includes('/') ? 'no such file or directory' : 'executable file not found in $PATH';
  throw new MinictrError('E_COMMAND_NOT_FOUND', `exec: "${command}": ${where}`, { exitCode: EXIT_NOT_FOUND });
}

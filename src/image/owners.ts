// Rootless images: a normal user unpacks every file as its own (root inside the container); files
// the archive gives other owners get them here, in one process inside a user namespace that maps
// the user's subordinate range (as podman's storage does), so uid 1000 in the image is uid 1000
// in the container. Each path is reached through real directories only (no symlink in the image
// can point a chown outside the rootfs), and its mode is put back (chown clears setuid bits).
import type { Runner } from '../exec/runner.js';
import type { OwnerMapper } from './assemble.js';

/** Runs as root of the user namespace: reads [rel, uid, gid] triples on stdin, the rootfs as argv[1]. */
const CHOWN_SCRIPT = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const root = fs.realpathSync(process.argv[1]);
const list = JSON.parse(fs.readFileSync(0, 'utf8'));
let skipped = 0;
for (const [rel, uid, gid] of list) {
  const abs = path.join(root, rel);
  if (!abs.startsWith(root + path.sep)) { skipped++; continue; }
  let parent;
  try { parent = fs.realpathSync(path.dirname(abs)); } catch { skipped++; continue; }
  if (parent !== path.dirname(abs)) { skipped++; continue; }
  let st;
  try { st = fs.lstatSync(abs); } catch { continue; }
  fs.lchownSync(abs, uid, gid);
  if (!st.isSymbolicLink()) fs.chmodSync(abs, st.mode & 0o7777);
}
if (skipped > 0) process.stderr.write(skipped + ' path(s) not under real directories were left as they are\n');
`;

/** An OwnerMapper that runs `unshare <userns options> -- node` once per image. */
export function userNamespaceOwners(runner: Runner, usernsArgs: string[]): OwnerMapper {
  return async (rootfs, owners) => {
    const triples = owners.map(([rel, o]) => [rel, o.uid, o.gid]);
    await runner.run(['unshare', ...usernsArgs, '--', process.execPath, '-e', CHOWN_SCRIPT, rootfs], { input: JSON.stringify(triples) });
  };
}

/** `rm -rf` inside the user namespace: what a normal user cannot remove of files its range owns. */
export function userNamespaceRemover(runner: Runner, usernsArgs: string[]): (path: string) => Promise<void> {
  return async (path) => {
    await runner.run(['unshare', ...usernsArgs, '--', 'rm', '-rf', '--', path]);
  };
}

// Where minictr's own files are (package.json, bin/, rootfs/), found from this module's location
// so it works both from dist/src/… and from the single-file bundle dist/minictr.cjs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rootfs'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('minictr: cannot find its install directory (package.json and rootfs/)');
}

export const PROJECT_ROOT = findProjectRoot();
/** The executable the monitor calls back for exit handling. */
export const CLI_PATH = join(PROJECT_ROOT, 'bin', 'minictr');

/** The shim that holds each container's console and writes its log (src/shim/minictr-shim.c, built by make). */
export const SHIM_PATH = join(PROJECT_ROOT, 'dist', 'minictr-shim');

/** The port relay alone (src/network/port-relay-main.ts, bundled by make): run by node with an IPC channel. */
export const RELAY_PATH = join(PROJECT_ROOT, 'dist', 'minictr-relay.cjs');

/** The embedded DNS resolver of user-defined networks (src/dns/minictr-dns.c, built by make). */
export const RESOLVER_PATH = join(PROJECT_ROOT, 'dist', 'minictr-dns');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

// What stage 1 mounts with, found on the host: util-linux mount, and which of Docker's masked
// and read-only kernel paths this kernel has (a container's fresh /proc and /sys show the same).
import { realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { MinictrError } from '../errors.js';
import { MASKED_PATHS, READONLY_PATHS, type KernelPath } from './init-script.js';

async function present(paths: readonly string[]): Promise<KernelPath[]> {
  const found = await Promise.all(
    paths.map((path) => stat(path).then((st) => ({ path, dir: st.isDirectory() }), () => undefined)),
  );
  return found.filter((k): k is KernelPath => k !== undefined);
}

export interface MountTools {
  mount: string;
  masked: KernelPath[];
  readonly: KernelPath[];
}

let cached: Promise<MountTools> | undefined;

async function find(): Promise<MountTools> {
  let mount: string | undefined;
  for (const candidate of ['/usr/bin/mount', '/bin/mount']) {
    const real = await realpath(candidate).catch(() => undefined);
    if (real && basename(real) === 'mount') {
      mount = real;
      break;
    }
  }
  if (!mount) throw new MinictrError('E_MISSING_TOOL', 'util-linux mount not found; install the "mount" package (sudo make install does)');
  const [masked, readonly] = await Promise.all([present(MASKED_PATHS), present(READONLY_PATHS)]);
  return { mount, masked, readonly };
}

/** Looked up once per process. */
export function mountTools(): Promise<MountTools> {
  cached ??= find();
  return cached;
}

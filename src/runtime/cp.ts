// `cp`: files between a container's root and the host (or a tar stream on stdin/stdout), as
// `docker cp`. Every container path is resolved inside the container's root, each symlink on the
// way followed as if that root were / (as filepath-securejoin does): nothing outside it is read
// or written. A running container's root is /proc/PID/root; a stopped copy-mode root is its
// directory; a stopped overlay root exists only when mounted, so the copy runs in a helper
// process with the overlay mounted in its own private mount namespace.
import { lstat, mkdir, readdir, readlink, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { MinictrError, errorMessage } from '../base/errors.js';
import { CLI_PATH } from '../base/install-paths.js';
import type { ContainerRecord } from '../base/records.js';
import { exitStatus } from '../base/proc.js';
import { spawnProcess } from '../exec/runner.js';
import { copyEntries, packEntries, unpackInto } from '../image/archive.js';
import { containerLock } from './attach.js';
import type { RuntimeContext } from './context.js';
import { HOST_TOOL_PATH } from './init-script.js';
import { find } from './lifecycle.js';

/** One side of `cp`: a container's path, or the host's (or `-`, a tar stream). */
export interface CpEndpoint {
  container?: string;
  path: string;
}

/** Docker's split: an absolute path, one without ':', or one starting with '.' is the host's. */
export function parseCpArg(arg: string): CpEndpoint {
  const colon = arg.indexOf(':');
  if (arg.startsWith('/') || arg.startsWith('.') || colon < 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Exactly one side must be a container, with Docker's messages otherwise. */
export function checkCpArgs(src: CpEndpoint, dest: CpEndpoint): void {
  if (src.container !== undefined && dest.container !== undefined) {
    throw new MinictrError('E_BAD_ARGS', 'copying between containers is not supported', { exitCode: 1 });
  }
  if (src.container === undefined && dest.container === undefined) {
    throw new MinictrError('E_BAD_ARGS', 'must specify at least one container source', { exitCode: 1 });
  }
}

/** Linux's limit on symlinks followed in one lookup is 40; filepath-securejoin allows 255. */
const MAX_HOPS = 255;

/**
 * The host path of `path` inside `root`: every component is looked at with lstat (so the kernel
 * never follows a symlink on the way), and a symlink is replaced by its target, read as if `root`
 * were /; `..` never climbs above the root. The last component is followed only with `followLast`.
 * Missing components are kept as named (the result may not exist).
 */
export async function resolveInRoot(root: string, path: string, followLast: boolean): Promise<string> {
  const pending = path.split('/');
  let done = '';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? '';
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done = done.slice(0, done.lastIndexOf('/'));
      continue;
    }
    const next = `${done}/${part}`;
    const last = pending.every((p) => p === '' || p === '.');
    if (last && !followLast) {
      done = next;
      continue;
    }
    let link = false;
    try {
      link = (await lstat(root + next)).isSymbolicLink();
    } catch {
      // missing (or not a directory): kept as named
    }
    if (!link) {
      done = next;
      continue;
    }
    if (++hops > MAX_HOPS) throw new MinictrError('E_CP', `${path}: too many levels of symbolic links`, { exitCode: 1 });
    const target = await readlink(root + next);
    if (target.startsWith('/')) done = '';
    pending.unshift(...target.split('/'));
  }
  return root + done;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** `SRC/.`: the directory's content, not the directory itself (Docker's rule). */
function contentOnly(path: string): boolean {
  return path === '.' || path.endsWith('/.');
}

function cpError(message: string): MinictrError {
  return new MinictrError('E_CP', message, { exitCode: 1 });
}

/** Copy `from` (a real host path, already resolved) into `to` under Docker's destination rules. */
async function copyPath(from: string, fromName: string, to: string, toName: string, label: string): Promise<void> {
  const fromIsDir = await isDir(from);
  if (contentOnly(fromName) && fromIsDir) {
    if (!(await exists(to))) await mkdir(to);
    else if (!(await isDir(to))) throw cpError(`cannot copy a directory to a file: ${toName}`);
    await copyEntries(from, (await readdir(from)).sort(), to, label);
    return;
  }
  const name = basename(from);
  if (await isDir(to)) {
    await copyEntries(dirname(from), [name], to, label);
    return;
  }
  if (toName.endsWith('/')) throw cpError(`destination directory ${toName} does not exist`);
  if (fromIsDir && (await exists(to))) throw cpError(`cannot copy a directory to a file: ${toName}`);
  if (!(await isDir(dirname(to)))) throw cpError(`no such directory: ${dirname(toName)}`);
  await copyEntries(dirname(from), [name], dirname(to), label, { from: name, to: basename(to) });
}

/**
 * A copy with the container's root at `root` (run in this process, or in the helper of a
 * stopped overlay container): out of the container when `direction` is 'out'.
 */
export async function copyWithRoot(
  root: string, ref: string, direction: 'out' | 'in', containerPath: string, hostPath: string,
  io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream },
): Promise<void> {
  const inside = containerPath.startsWith('/') ? containerPath : `/${containerPath}`;
  const label = `container ${ref}`;
  if (direction === 'out') {
    const source = await resolveInRoot(root, inside, inside.endsWith('/') || contentOnly(inside));
    if (!(await exists(source))) throw cpError(`Could not find the file ${containerPath} in container ${ref}`);
    if (hostPath === '-') {
      if (contentOnly(inside) && (await isDir(source))) await packEntries(source, (await readdir(source)).sort(), io.stdout, false);
      else await packEntries(dirname(source), [basename(source)], io.stdout, false);
      return;
    }
    await copyPath(source, inside, resolve(hostPath), hostPath, label);
    return;
  }
  const target = await resolveInRoot(root, inside, true);
  if (hostPath === '-') {
    if (!(await isDir(target))) throw cpError(`Could not find the file ${containerPath} in container ${ref}`);
    await unpackInto((sink) => io.stdin.pipe(sink), target, 'the tar stream on stdin');
    return;
  }
  const from = resolve(hostPath);
  if (!(await exists(from))) throw cpError(`lstat ${from}: no such file or directory`);
  await copyPath(from, hostPath, target, inside, label);
}

/**
 * `minictr cp`: one side a container (running or stopped), the other the host or `-`. Returns the
 * exit status: not 0 only when the helper of a stopped overlay container failed (it said why).
 */
export async function copy(
  ctx: RuntimeContext, srcArg: string, destArg: string,
  io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream },
): Promise<number> {
  const src = parseCpArg(srcArg);
  const dest = parseCpArg(destArg);
  checkCpArgs(src, dest);
  const ref = src.container ?? dest.container ?? '';
  const direction = src.container !== undefined ? 'out' : 'in';
  const containerPath = direction === 'out' ? src.path : dest.path;
  const hostPath = direction === 'out' ? dest.path : src.path;
  const record = await find(ctx, ref);
  if (record.state.status === 'running' && record.state.pid > 0) {
    await copyWithRoot(`/proc/${record.state.pid}/root`, ref, direction, containerPath, hostPath, io);
    return 0;
  }
  const fs = ctx.store.paths.containerRootfs(record.id);
  // Stopped: no start may mount the same layers meanwhile.
  return ctx.store.lock(containerLock(record.id), async () => {
    const now = await find(ctx, record.id);
    if (now.state.status === 'running' && now.state.pid > 0) {
      await copyWithRoot(`/proc/${now.state.pid}/root`, ref, direction, containerPath, hostPath, io);
    } else if (now.rootfsMode === 'copy') {
      await copyWithRoot(fs.merged, ref, direction, containerPath, hostPath, io);
    } else {
      return copyInPrivateOverlay(ctx, now, ref, direction, containerPath, hostPath);
    }
    return 0;
  });
}

/**
 * A stopped overlay container: its root is mounted in a new private mount namespace (gone with
 * the helper, so the host's mount table never shows it) and the helper copies from there.
 */
async function copyInPrivateOverlay(
  ctx: RuntimeContext, record: ContainerRecord, ref: string, direction: 'out' | 'in', containerPath: string, hostPath: string,
): Promise<number> {
  const fs = ctx.store.paths.containerRootfs(record.id);
  const lower = ctx.store.paths.imageRootfs(record.config.imageId);
  const options = `lowerdir=${lower},upperdir=${fs.upper},workdir=${fs.work}`;
  const argv = [
    'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', 'mount -t overlay -o "$1" overlay "$2" && shift 2 && exec "$@"',
    'minictr-cp', options, fs.merged,
    process.execPath, '--', CLI_PATH, '--root', ctx.store.paths.root, '_cp-root', fs.merged, ref, direction, containerPath, hostPath,
  ];
  const child = spawnProcess(argv, { stdio: ['inherit', 'inherit', 'inherit'], env: { ...process.env, PATH: HOST_TOOL_PATH } });
  // The helper prints its own error.
  return new Promise<number>((done, reject) => {
    child.once('error', (err) => reject(cpError(`cannot run unshare: ${errorMessage(err)}`)));
    child.once('exit', (c, signal) => done(exitStatus(c, signal)));
  });
}

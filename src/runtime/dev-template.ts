// The device nodes and links of every container's /dev, made once per state root and copied
// into each container's fresh /dev tmpfs by one `cp -a` in stage 1, instead of a forked
// mknod or ln per entry on every start.
import { randomBytes } from 'node:crypto';
import { lstatSync, readlinkSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { MinictrError } from '../base/errors.js';
import { command, type Plan } from '../base/plan.js';
import { applyPlan, type ApplyOptions } from '../exec/apply.js';
import type { Runner } from '../exec/runner.js';

/** Docker's default character devices, each mode 0666. */
export const DEV_NODES = [
  { name: 'null', major: 1, minor: 3 },
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
] as const;

/** Docker's (runc's) /dev symlinks: name → target. */
export const DEV_LINKS = [
  ['ptmx', 'pts/ptmx'],
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
] as const;

const NODE_MODE = 0o666;
const DIR_MODE = 0o755;

/** glibc's makedev, as stat's rdev reports it. */
function makedev(major: number, minor: number): number {
  return (major & 0xfff) * 0x100 + (minor & 0xff) + (minor & ~0xff) * 0x1000 + (major & ~0xfff) * 2 ** 32;
}

/** What is wrong with the template at `dir` (missing, extra, wrong type, mode, device or target); undefined when right. */
export function devTemplateProblem(dir: string, nodes = true): string | undefined {
  try {
    const top = lstatSync(dir);
    const owner = process.getuid?.() ?? 0;
    if (!top.isDirectory() || (top.mode & 0o7777) !== DIR_MODE || top.uid !== owner) return `${dir}: not a 0755 directory of uid ${owner}`;
    const expected = new Set<string>([...(nodes ? DEV_NODES.map((n) => n.name) : []), ...DEV_LINKS.map(([name]) => name)]);
    const extra = readdirSync(dir).filter((name) => !expected.has(name));
    if (extra.length > 0) return `${dir}: unexpected ${extra.join(', ')}`;
    for (const n of nodes ? DEV_NODES : []) {
      const st = lstatSync(`${dir}/${n.name}`);
      if (!st.isCharacterDevice() || st.rdev !== makedev(n.major, n.minor) || (st.mode & 0o7777) !== NODE_MODE || st.uid !== 0) {
        return `${dir}/${n.name}: not the ${n.major}:${n.minor} character device, mode 0666`;
      }
    }
    for (const [name, target] of DEV_LINKS) {
      if (readlinkSync(`${dir}/${name}`) !== target) return `${dir}/${name}: not a link to ${target}`;
    }
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The one host command (busybox sh: Node cannot mknod) that makes a whole template in the new
 * directory "$1": the nodes, their exact modes whatever the umask, and the links.
 */
export function templateScript(nodes = true): string {
  return [
    'mkdir -m 755 "$1"',
    ...(nodes ? DEV_NODES.map((n) => `mknod -m 666 "$1/${n.name}" c ${n.major} ${n.minor}`) : []),
    ...(nodes ? [`chmod 666 ${DEV_NODES.map((n) => `"$1/${n.name}"`).join(' ')}`] : []),
    ...DEV_LINKS.map(([name, target]) => `ln -s ${target} "$1/${name}"`),
  ].join(' && ');
}

/**
 * Making the template at `dir` as a plan step (what --dry-run prints, --explain times). Rootless
 * (`nodes` false): links only, as a normal user cannot mknod; each start binds the host's nodes.
 */
export function planDevTemplate(busybox: string, dir: string, nodes = true): Plan {
  return {
    title: 'make the /dev template',
    ops: [command([busybox, 'sh', '-c', templateScript(nodes), 'minictr-dev', dir],
      nodes
        ? "the device nodes and links every container's /dev starts from, made once per state root; each start copies them with one cp -a"
        : "rootless: the links of every container's /dev (no mknod without root; each start bind-mounts the host's /dev/null, /dev/zero … instead, as podman does)")],
  };
}

const checked = new Set<string>();

/**
 * Make sure the template at `dir` is right, (re)making it if it is missing or wrong. It is built
 * in a temporary directory beside `dir` and renamed into place, so a concurrent start sees either
 * no template (and makes its own, discarding it if another won) or a complete one.
 */
export async function ensureDevTemplate(runner: Runner, busybox: string, dir: string, options: ApplyOptions = {}, nodes = true): Promise<void> {
  if (checked.has(dir)) return;
  if (devTemplateProblem(dir, nodes) === undefined) {
    checked.add(dir);
    return;
  }
  const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await applyPlan(planDevTemplate(busybox, tmp, nodes), runner, options);
    await putInPlace(tmp, dir, nodes);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const problem = devTemplateProblem(dir, nodes);
  if (problem !== undefined) throw new MinictrError('E_DEV_TEMPLATE', `the containers' /dev template is wrong: ${problem}`);
  checked.add(dir);
}

async function putInPlace(tmp: string, dir: string, nodes: boolean): Promise<void> {
  try {
    await rename(tmp, dir);
    return;
  } catch {
    // Taken: by a concurrent start's good template, or by a wrong one (moved aside below).
  }
  if (devTemplateProblem(dir, nodes) === undefined) return;
  const old = `${dir}.old-${randomBytes(6).toString('hex')}`;
  await rename(dir, old).catch(() => undefined);
  await rename(tmp, dir).catch(() => undefined);
  await rm(old, { recursive: true, force: true });
}

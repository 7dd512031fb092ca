// How a container's process is started: the argv of unshare/nsenter and the small shell
// script that runs inside the new namespaces, mounts the container's filesystems,
// pivot_roots into them and becomes the container's command. Pure: builds data only.
import { envObject } from './options.js';
import { DEV_NODES } from './dev-template.js';
import type { Argv } from '../base/plan.js';
import { dropCapabilitiesArgv, type PrivilegeTools, type ProcessUser } from './privileges.js';

/**
 * Stage 1 runs as the host's /bin/sh inside fresh pid/mount/uts/ipc (and net) namespaces,
 * still seeing the host's root: it can use the host's mount, hostname and pivot_root.
 * Stage 2 runs as the host's static busybox from the old root, which is all that still
 * works after pivot_root: it detaches the old root and execs the command.
 */
const STAGE1 = String.raw`set -e
PATH=/usr/sbin:/usr/bin:/sbin:/bin
if [ -n "$MINICTR_CGROUP_JOIN" ]; then
  # Into the container's cgroup first ("0": this very task), then a cgroup namespace rooted there,
  # so the container sees its cgroup as /; every process of the container descends from here.
  for f in $MINICTR_CGROUP_JOIN; do echo 0 > "$f"; done
  MINICTR_CGROUP_JOIN= exec "$MINICTR_UNSHARE" --cgroup -- "$MINICTR_BUSYBOX" sh -c "$MINICTR_STAGE1" minictr-init "$@"
fi
R=$MINICTR_MERGED
read -r pid _ < /proc/self/stat
# One small write; minictr reads it once the whole line is there.
echo "$pid" > "$MINICTR_PIDFILE"
export MINICTR_HOSTPID="$pid"
if [ -n "$MINICTR_NETREADY" ]; then
  # Rootless: pasta or slirp4netns connects this network namespace first; minictr says "up".
  read -r up < "$MINICTR_NETREADY" || up=
  [ "$up" = up ] || { echo "minictr: the container's network could not be made" >&2; exit 125; }
fi
if [ -n "$MINICTR_FUSEOVL" ]; then
  # Rootless without the kernel's overlay in a user namespace: fuse-overlayfs serves the root from
  # this pid namespace, so it ends with the container (its own chatter goes to a file).
  fuse-overlayfs -o "$MINICTR_FUSEOVL" "$R" </dev/null 2>>"$MINICTR_DIR/fuse-overlayfs.log" ||
    { echo "minictr: fuse-overlayfs could not mount the container's root (see $MINICTR_DIR/fuse-overlayfs.log)" >&2; exit 125; }
fi
# Stage 2 writes a line here just before it becomes the command: a start returns only then.
exec 8>"$MINICTR_EXECMARK"
# util-linux and busybox mount read an fstab only from a file: both stay beside the container's record.
printf '%s\n' "$MINICTR_FSTAB" > "$MINICTR_DIR/fstab"
printf '%s\n' "$MINICTR_ETC_FSTAB" > "$MINICTR_DIR/etc.fstab"
"$MINICTR_MOUNT" --all --fstab "$MINICTR_DIR/fstab"
# /dev's device nodes and links, made once per state root: one process, not one per entry.
cp -a "$MINICTR_DEVDIR"/* "$R/dev/"
# Rootless: a user namespace cannot make device nodes, so the host's own are bind-mounted, as podman does.
for n in $MINICTR_DEVBIND; do : > "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done
if [ "$MINICTR_NET" = none ]; then ip link set lo up; fi
# A builtin's write sets the hostname of the writer's UTS namespace, without a process;
# hostname(1) only where /proc/sys is read-only.
if [ -n "$MINICTR_HOSTNAME" ]; then
  { printf '%s' "$MINICTR_HOSTNAME" > /proc/sys/kernel/hostname; } 2>/dev/null || hostname "$MINICTR_HOSTNAME"
fi
O=$MINICTR_OLDROOT
mkdir "$R/$O"
cd "$R"
pivot_root . "$O"
exec "/$O$MINICTR_BUSYBOX" sh -c "$MINICTR_STAGE2" minictr-init "$@"`;

/** The container's own /etc files, written by minictr into its directory and bind-mounted by stage 2. */
const ETC_FILES = ['hosts', 'hostname', 'resolv.conf'] as const;

/** A shell function stage 2 defines (a plain string: its ${…} are the shell's). */
const MKDIRS = [
  '# mkdir -p that follows a dangling symlink on the way (inside this root) and makes its target,',
  '# as Docker resolves a mount point within the container\'s root and creates it.',
  'mkdirs() {',
  '  p= rest=${1#/} hops=0',
  '  while [ -n "$rest" ]; do',
  '    c=${rest%%/*}',
  '    if [ "$c" = "$rest" ]; then rest=; else rest=${rest#*/}; fi',
  '    [ -n "$c" ] || continue',
  '    p=$p/$c',
  '    if [ -L "$p" ] && [ ! -e "$p" ]; then',
  '      hops=$((hops + 1)); [ $hops -le 40 ] || { echo "mkdir: $1: too many levels of symbolic links" >&2; return 1; }',
  '      t=$($B readlink "$p")',
  '      case $t in /*) ;; *) t=${p%/*}/$t ;; esac',
  '      rest=${t#/}${rest:+/$rest} p=',
  '      continue',
  '    fi',
  '    [ -d "$p" ] || mkdir "$p"',
  '  done',
  '}',
].join('\n');

// Paths are resolved after pivot_root, so a symlink in the image cannot point a
// mount or mkdir at the host's files. The old root's name is random for each start: a symlink in the image (or left in the
// container's writable layer by an earlier run) cannot name it, so no mkdir, mount or copy-up
// below can be steered onto the host's files. It lies in the container's /dev tmpfs, which
// stays writable when --read-only remounts the root.
const STAGE2 = String.raw`set -e
O=/$MINICTR_OLDROOT
B=$O$MINICTR_BUSYBOX
# mkdir and rmdir run as this busybox's own applets whatever PATH says (Debian's static busybox
# prefers its applets): never the image's binaries, and no exec. Each is still a fork: tested first.
for f in ${ETC_FILES.join(' ')}; do
  [ -e "/etc/$f" ] || { [ -d /etc ] || mkdir -p /etc; : > "/etc/$f"; }
done
$B mount -a -T "$O$MINICTR_DIR/etc.fstab"
${MKDIRS}
eval "$MINICTR_MOUNTS"
mkdirs "$MINICTR_WORKDIR"
if [ -n "$MINICTR_TTY" ]; then
  # The shim makes the terminal in this container's devpts (so it is /dev/pts/0 here) once told
  # this process's host pid, and answers with its number.
  echo "$MINICTR_HOSTPID" >&3
  read -r n <&4 || n=
  exec 3>&- 4<&-
  case $n in ''|*[!0-9]*) echo "minictr: could not make the container's terminal" >&2; exit 125;; esac
  [ -e /dev/console ] || : > /dev/console
  $B mount --bind "/dev/pts/$n" /dev/console
  exec 0<>"/dev/pts/$n" 1>&0 2>&0
fi
if [ -n "$MINICTR_READONLY" ]; then $B mount -o remount,bind,ro /; fi
# The host's root stays reachable through fd 9 just long enough to start setpriv.
exec 9<"$O"
$B umount -l "$O"
rmdir "$O"
cd "$MINICTR_WORKDIR"
set +e
if [ -n "$MINICTR_PATH" ]; then export PATH="$MINICTR_PATH"; else unset PATH; fi
{ echo exec >&8; } 2>/dev/null
exec 8>&-
exec "$@"`;

/** Every variable minictr's own scripts use; none of them reaches the container. */
const INTERNAL_VARS = [
  'MINICTR_PATH', 'MINICTR_DIR', 'MINICTR_PIDFILE', 'MINICTR_MERGED', 'MINICTR_NET', 'MINICTR_HOSTNAME', 'MINICTR_BUSYBOX',
  'MINICTR_STAGE2', 'MINICTR_WORKDIR', 'MINICTR_UNSET', 'MINICTR_EXITFILE', 'MINICTR_WAITER',
  'MINICTR_NODE', 'MINICTR_CLI', 'MINICTR_ROOTDIR', 'MINICTR_ID', 'MINICTR_MOUNT', 'MINICTR_FSTAB', 'MINICTR_ETC_FSTAB', 'MINICTR_KILLMARK',
  'MINICTR_OLDROOT', 'MINICTR_DEVDIR', 'MINICTR_MOUNTS', 'MINICTR_READONLY', 'MINICTR_CGROUP_JOIN', 'MINICTR_STAGE1', 'MINICTR_UNSHARE',
  'MINICTR_TTY', 'MINICTR_HOSTPID', 'MINICTR_EXECMARK', 'MINICTR_DEVBIND', 'MINICTR_NETREADY', 'MINICTR_RUNDIR', 'MINICTR_FUSEOVL',
] as const;

/** Kernel files Docker hides from containers (bind-mounted over with /dev/null or an empty tmpfs). */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
/** Kernel files Docker makes read-only. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** A kernel file or directory of MASKED_PATHS/READONLY_PATHS, as the host has it (the same kernel). */
export interface KernelPath {
  path: string;
  dir: boolean;
}

/** fstab(5) escapes space, tab, newline and backslash in a field as octal. */
function fstabField(text: string): string {
  return text.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * Every filesystem of the container, in mount order, as one fstab for a single `mount --all`
 * (util-linux: X-mount.mkdir makes the mount points, `bind,ro` also remounts read-only).
 * The kernel paths lie inside the container's own fresh /proc and /sys, so no path of the
 * image is followed; the image's /etc files are bind-mounted by stage 2, after pivot_root.
 */
export function containerFstab(spec: Pick<InitSpec, 'merged' | 'overlay' | 'masked' | 'readonly'> & Partial<Pick<InitSpec, 'userns' | 'networkMode'>>): string {
  const r = spec.merged;
  const rootless = spec.userns !== undefined;
  // In a user namespace overlayfs keeps its own attributes as user.overlay.* (kernel ≥ 5.11).
  const overlayExtra = rootless ? ',userxattr' : '';
  const entries: string[][] = [
    // fuse-overlayfs is mounted by stage 1 itself, before this fstab.
    ...(spec.overlay?.fuse ? [] : [spec.overlay
      ? ['overlay', r, 'overlay', `${overlayOptions(spec.overlay)}${overlayExtra}`]
      : [r, r, 'none', 'bind']]),
    ['proc', `${r}/proc`, 'proc', 'nosuid,nodev,noexec,X-mount.mkdir'],
    ['tmpfs', `${r}/dev`, 'tmpfs', 'nosuid,mode=755,size=65536k,X-mount.mkdir'],
    ['devpts', `${r}/dev/pts`, 'devpts', 'newinstance,ptmxmode=0666,mode=620,X-mount.mkdir'],
    ['shm', `${r}/dev/shm`, 'tmpfs', 'nosuid,nodev,noexec,mode=1777,size=65536k,X-mount.mkdir'],
    // A user namespace may mount sysfs only with a network namespace of its own: with the host's
    // network, rootless binds the host's /sys read-only instead, as podman does.
    rootless && spec.networkMode === 'host'
      ? ['/sys', `${r}/sys`, 'none', 'rbind,ro,X-mount.mkdir']
      : ['sysfs', `${r}/sys`, 'sysfs', 'ro,nosuid,nodev,noexec,X-mount.mkdir'],
    // Docker's masked kernel files: an empty read-only tmpfs over a directory, /dev/null over a file.
    ...spec.masked.map((k) =>
      k.dir ? ['tmpfs', `${r}${k.path}`, 'tmpfs', 'ro,nosuid,nodev,noexec,size=0'] : ['/dev/null', `${r}${k.path}`, 'none', 'bind'],
    ),
    // Docker's read-only kernel files.
    ...spec.readonly.map((k) => [`${r}${k.path}`, `${r}${k.path}`, 'none', 'bind,ro']),
  ];
  return entries.map((e) => `${e.map(fstabField).join(' ')} 0 0`).join('\n');
}

function overlayOptions(o: { lower: string; upper: string; work: string }): string {
  return `lowerdir=${o.lower},upperdir=${o.upper},workdir=${o.work}`;
}

/** Where the monitor and stage 1 look for the host's unshare, nsenter, mount, ip, pivot_root. */
export const HOST_TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface InitSpec {
  /** Container directory (holds hosts, hostname, resolv.conf, pid file). */
  dir: string;
  pidFile: string;
  /** Where stage 2 says it is about to become the command. */
  execMark: string;
  merged: string;
  /** Overlay layers; absent means `merged` is already a full private copy. `fuse`: mounted by fuse-overlayfs (rootless fallback). */
  overlay?: { lower: string; upper: string; work: string; fuse?: boolean };
  /** 'bridge' mode joins this named netns (from `ip netns add`). */
  netns?: string;
  /** netns: joins `netns`; private: a new network namespace a rootless helper connects (`netReady`). */
  networkMode: 'none' | 'host' | 'netns' | 'private';
  /** `--network container:X`: X's namespace, by path (/proc/PID/ns/net). */
  netnsPath?: string;
  hostname: string;
  workdir: string;
  env: string[];
  command: string[];
  /** Host path of the static busybox stage 2 runs from. */
  busybox: string;
  /** Host path of util-linux mount (busybox's has no X-mount.mkdir and no read-only binds). */
  mount: string;
  /** Host path of util-linux unshare (stage 1 makes the cgroup namespace with it). */
  unshare: string;
  /** Host directory of /dev's device nodes and links (runtime/dev-template.ts), copied into the container's /dev. */
  devTemplate: string;
  /** The entries of MASKED_PATHS and READONLY_PATHS this kernel has. */
  masked: KernelPath[];
  readonly: KernelPath[];
  privileges: PrivilegeTools;
  /** Absent: root. */
  user?: ProcessUser;
  /**
   * Where pivot_root moves the host's root, relative to the container's root: a random name per
   * start, under the container's own /dev tmpfs (so it can be removed under a --read-only root).
   */
  oldroot: string;
  /** Binds, volumes and tmpfs, in mount order. */
  mounts: InitMount[];
  /** --read-only: the root is remounted read-only once everything is mounted. */
  readonlyRoot: boolean;
  /** The files the container's init writes "0" into to enter its cgroup (then it makes a cgroup namespace). */
  cgroupJoin: string[];
  /** -t: the command's stdin, stdout and stderr are a terminal of the container's own devpts. */
  tty: boolean;
  /** Rootless: unshare's user namespace options (runtime/rootless-ids.ts `userNamespaceArgs`). */
  userns?: string[];
  /** Rootless, private network: the FIFO stage 1 waits on until the helper has connected it. */
  netReady?: string;
  /** Rootless bridge network: the pid of the rootless namespace's holder, whose user namespace the container joins. */
  joinUserns?: number | string;
}

/** One mount as stage 2 makes it: after pivot_root, the host's files under the old root. */
export interface InitMount {
  kind: 'bind' | 'tmpfs';
  /** Host path (bind, volume data); '' for tmpfs. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** '' or rprivate leaves unshare's private propagation; shared, slave … are applied. */
  propagation: string;
  /** tmpfs options. */
  options: string;
  /** The source is a file: the destination is made as an empty file, not a directory. */
  file: boolean;
  /** Fill the (empty) source from the image's content at destination first: a new volume. */
  copyUp: boolean;
}

/** POSIX shell single quotes: safe for any path in an eval'd line. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function parentOf(path: string): string {
  const cut = path.replace(/\/+$/, '').lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * Stage 2's mount lines for the container's binds, volumes and tmpfs. They run after pivot_root,
 * so each destination (and any symlink on its way) is resolved inside the container's root; a
 * source is reached through the old root ($O), and was resolved on the host when the container
 * was created. Copy-up happens only into an empty volume, with busybox `cp -a` (symlinks copied
 * as symlinks, owners and modes kept).
 */
export function mountScript(mounts: readonly InitMount[]): string {
  const lines: string[] = [];
  for (const m of mounts) {
    const dst = shellQuote(m.destination);
    if (m.kind === 'tmpfs') {
      lines.push(`mkdirs ${dst}`, `$B mount -t tmpfs -o ${shellQuote(m.options || 'rw')} tmpfs ${dst}`);
      continue;
    }
    const src = `"$O"${shellQuote(m.source)}`;
    if (m.file) {
      lines.push(`mkdirs ${shellQuote(parentOf(m.destination))}`, `[ -e ${dst} ] || : > ${dst}`);
    } else {
      lines.push(`mkdirs ${dst}`);
      if (m.copyUp) lines.push(`if [ -z "$($B ls -A ${src})" ]; then $B cp -a ${dst}/. ${src}/; fi`);
    }
    lines.push(`$B mount -o rbind ${src} ${dst}`);
    if (m.readOnly) lines.push(`$B mount -o remount,bind,ro ${dst}`);
    const propagation = m.propagation.replace(/^r?private$/, '');
    if (propagation) lines.push(`$B mount --make-${propagation} ${dst}`);
  }
  return lines.join('\n');
}

/**
 * The binds of the container's /etc files, for busybox `mount -a` in stage 2: after
 * pivot_root, where the container directory is under the old root and /etc is the image's.
 */
export function etcFstab(dir: string, oldroot: string): string {
  return ETC_FILES.map((f) => `${fstabField(`/${oldroot}${dir}/${f}`)} /etc/${f} none bind 0 0`).join('\n');
}

/** argv that starts the container's first process, and the environment to give it. */
export function initCommand(spec: InitSpec): { argv: Argv; env: Record<string, string> } {
  const namespaces = [...(spec.userns ?? []), '--pid', '--fork', '--mount', '--ipc', '--kill-child=SIGKILL'];
  // --network host shares the host's UTS namespace too, as Docker does.
  if (spec.networkMode !== 'host') namespaces.push('--uts');
  if (spec.networkMode === 'none' || spec.networkMode === 'private') namespaces.push('--net');
  // Stage 2 ends by exec'ing this: setpriv (Docker's capabilities) → busybox env (clean environment) → the command.
  const final = dropCapabilitiesArgv(spec.privileges, spec.busybox, 9, spec.command,
    'exec -a busybox /proc/self/exe env -u SHLVL -u OLDPWD -u PWD -u _ $MINICTR_UNSET "$@"', spec.user, spec.tty);
  // Stage 1 runs under the static busybox too: about half the time of the host's dash + tools.
  const unshare = ['unshare', ...namespaces, '--', spec.busybox, 'sh', '-c', STAGE1, 'minictr-init', ...final];
  const netns = spec.netnsPath ?? (spec.netns ? `/run/netns/${spec.netns}` : undefined);
  const argv = netns
    ? ['nsenter', `--net=${netns}`, '--', ...unshare]
    : spec.joinUserns
      ? ['nsenter', `--target=${spec.joinUserns}`, '--user', '--', ...unshare]
      : unshare;

  const env = envObject(spec.env);
  const containerPath = env['PATH'] ?? '';
  delete env['PATH'];
  Object.assign(env, {
    PATH: HOST_TOOL_PATH,
    MINICTR_PATH: containerPath,
    MINICTR_DIR: spec.dir,
    MINICTR_PIDFILE: spec.pidFile,
    MINICTR_EXECMARK: spec.execMark,
    MINICTR_MERGED: spec.merged,
    MINICTR_NET: spec.networkMode,
    MINICTR_HOSTNAME: spec.networkMode === 'host' ? '' : spec.hostname,
    MINICTR_BUSYBOX: spec.busybox,
    MINICTR_STAGE2: STAGE2,
    MINICTR_WORKDIR: spec.workdir || '/',
    MINICTR_UNSET: INTERNAL_VARS.map((v) => `-u ${v}`).join(' '),
    MINICTR_MOUNT: spec.mount,
    MINICTR_FSTAB: containerFstab(spec),
    MINICTR_FUSEOVL: spec.overlay?.fuse ? overlayOptions(spec.overlay) : '',
    MINICTR_ETC_FSTAB: etcFstab(spec.dir, spec.oldroot),
    MINICTR_OLDROOT: spec.oldroot,
    MINICTR_DEVDIR: spec.devTemplate,
    MINICTR_MOUNTS: mountScript(spec.mounts),
    MINICTR_READONLY: spec.readonlyRoot ? '1' : '',
    MINICTR_CGROUP_JOIN: spec.cgroupJoin.join(' '),
    MINICTR_STAGE1: STAGE1,
    MINICTR_UNSHARE: spec.unshare,
    MINICTR_TTY: spec.tty ? '1' : '',
    MINICTR_DEVBIND: spec.userns ? DEV_NODES.map((n) => n.name).join(' ') : '',
    MINICTR_NETREADY: spec.netReady ?? '',
  });
  return { argv, env };
}

/**
 * The monitor: a small shell that waits for the container, records its exit status,
 * and (when nobody else is waiting) runs minictr's exit handling. A shell, not a Node
 * process, so an idle detached container costs about a megabyte on the host.
 * Nobody else is waiting: no foreground `run` lives, and no `rm -f`, `kill` or `stop` marked
 * the kill before sending it (they handle the exit themselves; a second Node process doing the
 * same would only compete with them for the CPU and the locks).
 */
export const MONITOR_SCRIPT = String.raw`trap : INT TERM HUP QUIT
"$@"
code=$?
exec 3>&-
# One small write, read once the whole line is there (a rename would cost this shell an exec of mv).
echo "$code" > "$MINICTR_EXITFILE"
if [ -n "$MINICTR_WAITER" ] && kill -0 "$MINICTR_WAITER" 2>/dev/null; then exit "$code"; fi
if [ -e "$MINICTR_KILLMARK" ]; then exit "$code"; fi
# Rootless: the exit handling finds the user's runtime directory (helper sockets, the rootless namespace) as the start did.
if [ -n "$MINICTR_RUNDIR" ]; then export XDG_RUNTIME_DIR="$MINICTR_RUNDIR"; fi
exec "$MINICTR_NODE" -- "$MINICTR_CLI" --root "$MINICTR_ROOTDIR" _on-exit "$MINICTR_ID"`;

/** How the shim holds the container's console and log (src/shim/minictr-shim.c). */
export interface ConsoleSpec {
  shim: string;
  socket: string;
  /** The json-file log; absent for --log-driver none. */
  log?: { path: string; maxSize: number; maxFile: number };
  tty: boolean;
  /** -i: stdin stays open for clients' input. */
  stdin: boolean;
  /** Start the command once the first client is connected, and say on fd 3 when listening. */
  waitAttach: boolean;
}

export function shimArgv(c: ConsoleSpec): Argv {
  return [
    c.shim, '--socket', c.socket,
    ...(c.log ? ['--log', c.log.path, '--max-size', String(c.log.maxSize), '--max-file', String(c.log.maxFile)] : []),
    ...(c.tty ? ['--tty'] : []),
    ...(c.stdin ? ['--stdin'] : []),
    ...(c.waitAttach ? ['--wait-attach', '--ready-fd', '3'] : []),
  ];
}

export interface MonitorSpec {
  console: ConsoleSpec;
  exitFile: string;
  /** Written by the minictr command that kills the container, which then handles the exit. */
  killMark: string;
  /** Pid of a foreground `minictr run` that handles the exit itself while it lives. */
  waiterPid?: number;
  node: string;
  cli: string;
  root: string;
  id: string;
  /** The starting minictr's XDG_RUNTIME_DIR, for its exit handling ('' when unset). */
  runDir?: string;
}

export function monitorCommand(init: { argv: Argv; env: Record<string, string> }, spec: MonitorSpec): {
  argv: Argv;
  env: Record<string, string>;
} {
  return {
    argv: ['/bin/sh', '-c', MONITOR_SCRIPT, 'minictr-monitor', ...shimArgv(spec.console), '--', ...init.argv],
    env: {
      ...init.env,
      MINICTR_EXITFILE: spec.exitFile,
      MINICTR_KILLMARK: spec.killMark,
      MINICTR_WAITER: spec.waiterPid === undefined ? '' : String(spec.waiterPid),
      MINICTR_NODE: spec.node,
      MINICTR_CLI: spec.cli,
      MINICTR_ROOTDIR: spec.root,
      MINICTR_ID: spec.id,
      MINICTR_RUNDIR: spec.runDir ?? '',
    },
  };
}

// How a container's process is started: the argv of unshare/nsenter and the small shell
// script that runs inside the new namespaces, mounts the container's filesystems,
// pivot_roots into them and becomes the container's command. Pure: builds data only.
import type { Argv } from '../plan/types.js';
import { dropCapabilitiesArgv, type PrivilegeTools, type ProcessUser } from './privileges.js';

/**
 * Stage 1 runs as the host's /bin/sh inside fresh pid/mount/uts/ipc (and net) namespaces,
 * still seeing the host's root: it can use the host's mount, hostname and pivot_root.
 * Stage 2 runs as the host's static busybox from the old root, which is all that still
 * works after pivot_root: it detaches the old root and execs the command.
 */
const STAGE1 = String.raw`set -e
PATH=/usr/sbin:/usr/bin:/sbin:/bin
R=$MINICTR_MERGED
read -r pid _ < /proc/self/stat
echo "$pid" > "$MINICTR_PIDFILE.tmp" && mv "$MINICTR_PIDFILE.tmp" "$MINICTR_PIDFILE"
if [ -n "$MINICTR_LOWER" ]; then
  mount -t overlay overlay -o "lowerdir=$MINICTR_LOWER,upperdir=$MINICTR_UPPER,workdir=$MINICTR_WORK" "$R"
else
  mount --bind "$R" "$R"
fi
mkdir -p "$R/proc" "$R/dev" "$R/sys"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t tmpfs -o nosuid,mode=755,size=65536k tmpfs "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3; mknod -m 666 "$R/dev/zero" c 1 5; mknod -m 666 "$R/dev/full" c 1 7
mknod -m 666 "$R/dev/random" c 1 8; mknod -m 666 "$R/dev/urandom" c 1 9; mknod -m 666 "$R/dev/tty" c 5 0
mkdir -m 755 "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
if [ "$MINICTR_NET" = none ]; then ip link set lo up; fi
if [ -n "$MINICTR_HOSTNAME" ]; then hostname "$MINICTR_HOSTNAME"; fi
mkdir -p "$R/.oldroot"
cd "$R"
pivot_root . .oldroot
exec /.oldroot$MINICTR_BUSYBOX sh -c "$MINICTR_STAGE2" minictr-init "$@"`;

// Paths are resolved after pivot_root, so a symlink in the image cannot point a
// mount or mkdir at the host's files.
const STAGE2 = String.raw`set -e
B=/.oldroot$MINICTR_BUSYBOX
for f in hosts hostname resolv.conf; do
  if [ -f "/.oldroot$MINICTR_DIR/$f" ]; then
    [ -e "/etc/$f" ] || { $B mkdir -p /etc; : > "/etc/$f"; }
    $B mount --bind "/.oldroot$MINICTR_DIR/$f" "/etc/$f"
  fi
done
$B mkdir -p "$MINICTR_WORKDIR"
# Docker's masked and read-only kernel files.
for p in $MINICTR_MASKED; do
  if [ -d "$p" ]; then $B mount -t tmpfs -o ro,nosuid,nodev,noexec,size=0 tmpfs "$p" 2>/dev/null || true
  elif [ -e "$p" ]; then $B mount --bind /dev/null "$p" 2>/dev/null || true; fi
done
for p in $MINICTR_READONLY; do
  if [ -e "$p" ]; then $B mount --bind "$p" "$p" && $B mount -o remount,bind,ro "$p" || true; fi
done
# The host's root stays reachable through fd 9 just long enough to start setpriv.
exec 9</.oldroot
$B umount -l /.oldroot
# The busybox binary is reachable now only as this shell's own executable.
(exec -a busybox /proc/self/exe rmdir /.oldroot)
cd "$MINICTR_WORKDIR"
set +e
if [ -n "$MINICTR_PATH" ]; then export PATH="$MINICTR_PATH"; else unset PATH; fi
exec "$@"`;

/** Every variable minictr's own scripts use; none of them reaches the container. */
const INTERNAL_VARS = [
  'MINICTR_PATH', 'MINICTR_DIR', 'MINICTR_PIDFILE', 'MINICTR_MERGED', 'MINICTR_LOWER',
  'MINICTR_UPPER', 'MINICTR_WORK', 'MINICTR_NET', 'MINICTR_HOSTNAME', 'MINICTR_BUSYBOX',
  'MINICTR_STAGE2', 'MINICTR_WORKDIR', 'MINICTR_UNSET', 'MINICTR_EXITFILE', 'MINICTR_WAITER',
  'MINICTR_NODE', 'MINICTR_CLI', 'MINICTR_ROOTDIR', 'MINICTR_ID', 'MINICTR_MASKED', 'MINICTR_READONLY',
] as const;

/** Kernel files Docker hides from containers (bind-mounted over with /dev/null or an empty tmpfs). */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
/** Kernel files Docker makes read-only. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Where the monitor and stage 1 look for the host's unshare, nsenter, mount, ip, pivot_root. */
export const HOST_TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface InitSpec {
  /** Container directory (holds hosts, hostname, resolv.conf, pid file). */
  dir: string;
  pidFile: string;
  merged: string;
  /** Overlay layers; absent means `merged` is already a full private copy. */
  overlay?: { lower: string; upper: string; work: string };
  /** 'bridge' mode joins this named netns (from `ip netns add`). */
  netns?: string;
  networkMode: 'none' | 'host' | 'netns';
  hostname: string;
  workdir: string;
  env: string[];
  command: string[];
  /** Host path of the static busybox stage 2 runs from. */
  busybox: string;
  privileges: PrivilegeTools;
  /** Absent: root. */
  user?: ProcessUser;
}

/** argv that starts the container's first process, and the environment to give it. */
export function initCommand(spec: InitSpec): { argv: Argv; env: Record<string, string> } {
  const namespaces = ['--pid', '--fork', '--mount', '--ipc', '--kill-child=SIGKILL'];
  // --network host shares the host's UTS namespace too, as Docker does.
  if (spec.networkMode !== 'host') namespaces.push('--uts');
  if (spec.networkMode === 'none') namespaces.push('--net');
  // Stage 2 ends by exec'ing this: setpriv (Docker's capabilities) → busybox env (clean environment) → the command.
  const final = dropCapabilitiesArgv(spec.privileges, spec.busybox, 9, spec.command,
    'exec -a busybox /proc/self/exe env -u SHLVL -u OLDPWD -u PWD -u _ $MINICTR_UNSET "$@"', spec.user);
  // Stage 1 runs under the static busybox too: about half the time of the host's dash + tools.
  const unshare = ['unshare', ...namespaces, '--', spec.busybox, 'sh', '-c', STAGE1, 'minictr-init', ...final];
  const argv = spec.netns ? ['nsenter', `--net=/run/netns/${spec.netns}`, '--', ...unshare] : unshare;

  const env: Record<string, string> = {};
  for (const entry of spec.env) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const containerPath = env['PATH'] ?? '';
  delete env['PATH'];
  Object.assign(env, {
    PATH: HOST_TOOL_PATH,
    MINICTR_PATH: containerPath,
    MINICTR_DIR: spec.dir,
    MINICTR_PIDFILE: spec.pidFile,
    MINICTR_MERGED: spec.merged,
    MINICTR_LOWER: spec.overlay?.lower ?? '',
    MINICTR_UPPER: spec.overlay?.upper ?? '',
    MINICTR_WORK: spec.overlay?.work ?? '',
    MINICTR_NET: spec.networkMode,
    MINICTR_HOSTNAME: spec.networkMode === 'host' ? '' : spec.hostname,
    MINICTR_BUSYBOX: spec.busybox,
    MINICTR_STAGE2: STAGE2,
    MINICTR_WORKDIR: spec.workdir || '/',
    MINICTR_UNSET: INTERNAL_VARS.map((v) => `-u ${v}`).join(' '),
    MINICTR_MASKED: MASKED_PATHS.join(' '),
    MINICTR_READONLY: READONLY_PATHS.join(' '),
  });
  return { argv, env };
}

/**
 * The monitor: a small shell that waits for the container, records its exit status,
 * and (when nobody else is waiting) runs minictr's exit handling. A shell, not a Node
 * process, so an idle detached container costs about a megabyte on the host.
 */
export const MONITOR_SCRIPT = String.raw`trap : INT TERM HUP QUIT
"$@"
code=$?
echo "$code" > "$MINICTR_EXITFILE.tmp" && mv "$MINICTR_EXITFILE.tmp" "$MINICTR_EXITFILE"
if [ -n "$MINICTR_WAITER" ] && kill -0 "$MINICTR_WAITER" 2>/dev/null; then exit "$code"; fi
exec "$MINICTR_NODE" -- "$MINICTR_CLI" --root "$MINICTR_ROOTDIR" _on-exit "$MINICTR_ID"`;

export interface MonitorSpec {
  exitFile: string;
  /** Pid of a foreground `minictr run` that handles the exit itself while it lives. */
  waiterPid?: number;
  node: string;
  cli: string;
  root: string;
  id: string;
}

export function monitorCommand(init: { argv: Argv; env: Record<string, string> }, spec: MonitorSpec): {
  argv: Argv;
  env: Record<string, string>;
} {
  return {
    argv: ['/bin/sh', '-c', MONITOR_SCRIPT, 'minictr-monitor', ...init.argv],
    env: {
      ...init.env,
      MINICTR_EXITFILE: spec.exitFile,
      MINICTR_WAITER: spec.waiterPid === undefined ? '' : String(spec.waiterPid),
      MINICTR_NODE: spec.node,
      MINICTR_CLI: spec.cli,
      MINICTR_ROOTDIR: spec.root,
      MINICTR_ID: spec.id,
    },
  };
}

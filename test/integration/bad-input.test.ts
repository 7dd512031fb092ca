// A catalogue of bad inputs, one table row each: Docker's exit code, a one-line message that
// names the problem, and the (sandbox) host exactly as it was before — links, firewall rules,
// containers and state records. Some rows take away what minictr needs: a tool missing from
// PATH, a tool missing from the disk, a read-only or full state dir, a subnet already routed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, eventually, isRoot, sh, MINICTR_BIN, WAN_IP, type Result } from './sandbox.js';
import { CNI_BIN as MINICTR_CNI_BIN } from './cni-harness.js';
import { RootlessUser } from './rootless-harness.js';

/** How a row's minictr is started. */
type Via =
  | { kind: 'plain' }
  /** PATH is a directory of symlinks to every tool but this one (node runs by absolute path). */
  | { kind: 'path-without'; tool: string }
  /** The tool is gone from /usr/bin itself, in a private mount namespace (minictr runs
   *  unshare/nsenter/mount with a fixed PATH, so PATH alone cannot hide them). */
  | { kind: 'hidden'; tool: string }
  /** --root is a tmpfs mounted in a private mount namespace: read-only or full, empty or
   *  holding a copy of the sandbox's images and networks. */
  | { kind: 'state-dir'; mode: 'ro' | 'full'; populated: boolean }
  /** A second, cold sandbox whose host already routes 172.18.5.0/24 elsewhere. */
  | { kind: 'overlap' }
  /** bin/minictr-cni with this CNI_* environment and config on stdin: the row's code is the CNI
   *  error JSON's `code`, its message the JSON's `msg` (the exit status must be 1). */
  | { kind: 'cni'; env: Record<string, string>; config: Record<string, unknown> | string }
  /** These variables set for minictr. */
  | { kind: 'env'; env: Record<string, string> }
  /** PATH leads first to a stand-in for `tool`: a script that prints `stderr` and fails (a kernel refusing it). */
  | { kind: 'stub'; tool: string; stderr: string }
  /** As an unprivileged user the test made (with a subordinate range), with its own rootless state. */
  | { kind: 'rootless' }
  /** A sysctl of the sandbox host's own network namespace set for the row, and put back after it. */
  | { kind: 'sysctl'; key: string; value: string };

interface BadInput {
  args: string[];
  code: number;
  /** Must match the first line of stderr (the last one with lastLine). */
  message: RegExp;
  /** Docker-like progress lines may come first; the message is the last line. */
  lastLine?: boolean;
  via?: Via;
  title?: string;
}

const RESIDENT = 'resident';
/** A container created and never started, made in before(). */
const STOPPED = 'stopped';
/** A user-defined network with no containers, made in before(). */
const BAD_NET = 'badnet';
/** A network with IPv6 made in before(): new subnets must not overlap it. */
const V6_RESIDENT = 'fd42:1::/64';
/** Made in before(), removed in after(); named now so the table can refer to its files. */
const TMP = join(tmpdir(), `mc-bad-input-${randomBytes(4).toString('hex')}`);
const ENV_DIR = join(TMP, 'env');
const BAD_LINE_ENV = join(ENV_DIR, 'bad-line.env');
const NO_NAME_ENV = join(ENV_DIR, 'no-name.env');
const MISSING_ENV = join(ENV_DIR, 'does-not-exist.env');
const LONG_HOSTNAME = 'h'.repeat(70);

const run = (...rest: string[]): string[] => ['run', '--rm', ...rest];
const port = (spec: string, message: RegExp): BadInput => ({
  args: run('-p', spec, 'busybox', 'true'), code: 125,
  message: new RegExp(`invalid port spec "${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": ${message.source}`),
});
const noSuch = (...args: string[]): BadInput => ({ args, code: 1, message: /no such container: nope\b/ });
const CNI_DATA = join(TMP, 'cni');
/** The issue's config for minictr-cni, on the default network's bridge (already there, so a failed ADD has nothing to leave). */
const cniConfig = (patch: Record<string, unknown> = {}): Record<string, unknown> => ({
  cniVersion: '1.0.0', name: 'mynet', type: 'minictr', bridge: 'minictr0', isGateway: true, ipMasq: true, hairpinMode: true,
  ipam: { type: 'minictr', subnet: '172.18.0.0/16', dataDir: join(CNI_DATA, 'ipam') }, dataDir: CNI_DATA, ...patch,
});
const CNI_ADD = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bad-pod', CNI_IFNAME: 'eth0', CNI_NETNS: '/proc/self/ns/net', CNI_PATH: '/usr/lib/cni' };
const cni = (title: string, code: number, message: RegExp, env: Record<string, string | undefined>, config: Record<string, unknown> | string = cniConfig()): BadInput => ({
  args: [], title: `minictr-cni ${title}`, code, message,
  via: { kind: 'cni', env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)), config },
});

const CATALOGUE: BadInput[] = [
  // ---- malformed -p
  port('0:80', /port 0 is out of range 1-65535/),
  port('65536:80', /port 65536 is out of range 1-65535/),
  port('80:0', /port 0 is out of range/),
  port('80:65536', /port 65536 is out of range/),
  port('90-80:80-90', /port range 90-80 is reversed/),
  port('8080:90-80', /port range 90-80 is reversed/),
  port('80-82:80-81', /host ports \(3\) and container ports \(2\) differ/),
  port('8080-8081:80', /a host port range needs a container port range of the same size/),
  port('300.1.1.1:80:80', /invalid host IP "300\.1\.1\.1"/),
  port('abc:80:80', /invalid host IP "abc"/),
  port('80:80/sctp', /unknown protocol "sctp"/),
  port('80:80/xyz', /unknown protocol "xyz"/),
  port('80:80/', /missing protocol/),
  port('::80', /missing host IP/),
  port('1.2.3.4::', /missing container port/),
  port('', /missing container port/),
  port('-1:80', /host port "-1" is not a number/),
  port('80:-1', /container port "-1" is not a number/),
  port('8o:80', /host port "8o" is not a number/),
  // [::1] works (minictr's relay serves it); its forms are checked as any IPv6 address's.
  port('[::1]:80', /write an IPv6 host address as \[ADDR\]:hostPort:containerPort, e\.g\. \[::\]:8080:80/),
  port('[fd99::1:80:80', /unclosed "\[": write an IPv6 host address as \[ADDR\]:hostPort:containerPort/),
  port('[fd99::1]8080:80', /write an IPv6 host address as \[ADDR\]:hostPort:containerPort, e\.g\. \[::\]:8080:80/),
  port('fd99::1]:80:80', /"\]" without "\["/),
  port('[10.0.0.1]:80:80', /brackets are for IPv6 addresses only: write 10\.0\.0\.1:…/),
  port('[fd99::zz]:80:80', /invalid IPv6 host address "fd99::zz"/),
  // The relay's [::1] when the host has none: refused when it is bound, before any link is made.
  { args: run('-p', '[::1]:8080:80', 'busybox', 'true'), code: 125, message: /^minictr: Bind for \[::1\]:8080 failed: the host has no such address \(for ::1: is IPv6 off on lo\?/,
    via: { kind: 'sysctl', key: 'net.ipv6.conf.lo.disable_ipv6', value: '1' } },
  { args: run('-p', '[::]:8080:80', 'busybox', 'true'), code: 125, message: /cannot publish on \[::\]:8080: network bridge has no IPv6 \(create one with: minictr network create --ipv6 NAME\)/ },
  // Four parts are too many; the message should say so, not blame IPv6.
  port('80:80:80:80', /.*(too many|format|parts|colons)/),
  // ---- networks
  { args: run('--network', 'nonet', 'busybox', 'true'), code: 125, message: /network nonet not found/ },
  { args: run('--network', 'host', '-p', '80:80', 'busybox', 'true'), code: 125, message: /conflicting options: port publishing and --network host/ },
  { args: run('--network', 'none', '-p', '80:80', 'busybox', 'true'), code: 125, message: /conflicting options: port publishing and --network none/ },
  // ---- names and DNS (#19): Docker's messages
  { args: run('--network-alias', 'web', 'busybox', 'true'), code: 125, message: /network-scoped alias is supported only for containers in user defined networks/ },
  { args: run('--add-host', 'nocolon', 'busybox', 'true'), code: 125, message: /invalid argument "nocolon" for "--add-host" flag: bad format/ },
  { args: run('--add-host', 'db:300.1.1.1', 'busybox', 'true'), code: 125, message: /invalid IP address in add-host: "300\.1\.1\.1"/ },
  { args: run('--ip', '172.18.0.9', 'busybox', 'true'), code: 125, message: /user specified IP address is supported on user defined networks only/ },
  { args: run('--network', BAD_NET, '--ip', '10.1.1.1', 'busybox', 'true'), code: 125, message: /invalid address 10\.1\.1\.1: it does not belong to the subnet 10\.66\.0\.0\/24 of network "badnet"/ },
  { args: run('--network', BAD_NET, '--ip', '10.66.0', 'busybox', 'true'), code: 125, message: /invalid IPv4 address "10\.66\.0" for --ip/ },
  { args: run('--network', `container:${STOPPED}`, 'busybox', 'true'), code: 125, message: /cannot join network of a non running container: stopped/ },
  { args: run('--network', 'container:nope', 'busybox', 'true'), code: 125, message: /no such container: nope/ },
  { args: run('--network', `container:${RESIDENT}`, '-p', '80:80', 'busybox', 'true'), code: 125, message: /conflicting options: port publishing and the container type network mode/ },
  // ---- network connect/disconnect (#19)
  { args: ['network', 'connect', 'nonet', RESIDENT], code: 1, message: /^minictr: network nonet not found$/ },
  { args: ['network', 'connect', BAD_NET, 'nope'], code: 1, message: /no such container: nope\b/ },
  { args: ['network', 'disconnect', BAD_NET, 'nope'], code: 1, message: /no such container: nope\b/ },
  { args: ['network', 'disconnect', BAD_NET, STOPPED], code: 1, message: /^minictr: container stopped is not connected to network badnet$/ },
  { args: ['network', 'connect', BAD_NET, RESIDENT], code: 1, message: /^minictr: container resident uses --network none: it cannot join other networks$/ },
  { args: ['network', 'connect', '--ip', '10.1.1.1', BAD_NET, STOPPED], code: 125, message: /invalid address 10\.1\.1\.1: it does not belong to the subnet 10\.66\.0\.0\/24 of network "badnet"/ },
  // ---- trace (#19): a bad target is refused before anything is armed
  { args: ['trace', '--to', '300.1.1.1:80'], code: 125, message: /invalid address "300\.1\.1\.1" in trace target/ },
  { args: ['trace', '--to', '10.0.0.1:0'], code: 125, message: /invalid port "0" in trace target/ },
  { args: ['trace', '--to', '10.0.0.1:80/icmp'], code: 125, message: /invalid protocol "icmp" in trace target/ },
  { args: ['trace'], code: 125, message: /say what to trace/ },
  { args: run('--dns', 'dns.example', 'busybox', 'true'), code: 125, message: /invalid argument "dns\.example" for "--dns" flag: dns\.example is not an ip address/ },
  {
    title: 'a subnet that overlaps a host route (172.18.5.0/24 routed via the sandbox veth) is refused',
    args: run('-p', '8080:80', 'busybox', 'true'), code: 125, message: /overlap.*172\.18\.5\.0\/24|172\.18\.5\.0\/24.*overlap/, via: { kind: 'overlap' },
  },
  // ---- names
  { args: ['run', '--name', RESIDENT, '--network', 'none', 'busybox', 'true'], code: 125, message: /name "\/resident" is already in use/ },
  { args: ['create', '--name', RESIDENT, 'busybox', 'true'], code: 125, message: /name "\/resident" is already in use/ },
  { args: run('--name', 'bad name!', 'busybox', 'true'), code: 125, message: /invalid container name "bad name!"/ },
  { args: run('--name', '_leading', 'busybox', 'true'), code: 125, message: /invalid container name "_leading"/ },
  { args: run('--name', 'a/b', 'busybox', 'true'), code: 125, message: /invalid container name "a\/b"/ },
  { args: run('--name', '', 'busybox', 'true'), code: 125, message: /invalid container name ""/ },
  // ---- images
  // --pull never: nothing is fetched (the sandbox has no way out, and tests send no traffic outside it).
  { args: run('--pull', 'never', 'nosuchimage'), code: 125, message: /Unable to find image 'nosuchimage:latest' locally/ },
  { args: run('--pull', 'never', 'busybox:nosuchtag', 'true'), code: 125, message: /Unable to find image 'busybox:nosuchtag' locally/ },
  { args: run('--pull', 'bogus', 'busybox', 'true'), code: 125, message: /invalid --pull "bogus"/ },
  {
    // A registry address inside the sandbox's outside world, where nothing listens. Docker prints the same
    // "Unable to find image … / Pulling from …" preamble, so the last line is the one that names the problem.
    args: run(`${WAN_IP}:5000/nosuch`, 'true'), code: 125, lastLine: true,
    message: new RegExp(`^minictr: .*ECONNREFUSED ${WAN_IP.replace(/\./g, '\\.')}:5000.*cannot reach the registry`),
  },
  { args: run('BadImage', 'true'), code: 125, message: /invalid reference format.*must be lowercase/ },
  // ---- environment
  { args: run('-e', '=x', 'busybox', 'true'), code: 125, message: /invalid environment variable "=x"/ },
  { args: run('-e', '', 'busybox', 'true'), code: 125, message: /invalid environment variable ""/ },
  { args: run('-e', 'A B=1', 'busybox', 'true'), code: 125, message: /invalid environment variable "A B=1"/ },
  { args: run('--env-file', MISSING_ENV, 'busybox', 'true'), code: 125, message: /^minictr: .*env file .*does-not-exist\.env/ },
  { args: run('--env-file', BAD_LINE_ENV, 'busybox', 'true'), code: 125, message: /invalid line 3 in env file .*bad-line\.env: "BAD NAME=2"/ },
  { args: run('--env-file', NO_NAME_ENV, 'busybox', 'true'), code: 125, message: /invalid line 1 in env file .*no-name\.env/ },
  // ---- flags and arguments
  { args: ['run', '--bogus-flag', 'busybox'], code: 125, message: /unknown option '--bogus-flag'/ },
  { args: ['run'], code: 125, message: /missing required argument 'image'/ },
  { args: ['run', '-d'], code: 125, message: /missing required argument 'image'/ },
  { args: ['create'], code: 125, message: /missing required argument 'image'/ },
  { args: ['exec', RESIDENT], code: 125, message: /missing required argument 'command'/ },
  { args: ['frobnicate'], code: 125, message: /unknown command 'frobnicate'/ },
  { args: run('-w', 'relative/dir', '--network', 'none', 'busybox', 'true'), code: 125, message: /working directory.*relative\/dir.*absolute/ },
  { args: run('-u', 'nosuchuser', '--network', 'none', 'busybox', 'true'), code: 125, message: /unable to find user nosuchuser/ },
  { args: run('-h', LONG_HOSTNAME, '--network', 'none', 'busybox', 'true'), code: 125, message: /^minictr: .*hostname/ },
  { args: ['run', '--compare', 'docker', 'busybox', 'true'], code: 125, message: /--compare works with --dry-run only/ },
  // ---- limits (issue #18): Docker's CLI and daemon messages, 125, nothing made
  { args: run('--memory', '1x', 'busybox', 'true'), code: 125, message: /invalid argument "1x" for "-m, --memory" flag: invalid size: '1x'/ },
  { args: run('--memory', '4m', 'busybox', 'true'), code: 125, message: /Minimum memory limit allowed is 6MB/ },
  { args: run('--memory', '10m', '--memory-swap', '5m', 'busybox', 'true'), code: 125, message: /Minimum memoryswap limit should be larger than memory limit/ },
  { args: run('--cpus', '-1', 'busybox', 'true'), code: 125, message: /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/ },
  { args: run('--cpus', '999', 'busybox', 'true'), code: 125, message: /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/ },
  { args: run('--cpus', 'lots', 'busybox', 'true'), code: 125, message: /invalid argument "lots" for "--cpus" flag/ },
  { args: run('--pids-limit', 'abc', 'busybox', 'true'), code: 125, message: /invalid argument "abc" for "--pids-limit" flag/ },
  // ---- the console and the log (issue #17)
  { args: ['run', '-it', 'busybox', 'sh'], code: 1, message: /the input device is not a TTY/ },
  { args: run('--detach-keys', 'ctrl-1', 'busybox', 'true'), code: 125, message: /Invalid detach keys \(ctrl-1\) provided/ },
  { args: run('--log-driver', 'syslogx', 'busybox', 'true'), code: 125, message: /logger: no log driver named 'syslogx' is registered/ },
  { args: run('--log-opt', 'max-size=lots', 'busybox', 'true'), code: 125, message: /invalid size: 'lots'/ },
  { args: run('--log-opt', 'max-file=0', 'busybox', 'true'), code: 125, message: /max-file cannot be less than 1/ },
  { args: run('--log-opt', 'colour=red', 'busybox', 'true'), code: 125, message: /unknown log opt 'colour' for json-file log driver/ },
  { args: run('--log-driver', 'none', '--log-opt', 'max-size=1m', 'busybox', 'true'), code: 125, message: /unknown log opt 'max-size' for none log driver/ },
  { args: ['logs', '--since', 'yesterday', RESIDENT], code: 1, message: /invalid value for "since": failed to parse value as time or duration/ },
  { args: ['logs', '--tail', 'ten', RESIDENT], code: 1, message: /invalid value for "tail"/ },
  { args: ['attach', 'nope'], code: 1, message: /no such container: nope\b/ },
  { args: ['attach', '--detach-keys', 'shift-a', RESIDENT], code: 125, message: /Invalid detach keys \(shift-a\) provided/ },

  // ---- minictr serve (issue #14)
  { args: ['serve', '--host', 'tcp://0.0.0.0:2375'], code: 125, message: /refusing to serve the unauthenticated API on 0\.0\.0\.0/ },
  { args: ['serve', '--host', 'ftp://x'], code: 125, message: /invalid --host "ftp:\/\/x"/ },
  { args: ['serve', '--host', 'unix://relative.sock'], code: 125, message: /give an absolute socket path/ },

  // ---- --restart (Docker's CLI and daemon messages)
  { args: ['run', '--restart', 'on-failure:x', 'busybox', 'true'], code: 125, message: /maximum retry count must be an integer/ },
  { args: ['run', '--restart', 'always:3', 'busybox', 'true'], code: 125, message: /maximum retry count cannot be used with restart policy 'always'/ },
  { args: ['run', '--restart', 'on-failure:-1', 'busybox', 'true'], code: 125, message: /maximum retry count cannot be negative/ },
  { args: ['run', '--restart', 'sometimes', 'busybox', 'true'], code: 125, message: /invalid restart policy 'sometimes'/ },
  { args: ['run', '--restart', 'on-failure:1:2', 'busybox', 'true'], code: 125, message: /invalid restart policy format/ },
  { args: ['create', '--restart', 'bogus', 'busybox', 'true'], code: 125, message: /invalid restart policy 'bogus'/ },
  { args: run('--restart', 'always', 'busybox', 'true'), code: 125, message: /Conflicting options: --restart and --rm/ },
  { args: run('--cpu-shares', 'x', 'busybox', 'true'), code: 125, message: /invalid argument "x" for "-c, --cpu-shares" flag/ },
  { args: run('--cpuset-cpus', '999', 'busybox', 'true'), code: 125, message: /Requested CPUs are not available - requested 999, available: / },
  { args: run('--cpuset-cpus', '1-', 'busybox', 'true'), code: 125, message: /Invalid value 1- for cpuset cpus/ },
  // ---- mounts and volumes (issue #18)
  { args: run('-v', 'a/b:/x', 'busybox', 'true'), code: 125, message: /includes invalid characters for a local volume name/ },
  { args: run('-v', '/a:/b:zz', 'busybox', 'true'), code: 125, message: /invalid mode: zz/ },
  { args: run('--tmpfs', 'rel', 'busybox', 'true'), code: 125, message: /mount path must be absolute/ },
  { args: run('--mount', 'type=foo,target=/x', 'busybox', 'true'), code: 125, message: /invalid mount config for type "foo": mount type unknown/ },
  { args: run('--mount', 'type=bind,source=/nonexistent-minictr,target=/x', 'busybox', 'true'), code: 125, message: /bind source path does not exist: \/nonexistent-minictr/ },
  { args: run('-v', '/a:/same', '--tmpfs', '/same', 'busybox', 'true'), code: 125, message: /Duplicate mount point: \/same/ },
  { args: run('--volumes-from', 'nope', 'busybox', 'true'), code: 125, message: /no such container: nope/ },
  { args: ['volume', 'rm', 'nope'], code: 1, message: /no such volume/ },
  { args: ['volume', 'create', '../up'], code: 1, message: /includes invalid characters for a local volume name/ },
  // ---- the command itself
  { args: run('--network', 'none', 'busybox', 'nosuchcmd'), code: 127, message: /"nosuchcmd": executable file not found in \$PATH/ },
  { args: run('--network', 'none', 'busybox', '/nonexistent'), code: 127, message: /"\/nonexistent": no such file or directory/ },
  { args: run('--network', 'none', 'busybox', '/etc/passwd'), code: 126, message: /"\/etc\/passwd": permission denied/ },
  { args: run('--network', 'none', 'busybox', '/etc'), code: 126, message: /"\/etc": permission denied/ },
  { args: ['exec', RESIDENT, 'nosuchcmd'], code: 127, message: /nosuchcmd.*not found/ },
  // ---- unknown containers (Docker answers these with 1)
  noSuch('stop', 'nope'),
  noSuch('kill', 'nope'),
  noSuch('rm', 'nope'),
  // Docker ≥ 20.10 (docker/cli#2678): rm -f of a container that does not exist succeeds, with at most a warning.
  { args: ['rm', '-f', 'nope'], code: 0, message: /^$|no such container: nope/ },
  noSuch('exec', 'nope', 'true'),
  noSuch('logs', 'nope'),
  noSuch('inspect', 'nope'),
  noSuch('port', 'nope'),
  noSuch('wait', 'nope'),
  noSuch('start', 'nope'),
  noSuch('restart', 'nope'),
  noSuch('pause', 'nope'),
  noSuch('unpause', 'nope'),
  noSuch('rename', 'nope', 'other'),
  noSuch('top', 'nope'),
  // ---- bad values for existing containers
  { args: ['kill', '-s', 'BOGUS', RESIDENT], code: 125, message: /invalid signal: BOGUS/ },
  { args: ['kill', '-s', '99', RESIDENT], code: 125, message: /invalid signal: 99/ },
  { args: ['stop', '-s', 'NOPE', RESIDENT], code: 125, message: /invalid signal: NOPE/ },
  // Docker: `invalid argument "abc" for "-t, --time" flag`, exit 125 (a flag error, before any container is touched).
  { args: ['stop', '-t', 'abc', RESIDENT], code: 125, message: /invalid.*"abc"/ },
  // Docker: "Container <id> is not paused", exit 1 (pause of a stopped one: everyday.test.ts).
  { args: ['unpause', RESIDENT], code: 1, message: /^minictr: Container [0-9a-f]{64} is not paused$/ },
  { args: ['rename', RESIDENT, RESIDENT], code: 1, message: /Renaming a container with the same name as its current name/ },
  { args: ['rename', RESIDENT, 'bad/name'], code: 1, message: /invalid container name "bad\/name"/ },
  // Docker: `Error response from daemon: invalid filter 'foo'`, exit 1; a filter without '=' is the flag's error, 125.
  { args: ['ps', '--filter', 'foo=bar'], code: 1, message: /invalid filter 'foo'/ },
  { args: ['ps', '--filter', 'status=sleeping'], code: 1, message: /invalid filter 'status=sleeping'/ },
  { args: ['ps', '--filter', 'foo'], code: 125, message: /bad format of filter \(expected name=value\)/ },
  { args: ['top', RESIDENT, '-o', 'x=PID'], code: 1, message: /specifying "x=PID" is not allowed/ },
  { args: ['port', RESIDENT, 'abc'], code: 125, message: /invalid port "abc"/ },
  { args: ['port', RESIDENT, '80'], code: 1, message: /no public port '80' published for resident/ },
  // Docker: `template parsing error: template: :1: unclosed action`, exit 64.
  { args: ['inspect', '-f', '{{.Nope', RESIDENT], code: 64, message: /template/ },
  { args: ['rm', RESIDENT], code: 1, message: /container is running; stop it first or use rm -f/ },
  { args: ['network', 'rm', 'nonet'], code: 1, message: /network nonet not found/ },
  // Docker: "bridge is a pre-defined network and cannot be removed" (exit 1), like host and none.
  { args: ['network', 'rm', 'host'], code: 1, message: /host is a pre-defined network and cannot be removed/ },
  // `network rm bridge` is allowed on purpose (unlike Docker): minictr makes minictr0 on first use and
  // removes it with its rules, so a host can be put back as it was (network.test.ts checks that).
  // ---- network create (minictr refuses these itself: 125)
  { args: ['network', 'create'], code: 125, message: /missing required argument 'name'/ },
  { args: ['network', 'create', 'bad name!'], code: 125, message: /invalid network name "bad name!"/ },
  { args: ['network', 'create', 'bridge'], code: 125, message: /network with name bridge already exists/ },
  { args: ['network', 'create', '--subnet', '10.0.0.0/33', 'n1'], code: 125, message: /invalid subnet "10\.0\.0\.0\/33"/ },
  { args: ['network', 'create', '--subnet', 'abc', 'n1'], code: 125, message: /invalid subnet "abc"/ },
  { args: ['network', 'create', '--subnet', '10.60.0.0/31', 'n1'], code: 125, message: /invalid subnet "10\.60\.0\.0\/31": too small/ },
  { args: ['network', 'create', '--subnet', '172.18.1.0/24', 'n1'], code: 125, message: /subnet 172\.18\.1\.0\/24 overlaps network "bridge"/ },
  { args: ['network', 'create', '--subnet', '10.99.0.0/24', 'n1'], code: 125, message: /subnet 10\.99\.0\.0\/24 overlaps the host route 10\.99\.0\.0\/24/ },
  { args: ['network', 'create', '--subnet', '10.50.0.0/16', '--gateway', '10.51.0.1', 'n1'], code: 125, message: /gateway 10\.51\.0\.1 is not a host address of 10\.50\.0\.0\/16/ },
  { args: ['network', 'create', '--driver', 'overlay', 'n1'], code: 125, message: /network driver "overlay" is not supported/ },
  // ---- IPv6 networks
  { args: ['network', 'create', '--subnet', 'fd00:1::/64', 'n1'], code: 125, message: /IPv6 subnet fd00:1::\/64 given without --ipv6: add --ipv6 to give the network IPv6/ },
  { args: ['network', 'create', '--ipv6', '--gateway', 'fd00:1::1', 'n1'], code: 125, message: /IPv6 gateway fd00:1::1 needs the IPv6 subnet it belongs to/ },
  { args: ['network', 'create', '--ipv6', '--subnet', '10.61.0.0/16', '--subnet', '10.62.0.0/16', 'n1'], code: 125, message: /a minictr network has one IPv4 subnet at most; got 10\.61\.0\.0\/16 and 10\.62\.0\.0\/16/ },
  { args: ['network', 'create', '--ipv6', '--subnet', 'fd00:1::/64', '--subnet', 'fd00:2::/64', 'n1'], code: 125, message: /a minictr network has one IPv6 subnet at most/ },
  { args: ['network', 'create', '--ipv6', '--subnet', 'fd00:1::5/64', 'n1'], code: 125, message: /invalid IPv6 subnet "fd00:1::5\/64": it should be fd00:1::\/64/ },
  { args: ['network', 'create', '--ipv6', '--subnet', 'fd00:1::/124', 'n1'], code: 125, message: /invalid IPv6 subnet "fd00:1::\/124": too small/ },
  { args: ['network', 'create', '--ipv6', '--subnet', 'fd00:1::/64', '--gateway', 'fd00:2::1', 'n1'], code: 125, message: /IPv6 gateway fd00:2::1 is not a host address of fd00:1::\/64/ },
  { args: ['network', 'create', '--ipv6', '--subnet', `${V6_RESIDENT.replace('/64', '/80')}`, 'n1'], code: 125, message: /IPv6 subnet fd42:1::\/80 overlaps network "v6res" \(fd42:1::\/64\); choose another with --subnet/ },
  { args: ['network', 'create', '--ipv6', '--subnet', 'fd99::/64', 'n1'], code: 125, message: /IPv6 subnet fd99::\/64 overlaps the host route fd99::\/64 on mt[0-9a-f]{6}h; choose another IPv6 subnet/ },
  // --ip6 (run, and network connect of a stopped container): checked before anything is made
  { args: run('--network', BAD_NET, '--ip6', 'fd42:1::5', 'busybox', 'true'), code: 125, message: /^minictr: cannot give --ip6 fd42:1::5: network badnet has no IPv6 \(create one with: minictr network create --ipv6 NAME\)$/ },
  { args: run('--network', 'v6res', '--ip6', 'fd43::5', 'busybox', 'true'), code: 125, message: /^minictr: invalid address fd43::5: it does not belong to the IPv6 subnet fd42:1::\/64 of network "v6res"/ },
  { args: run('--network', 'v6res', '--ip6', '10.0.0.5', 'busybox', 'true'), code: 125, message: /^minictr: invalid IPv6 address "10\.0\.0\.5" for --ip6$/ },
  { args: run('--network', 'v6res', '--ip6', 'fd42:1::1', 'busybox', 'true'), code: 125, message: /^minictr: address fd42:1::1 is already in use on network "v6res"; pick another --ip6 or leave it out$/ },
  { args: run('--ip6', 'fd42:1::5', 'busybox', 'true'), code: 125, message: /^minictr: user specified IP address is supported on user defined networks only$/ },
  { args: ['network', 'connect', '--ip6', 'fd42:1::5', BAD_NET, STOPPED], code: 125, message: /^minictr: cannot give --ip6 fd42:1::5: network badnet has no IPv6/ },
  // ---- the firewall driver
  { args: ['network', 'create', '-o', 'firewall=ufw', 'n1'], code: 125, message: /^minictr: invalid firewall "ufw" \(-o firewall=\): choose iptables or nftables$/ },
  { args: ['network', 'create', '-o', 'firewall', 'n1'], code: 125, message: /invalid network option "firewall": use KEY=VALUE, e\.g\. -o firewall=nftables/ },
  { args: ['network', 'create', '-o', 'mtu=1400', 'n1'], code: 125, message: /unknown network option "mtu": minictr knows firewall/ },
  { args: ['network', 'create', 'n1'], code: 125, message: /invalid firewall "pf" \(MINICTR_FIREWALL\): choose iptables or nftables/, via: { kind: 'env', env: { MINICTR_FIREWALL: 'pf' } } },
  { args: ['network', 'update', '-o', 'firewall=ufw', 'bridge'], code: 125, message: /invalid firewall "ufw" \(-o firewall=\): choose iptables or nftables/ },
  { args: ['network', 'update', 'bridge'], code: 125, message: /network update changes only the firewall: use -o firewall=iptables\|nftables/ },
  { args: ['network', 'create', '-o', 'firewall=nftables', 'n1'], code: 125, message: /the nftables firewall was asked for, but "nft" is not installed: install the "nftables" package, or choose firewall=iptables/, via: { kind: 'path-without', tool: 'nft' } },
  {
    args: ['network', 'create', '-o', 'firewall=nftables', 'n1'], code: 125,
    message: /this kernel refuses nftables \(Could not process rule: Operation not supported\): load nf_tables \(modprobe nf_tables\), or choose firewall=iptables/,
    via: { kind: 'stub', tool: 'nft', stderr: 'Error: Could not process rule: Operation not supported' },
  },
  { args: ['network', 'create', '-o', 'com.docker.network.bridge.name=much-too-long-a-name', 'n1'], code: 125, message: /invalid bridge name "much-too-long-a-name"/ },
  { args: ['network', 'create', '-o', 'com.docker.network.driver.mtu=9000', 'n1'], code: 125, message: /unknown network option "com\.docker\.network\.driver\.mtu": minictr knows firewall, com\.docker\.network\.bridge\.name/ },
  { args: ['rmi', 'nosuchimage'], code: 1, message: /No such image: nosuchimage:latest/ },
  // ---- the host is missing a tool
  { args: run('-p', '8080:80', 'busybox', 'true'), code: 125, message: /"ip" was not found on PATH/, via: { kind: 'path-without', tool: 'ip' } },
  // (a run needs only iptables-restore; reload checks rules one by one with iptables -C)
  { args: ['network', 'reload'], code: 125, message: /"iptables" was not found on PATH/, via: { kind: 'path-without', tool: 'iptables' } },
  { args: run('-p', '8080:80', 'busybox', 'true'), code: 125, message: /"iptables-restore" was not found on PATH/, via: { kind: 'path-without', tool: 'iptables-restore' } },
  { args: run('--network', 'none', 'busybox', 'true'), code: 125, message: /^minictr: .*unshare.*not found/, via: { kind: 'hidden', tool: 'unshare' } },
  { args: ['run', '-d', '-p', '8080:80', 'busybox', 'true'], code: 125, message: /^minictr: .*unshare.*not found/, via: { kind: 'hidden', tool: 'unshare' } },
  { args: run('--init', '--network', 'none', 'busybox', 'true'), code: 125, message: /^minictr: .*tini.*not found/, via: { kind: 'hidden', tool: 'tini-static' } },
  { args: run('--init=maybe', 'busybox', 'true'), code: 125, message: /--init/ },
  { args: ['cp', 'nope:/etc', '/tmp'], code: 1, message: /no such container: nope\b/ },
  { args: ['cp', 'a:/x', 'b:/y'], code: 1, message: /^minictr: copying between containers is not supported$/ },
  { args: ['cp', '/tmp', '/var/tmp'], code: 1, message: /^minictr: must specify at least one container source$/ },
  { args: ['cp', `${RESIDENT}:/nope`, '-'], code: 1, message: new RegExp(`^minictr: Could not find the file /nope in container ${RESIDENT}$`) },
  // ---- the CNI plugin: CNI error JSON with the spec's code, and nothing made
  cni('without CNI_COMMAND', 4, /^CNI_COMMAND is not set/, { ...CNI_ADD, CNI_COMMAND: undefined }),
  cni('CNI_COMMAND=START', 4, /^CNI_COMMAND "START" is not one of ADD, DEL, CHECK, GC, STATUS, VERSION/, { ...CNI_ADD, CNI_COMMAND: 'START' }),
  cni('ADD without CNI_NETNS', 4, /^CNI_NETNS is not set; ADD needs the path/, { ...CNI_ADD, CNI_NETNS: undefined }),
  cni('ADD with a CNI_NETNS that does not exist', 4, /^CNI_NETNS \/run\/netns\/nope does not exist/, { ...CNI_ADD, CNI_NETNS: '/run/netns/nope' }),
  cni('ADD with a 16-character CNI_IFNAME', 4, /^CNI_IFNAME "eth0123456789012" is not a valid interface name/, { ...CNI_ADD, CNI_IFNAME: 'eth0123456789012' }),
  cni('DEL without CNI_CONTAINERID', 4, /^CNI_CONTAINERID is not set; DEL needs/, { ...CNI_ADD, CNI_COMMAND: 'DEL', CNI_CONTAINERID: undefined }),
  cni('ADD of a config that is not JSON', 6, /^the network config on stdin is not valid JSON/, CNI_ADD, '{"cniVersion": "1.0.0",'),
  cni('ADD of cniVersion 2.0.0', 1, /^cniVersion "2.0.0" is not supported; this plugin speaks 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0/, CNI_ADD, cniConfig({ cniVersion: '2.0.0' })),
  cni('ADD with ipMasq "no"', 7, /^ipMasq must be true or false, not "no"/, CNI_ADD, cniConfig({ ipMasq: 'no' })),
  cni('ADD with firewallBackend pf', 2, /^unsupported field firewallBackend: "pf": minictr's firewall drivers are iptables and nftables/, CNI_ADD, cniConfig({ firewallBackend: 'pf' })),
  cni('ADD of another plugin type', 7, /^type "bridge" is not this plugin's; it is "minictr"/, CNI_ADD, cniConfig({ type: 'bridge' })),
  cni('ADD with no ipam', 7, /^ipam is missing or has no type/, CNI_ADD, cniConfig({ ipam: undefined })),
  cni('ADD with ipam.subnet 10.77.0.1/24', 7, /^ipam\.invalid subnet "10.77.0.1\/24": it should be 10.77.0.0\/24/, CNI_ADD, cniConfig({ ipam: { type: 'minictr', subnet: '10.77.0.1/24' } })),
  cni('ADD with a port 70000', 7, /^runtimeConfig\.portMappings\[0\]\.hostPort must be a port number from 1 to 65535, not 70000/, CNI_ADD,
    cniConfig({ runtimeConfig: { portMappings: [{ hostPort: 70000, containerPort: 80, protocol: 'tcp' }] } })),
  cni('ADD delegating to an IPAM plugin not on CNI_PATH', 102, /^the IPAM plugin "dhcp4" is not in CNI_PATH/, CNI_ADD, cniConfig({ ipam: { type: 'dhcp4' } })),
  cni('ADD into a namespace path that is not a namespace', 100, /^could not connect container bad-pod \(eth0\) in \/etc\/hostname \(is it a network namespace\?\): ip -batch - failed/, { ...CNI_ADD, CNI_NETNS: '/etc/hostname' }),
  cni('GC without cni.dev/valid-attachments', 7, /^GC needs cni\.dev\/valid-attachments/, { CNI_COMMAND: 'GC', CNI_PATH: '/usr/lib/cni' }),
  cni('CHECK of an attachment never added', 3, /^container bad-pod \(eth0\) has no attachment on network mynet/, { ...CNI_ADD, CNI_COMMAND: 'CHECK' }),
  // ---- the state dir is read-only or full
  { args: run('--network', 'none', 'busybox', 'true'), code: 125, message: /read-only|EROFS/i, via: { kind: 'state-dir', mode: 'ro', populated: false } },
  { args: ['run', '-d', '-p', '8080:80', 'busybox', 'true'], code: 125, message: /read-only|EROFS/i, via: { kind: 'state-dir', mode: 'ro', populated: true } },
  { args: run('--network', 'none', 'busybox', 'true'), code: 125, message: /no space left|ENOSPC/i, via: { kind: 'state-dir', mode: 'full', populated: false } },
  { args: ['run', '-d', '-p', '8080:80', 'busybox', 'true'], code: 125, message: /no space left|ENOSPC/i, via: { kind: 'state-dir', mode: 'full', populated: true } },
  // Rootless (issue #13): refused in one line, nothing made in the user's state or on the host.
  { args: run('--memory', '64m', 'busybox', 'true'), code: 125, message: /^minictr: rootless minictr cannot set resource limits .*no cgroup is delegated/, via: { kind: 'rootless' } },
  { args: run('-p', '80:80', 'busybox', 'true'), code: 125, message: /^minictr: host port 80 is below net\.ipv4\.ip_unprivileged_port_start \(\d+\)/, via: { kind: 'rootless' } },
  { args: run('--network', 'bridge', 'busybox', 'true'), code: 125, message: /^minictr: rootless minictr has no default bridge: .*network create/, via: { kind: 'rootless' } },
  { args: run('--network', 'nonet', 'busybox', 'true'), code: 125, message: /^minictr: network nonet not found/, via: { kind: 'rootless' } },
  { args: ['network', 'update', '-o', 'firewall=nftables', 'bridge'], code: 125, message: /^minictr: network update needs root/, via: { kind: 'rootless' } },
  { args: ['serve'], code: 125, message: /^minictr: minictr serve needs root/, via: { kind: 'rootless' } },
];

/** Long enough for any honest failure (they take well under a second); needing more is itself a finding. */
const CASE_TIMEOUT_MS = 12_000;

function normRules(save: string): string {
  return save.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n');
}

interface Snapshot {
  links: string;
  rules: string;
  containers: string;
  records: string[];
  networks: string[];
}

describe('bad input catalogue: exit code, one clear line, host unchanged', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  /** Cold sandbox for the overlapping-route row: no minictr network exists there yet. */
  const cold = new Sandbox();
  const user = new RootlessUser(box, `${box.prefix}u`);

  const known = new Map<Sandbox, Snapshot>();
  const snapshot = async (b: Sandbox): Promise<Snapshot> => {
    const [links, rules, ps, records, networks] = await Promise.all([
      b.host(['ip', '-o', 'link']),
      b.host(['sh', '-c', 'iptables-save; ip6tables-save; nft list ruleset inet']),
      b.minictr(['ps', '-aq', '--no-trunc']),
      readdir(join(b.root, 'containers')).catch(() => [] as string[]),
      readdir(join(b.root, 'networks')).catch(() => [] as string[]),
    ]);
    return { links: links.stdout, rules: normRules(rules.stdout), containers: ps.stdout, records: records.sort(), networks: networks.sort() };
  };

  /** No veth left and the bridge back to NO-CARRIER: a removed container's traces have settled. */
  const settle = (b: Sandbox): Promise<unknown> =>
    eventually(async () => {
      const links = (await b.host(['ip', '-o', 'link'])).stdout;
      return !/veth/.test(links) && !/minictr0: <(?![^>]*NO-CARRIER)/.test(links);
    }, 5_000, 'links to settle').catch(() => undefined);

  before(async () => {
    await mkdir(ENV_DIR, { recursive: true });
    await writeFile(BAD_LINE_ENV, '# ok\nGOOD=1\nBAD NAME=2\n');
    await writeFile(NO_NAME_ENV, '=x\n');
    await box.setup();
    await cold.setup();
    await user.create();
    // The default network exists (as docker0 does once Docker ran); every row must leave it as it is.
    const warm = await box.minictr(['run', '--rm', '-p', '9999:80', 'busybox', 'true']);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal((await box.minictr(['network', 'create', '--subnet', '10.66.0.0/24', BAD_NET])).code, 0);
    assert.equal((await box.minictr(['create', '--name', STOPPED, '--network', 'none', 'busybox', 'true'])).code, 0);
    const resident = await box.minictr(['run', '-d', '--name', RESIDENT, '--network', 'none', 'busybox', 'sleep', '3600']);
    assert.equal(resident.code, 0, resident.stderr);
    const v6res = await box.minictr(['network', 'create', '--ipv6', '--subnet', V6_RESIDENT, 'v6res']);
    assert.equal(v6res.code, 0, v6res.stderr);
    const route = await cold.host(['ip', 'route', 'add', '172.18.5.0/24', 'via', WAN_IP, 'dev', `${cold.prefix}h`]);
    assert.equal(route.code, 0, route.stderr);
    await settle(box);
  });

  after(async () => {
    await user.remove();
    await cold.cleanup();
    await box.cleanup();
    await removeScratch(TMP);
  });

  /**
   * Remove a directory that served as a mount point inside a private mount namespace — only if
   * nothing is mounted there in ours (belt and braces: a bind of /usr/bin must never be deleted).
   */
  const removeScratch = async (dir: string): Promise<void> => {
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    if (mounts.split('\n').some((l) => (l.split(' ')[4] ?? '').startsWith(dir))) {
      throw new Error(`${dir} is a mount point in the test's own namespace; not removing it`);
    }
    await rm(dir, { recursive: true, force: true });
  };

  /** A directory of symlinks to every program on PATH except `tool`. */
  const pathWithout = async (tool: string): Promise<string> => {
    const dir = await mkdtemp(join(TMP, `path-no-${tool}-`));
    const seen = new Set<string>([tool]);
    for (const d of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
      for (const f of await readdir(d).catch(() => [] as string[])) {
        if (seen.has(f)) continue;
        seen.add(f);
        await symlink(join(d, f), join(dir, f));
      }
    }
    return dir;
  };

  /** minictr in the sandbox's network namespace and a private mount namespace prepared by `setup`. */
  const inMountNs = (setup: string, root: string, args: string[]): Promise<Result> =>
    sh(['nsenter', `--net=/run/netns/${box.hostNs}`, '--', 'unshare', '--mount', '--propagation', 'private', '--',
      '/bin/sh', '-ec', `${setup}\nexec "$@"`, 'minictr-wrap', process.execPath, '--', MINICTR_BIN, '--root', root, ...args],
    { timeoutMs: CASE_TIMEOUT_MS });

  const invoke = async (c: BadInput): Promise<Result> => {
    const via = c.via ?? { kind: 'plain' };
    switch (via.kind) {
      case 'plain':
        return box.minictr(c.args, { timeoutMs: CASE_TIMEOUT_MS });
      case 'overlap':
        return cold.minictr(c.args, { timeoutMs: CASE_TIMEOUT_MS });
      case 'cni': {
        const env = Object.entries({ PATH: process.env['PATH'] ?? '', ...via.env }).map(([k, v]) => `${k}=${v}`);
        const input = typeof via.config === 'string' ? via.config : JSON.stringify(via.config);
        const r = await sh(['nsenter', `--net=/run/netns/${box.hostNs}`, '--', 'env', '-i', ...env, MINICTR_CNI_BIN], { input, timeoutMs: CASE_TIMEOUT_MS });
        // The spec's error JSON, read as a command's outcome: its code, and its msg as the one line.
        const parsed = (() => {
          try {
            return JSON.parse(r.stdout) as { code?: number; msg?: string };
          } catch {
            return {};
          }
        })();
        const leases = await readFile(join(CNI_DATA, 'ipam', 'mynet', 'leases.json'), 'utf8').catch(() => '{}');
        const records = await readdir(join(CNI_DATA, 'networks', 'mynet', 'attachments')).catch(() => [] as string[]);
        const leftover = JSON.stringify(JSON.parse(leases)) !== '{}' || records.length > 0 ? `\nleft in the dataDir: leases ${leases.trim()}, records ${records.join(' ')}` : '';
        return {
          code: r.code === 1 ? (parsed.code ?? -1) : -r.code,
          stdout: r.stdout,
          stderr: `${parsed.msg ?? `(no CNI error JSON: ${r.stdout}${r.stderr})`}${leftover}`,
        };
      }
      case 'env':
        return box.minictr(c.args, { timeoutMs: CASE_TIMEOUT_MS, env: { ...process.env, ...via.env } });
      case 'sysctl': {
        const was = (await box.host(['sysctl', '-n', via.key])).stdout.trim();
        const set = await box.host(['sysctl', '-qw', `${via.key}=${via.value}`]);
        assert.equal(set.code, 0, `sysctl ${via.key}=${via.value}: ${set.stderr}`);
        try {
          return await box.minictr(c.args, { timeoutMs: CASE_TIMEOUT_MS });
        } finally {
          await box.host(['sysctl', '-qw', `${via.key}=${was}`]);
        }
      }
      case 'rootless': {
        const r = await user.minictr(c.args, { timeoutMs: CASE_TIMEOUT_MS });
        // Nothing left in the user's own state either.
        const left = await readdir(join(user.root, 'containers')).catch(() => [] as string[]);
        return left.length === 0 ? r : { ...r, stderr: `${r.stderr}\nleft in the user's state: ${left.join(' ')}` };
      }
      case 'stub': {
        const dir = await mkdtemp(join(TMP, `stub-${via.tool}-`));
        await writeFile(join(dir, via.tool), `#!/bin/sh\necho '${via.stderr.replace(/'/g, '')}' >&2\nexit 1\n`, { mode: 0o755 });
        try {
          return await box.minictr(c.args, { timeoutMs: CASE_TIMEOUT_MS, env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` } });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      case 'path-without': {
        const dir = await pathWithout(via.tool);
        try {
          return await box.minictr(c.args, { timeoutMs: CASE_TIMEOUT_MS, env: { ...process.env, PATH: dir } });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      case 'hidden': {
        // /usr/bin is replaced (in a private mount namespace) by symlinks to its real files, minus one.
        const dir = await mkdtemp(join(TMP, `hide-${via.tool}-`));
        const real = join(dir, 'real');
        const fake = join(dir, 'fake');
        await mkdir(real);
        await mkdir(fake);
        for (const f of await readdir('/usr/bin')) if (f !== via.tool) await symlink(join(real, f), join(fake, f));
        try {
          return await inMountNs(`mount --bind /usr/bin ${real}\nmount --bind ${fake} /usr/bin`, box.root, c.args);
        } finally {
          await removeScratch(dir);
        }
      }
      case 'state-dir': {
        const dir = await mkdtemp(join(TMP, `state-${via.mode}-`));
        const lines = [`mount -t tmpfs -o size=${via.populated ? '8m' : '64k'} tmpfs ${dir}`];
        if (via.populated) lines.push(`cp -a ${box.root}/images ${box.root}/networks ${dir}/`, `mkdir ${dir}/containers ${dir}/locks`);
        if (via.mode === 'full') lines.push(`dd if=/dev/zero of=${dir}/fill bs=4k 2>/dev/null || true`);
        else lines.push(`mount -o remount,ro ${dir}`);
        try {
          return await inMountNs(lines.join('\n'), dir, c.args);
        } finally {
          // The tmpfs went with the mount namespace; the mount point must be as empty as it was.
          const left = await readdir(dir).catch(() => [] as string[]);
          assert.deepEqual(left, [], 'the tmpfs stayed inside its private mount namespace');
          await removeScratch(dir);
        }
      }
    }
  };

  CATALOGUE.forEach((c, index) => {
    const where = c.via && c.via.kind !== 'plain' ? ` [${Object.values(c.via).map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ')}]` : '';
    const title = c.title ?? `minictr ${c.args.map((a) => (a === '' ? "''" : a.length > 30 ? `${a.slice(0, 12)}…` : a)).join(' ')}`;
    it(`#${index + 1} ${title}${where} → ${c.code}`, async () => {
      const b = c.via?.kind === 'overlap' ? cold : box;
      // The state after the previous row is this row's state before (one snapshot per row).
      const beforeState = known.get(b) ?? (await snapshot(b));
      known.delete(b);
      const started = Date.now();
      // Every check runs and every broken promise is reported together, so a row tells the whole story.
      const problems: string[] = [];
      const check = (fn: () => void): void => {
        try {
          fn();
        } catch (err) {
          problems.push(err instanceof Error ? err.message : String(err));
        }
      };
      try {
        const r = await invoke(c);
        const ms = Date.now() - started;
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        check(() => assert.ok(ms < CASE_TIMEOUT_MS, `answers within ${CASE_TIMEOUT_MS / 1000}s (took ${ms} ms; killed)`));
        check(() => assert.equal(r.code, c.code, `exit code ${r.code}, expected ${c.code}`));
        check(() => assert.match((c.lastLine ? lines[lines.length - 1] : lines[0]) ?? '', c.message,
          `stderr should name the problem (${c.message}), got: ${r.stderr.trim() || '(empty)'}`));
        check(() => assert.ok(c.lastLine || lines.length <= 1 || (lines.length === 2 && /--help/.test(lines[1] ?? '')),
          `one line (plus at most a --help hint), got:\n${r.stderr}`));
        // The host is as it was: poll briefly (a bridge's carrier state settles asynchronously), then compare.
        const settled = await eventually(async () => {
          const now = await snapshot(b);
          return JSON.stringify(now) === JSON.stringify(beforeState) ? now : undefined;
        }, 3_000, 'host state to settle').catch(() => undefined);
        const afterState = settled ?? (await snapshot(b));
        if (settled) known.set(b, settled);
        for (const key of Object.keys(beforeState) as (keyof Snapshot)[]) {
          check(() => assert.deepEqual(afterState[key], beforeState[key], `host changed: ${key}`));
        }
        if (problems.length > 0) assert.fail(`${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
      } finally {
        // Whatever a failing row left behind is removed, so the next row starts from the same host.
        const now = (await b.minictr(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
        const was = new Set(beforeState.containers.split('\n'));
        for (const id of now) if (!was.has(id)) await b.minictr(['rm', '-f', id]);
        // A row that took the default network away: bring it back for the rows after it.
        if (b === box && !(await b.host(['ip', '-o', 'link'])).stdout.includes('minictr0:')) {
          await box.minictr(['run', '--rm', '-p', '9999:80', 'busybox', 'true']);
          known.delete(b);
        }
        await settle(b);
      }
    });
  });

  it(`the catalogue holds at least 40 bad inputs (${CATALOGUE.length})`, () => {
    assert.ok(CATALOGUE.length >= 40);
  });

  it('no process outside the resident container mentions the state dir', async () => {
    const residentPid = Number((await box.minictr(['inspect', '-f', '{{.State.Pid}}', RESIDENT])).stdout.trim());
    const residentId = (await box.minictr(['inspect', '-f', '{{.Id}}', RESIDENT])).stdout.trim();
    const record = await readFile(join(box.root, 'containers', residentId, 'config.json'), 'utf8');
    const monitorPid = Number((JSON.parse(record) as { state: { monitorPid: number } }).state.monitorPid);
    const strays = async (): Promise<string[]> => {
      const found = (await sh(['sh', '-c',
        `for p in /proc/[0-9]*; do grep -qsF '${box.root}' $p/cmdline $p/environ $p/mountinfo && echo \${p#/proc/}; done; true`])).stdout
        .split('\n').filter(Boolean).map(Number);
      const out: string[] = [];
      const parentOf = async (pid: number): Promise<number | undefined> => {
        const stat = (await sh(['cat', `/proc/${pid}/stat`])).stdout;
        return stat === '' ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      };
      for (const pid of found) {
        if (pid === residentPid || pid === monitorPid) continue;
        const ppid = await parentOf(pid);
        if (ppid === undefined) continue; // gone meanwhile
        // The resident's shim (the monitor's child) and its unshare (the shim's).
        if (ppid === monitorPid || (await parentOf(ppid)) === monitorPid) continue;
        out.push(`${pid}: ${(await sh(['sh', '-c', `tr '\\0' ' ' < /proc/${pid}/cmdline | cut -c1-160`])).stdout.trim()}`);
      }
      return out;
    };
    // A finishing `_on-exit` may still be on its way out; a leak stays.
    const clean = await eventually(async () => ((await strays()).length === 0 ? true : undefined), 10_000, 'stray processes to end').catch(() => false);
    if (!clean) assert.deepEqual(await strays(), [], 'stray processes');
  });
});

// Container commands: run, create, start, restart, stop, kill, rm, wait, ps, logs, exec, inspect, port.
import { Option, type Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { eachArgument, print, runtimeFor, warn } from './context.js';
import { runContainer, createContainer, type RunFlags } from './run.js';
import { formatPsTable, type PsFlags } from './ps.js';
import { compileTemplate } from './template.js';
import { parseSignal } from '../base/proc.js';
import { parseEnvFlag } from '../runtime/options.js';
import { formatPortCommand } from '../network/ports.js';
import { columns } from '../explain/text.js';
import { attachMode, attachedStreams, checkTerminal } from './attached.js';
import { parseLogTime, parseTail } from '../runtime/json-log.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The flags `run` and `create` share, spelled as Docker spells them. */
function addContainerFlags(cmd: Command): Command {
  return cmd
    .helpOption('--help', 'show help for this command')
    .option('--name <name>', 'assign a name to the container')
    .option('-l, --label <key=value>', 'set a label (repeatable)', collect, [])
    .option('--label-file <file>', 'read labels from a file of key=value lines (repeatable)', collect, [])
    .option('-e, --env <NAME=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-h, --hostname <name>', 'container host name (default: the short id)')
    .option('--entrypoint <cmd>', "override the image's entrypoint")
    .option('-i, --interactive', 'keep stdin attached')
    .option('-t, --tty', 'the container uses this terminal')
    .option('--network <mode>', 'network: bridge (default), none, host or a network name')
    .addOption(new Option('--net <mode>', 'same as --network').hideHelp())
    .option('-p, --publish <spec>', 'publish a port: [ip:][hostPort:]containerPort[/tcp|udp] (repeatable)', collect, [])
    .option('--rm', 'remove the container when it exits')
    .option('--restart <policy>', 'restart policy: no (default), on-failure[:max-retries], always, unless-stopped')
    .option('-u, --user <user[:group]>', 'run as this user (name or uid, from the image\'s /etc/passwd)')
    .option('-P, --publish-all', 'publish every port the image exposes on a free host port')
    .option('--pull <policy>', 'pull the image: missing (default), always or never')
    .option('-v, --volume <spec>', 'bind mount or volume: /host:/ctr[:ro], name:/ctr[:ro], /ctr (anonymous) (repeatable)', collect, [])
    .option('--mount <spec>', 'type=bind|volume|tmpfs,source=…,target=…[,readonly] (repeatable)', collect, [])
    .option('--tmpfs <path[:opts]>', 'mount an empty tmpfs, e.g. /run:size=64m (repeatable)', collect, [])
    .option('--read-only', "mount the container's root read-only")
    .option('--init', 'run an init (tini) as PID 1 that forwards signals and reaps zombies')
    .option('--ip <address>', "the container's IPv4 address on its user-defined network")
    .option('--ip6 <address>', "the container's IPv6 address on its user-defined network with IPv6")
    .option('--network-alias <name>', 'another name the container answers to on its user-defined network (repeatable)', collect, [])
    .option('--net-alias <name>', 'the same as --network-alias', collect, [])
    .option('--dns <ip>', "a DNS server for the container's other names (repeatable)", collect, [])
    .option('--dns-search <domain>', 'a DNS search domain (repeatable)', collect, [])
    .option('--dns-option <option>', 'a resolv.conf option, e.g. ndots:2 (repeatable)', collect, [])
    .option('--dns-opt <option>', 'the same as --dns-option', collect, [])
    .option('--add-host <name:ip>', 'an /etc/hosts line; ip may be host-gateway (repeatable)', collect, [])
    .option('--volumes-from <container[:ro|rw]>', "mount another container's volumes and binds (repeatable)", collect, [])
    .option('-m, --memory <bytes>', 'memory limit, e.g. 32m or 1g')
    .option('--memory-swap <bytes>', 'memory + swap limit; -1 unlimited swap')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpus <number>', 'number of CPUs, e.g. 0.5')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight, default 1024)')
    .option('--cpuset-cpus <list>', 'CPUs the container may use, e.g. 0-1 or 0,2')
    .option('--pids-limit <n>', 'most processes at once (-1 or 0: unlimited)')
    .option('--detach-keys <keys>', 'keys that detach from the container, e.g. ctrl-p,ctrl-q (the default)')
    .option('--log-driver <driver>', 'where output is kept: json-file (default) or none')
    .option('--log-opt <key=value>', 'json-file option: max-size=10m, max-file=3 (repeatable)', collect, [])
    .argument('<image>', 'image to run (e.g. busybox)')
    .argument('[command...]', 'command and arguments (default: the image\'s)')
    .passThroughOptions();
}

function withRuntime<A extends unknown[]>(fn: (rt: Runtime, ...args: A) => Promise<void>) {
  return async function (this: Command, ...args: A): Promise<void> {
    const explain = this.opts<{ explain?: boolean }>().explain === true;
    await fn(runtimeFor(this, { explain }), ...args);
  };
}

export function registerContainerCommands(program: Command): void {
  addContainerFlags(program.command('run').description('create and start a container'))
    .option('-d, --detach', 'run in the background and print the container id')
    .option('--dry-run', 'print every host command the run would execute, and change nothing')
    .option('--explain', 'print each host command as it runs, with its time')
    .option('--step [mode]', 'pause before each host step: its why, its commands and how to see the change; Enter goes on (--step=auto:2s by itself)')
    .option('--compare <engine>', "with --dry-run: minictr's rules beside Docker's for the same run: docker (=28), docker@27, docker@28, docker@29, docker@29-nftables")
    .action(async function (this: Command, image: string, command: string[]) {
      const code = await runContainer(this, image, command, this.opts<RunFlags>());
      process.exitCode = code;
    });

  addContainerFlags(program.command('create').description('create a container without starting it'))
    .action(async function (this: Command, image: string, command: string[]) {
      await createContainer(this, image, command, this.opts<RunFlags>());
    });

  program
    .command('start')
    .description('start one or more stopped containers')
    .option('-a, --attach', "attach to the container's output (and wait for it to exit)")
    .option('-i, --interactive', "attach the container's stdin")
    .option('--detach-keys <keys>', 'keys that detach from the container (default ctrl-p,ctrl-q)')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[], opts: { attach?: boolean; interactive?: boolean; detachKeys?: string }) => {
      if (opts.attach || opts.interactive) {
        if (refs.length > 1) throw new MinictrError('E_BAD_FLAG', 'you cannot start and attach multiple containers at once');
        const record = await rt.find(refs[0] ?? '');
        const mode = attachMode(record.config.tty, (opts.interactive ?? false) && record.config.interactive, opts.detachKeys);
        checkTerminal(mode);
        const result = await rt.startAttached(record.id, { forward: process, streams: attachedStreams(mode) });
        warn(result.warnings);
        process.exitCode = result.exitCode;
        return;
      }
      await eachArgument(refs, async (ref) => {
        const record = await rt.find(ref);
        await rt.start(record.id);
        print(ref);
      });
    }));

  program
    .command('restart')
    .description('stop, then start, one or more containers')
    .option('-t, --time <seconds>', 'seconds to wait before killing', '10')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[], opts: { time: string }) => {
      const seconds = parseSeconds(opts.time);
      await eachArgument(refs, async (ref) => {
        const { record, warnings } = await rt.stop(ref, seconds);
        warn(warnings);
        await rt.start(record.id);
        print(ref);
      });
    }));

  program
    .command('stop')
    .description('stop running containers: SIGTERM, then SIGKILL after a grace period')
    .option('-t, --time <seconds>', 'seconds to wait before killing', '10')
    .option('-s, --signal <signal>', 'signal to send first', 'SIGTERM')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[], opts: { time: string; signal: string }) => {
      const signal = mustSignal(opts.signal);
      const seconds = parseSeconds(opts.time);
      await eachArgument(refs, async (ref) => {
        warn((await rt.stop(ref, seconds, signal)).warnings);
        print(ref);
      });
    }));

  program
    .command('kill')
    .description('send a signal (default SIGKILL) to running containers')
    .option('-s, --signal <signal>', 'signal to send', 'KILL')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[], opts: { signal: string }) => {
      const signal = mustSignal(opts.signal);
      await eachArgument(refs, async (ref) => {
        warn((await rt.kill(ref, signal)).warnings);
        print(ref);
      });
    }));

  program
    .command('rm')
    .description('remove containers (and everything they set up on the host)')
    .option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'remove its anonymous volumes too')
    .option('--explain', 'print each host command of the teardown as it runs, with its time')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[], opts: { force?: boolean; volumes?: boolean; explain?: boolean }) => {
      const force = opts.force ?? false;
      const { removed, failed } = await rt.removeMany(refs, { force, volumes: opts.volumes ?? false });
      // Said in argument order, as one removal per argument would: each argument is in one of the two lists, in order.
      let r = 0;
      let f = 0;
      for (const ref of refs) {
        const done = removed[r];
        if (done?.ref === ref) {
          r++;
          warn(done.warnings);
          print(ref);
          continue;
        }
        const error = failed[f++]?.error;
        // Docker: rm -f of a container that does not exist is not an error.
        if (!error || (force && error.code === 'E_NO_SUCH_CONTAINER')) continue;
        warn(error.warnings);
        process.stderr.write(`minictr: ${error.message}\n`);
        process.exitCode = 1;
      }
    }));

  program
    .command('pause')
    .description("freeze every process of running containers (their cgroup's freezer)")
    .option('--explain', 'print each host command as it runs, with its time')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[]) => {
      await eachArgument(refs, async (ref) => {
        await rt.pause(ref);
        print(ref);
      });
    }));

  program
    .command('unpause')
    .description('thaw paused containers')
    .option('--explain', 'print each host command as it runs, with its time')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[]) => {
      await eachArgument(refs, async (ref) => {
        await rt.unpause(ref);
        print(ref);
      });
    }));

  program
    .command('rename')
    .description('rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(withRuntime(async (rt, ref: string, name: string) => {
      await rt.rename(ref, name);
    }));

  program
    .command('top')
    .description("show a container's processes, as the host's ps prints them (default ps -ef)")
    .argument('<container>')
    .argument('[ps-options...]', 'options passed to ps, e.g. -o pid,comm')
    .passThroughOptions()
    .allowUnknownOption()
    .action(withRuntime(async (rt, ref: string, psOptions: string[]) => {
      const { titles, processes } = await rt.top(ref, psOptions.join(' '));
      // Docker's tabwriter: min width 20, padding 3.
      print(columns([titles, ...processes], { gap: 3, minWidth: 20, trim: false }).join('\n'));
    }));

  program
    .command('wait')
    .description('wait for containers to stop, then print their exit codes')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[]) => {
      await eachArgument(refs, async (ref) => print(String(await rt.wait(ref))));
    }));

  program
    .command('ps')
    .description('list containers')
    .option('-a, --all', 'show all containers (default: only running)')
    .option('-q, --quiet', 'only print ids')
    .option('--no-trunc', 'do not truncate output')
    .option('--format <template>', 'Go-style template, e.g. {{.Names}} or {{json .}}')
    .option('-f, --filter <key=value>', 'filter: status, name, id, label, ancestor, network, publish, expose, exited, volume, before, since (repeatable)', collect, [])
    .option('--check', "also probe each network's firewall rules (two iptables processes a network)")
    .action(withRuntime(async (rt, opts: PsFlags & { check?: boolean; filter: string[] }) => {
      const records = await rt.listFiltered(opts.all ?? false, opts.filter);
      const out = formatPsTable(records, opts, new Date());
      if (out) print(out);
      // Notice what running containers lost on the host, and say how to repair it: a missing
      // bridge always (a file read), missing rules with --check (ps stays as cheap as --version).
      for (const problem of await rt.networkProblems(records, { rules: opts.check ?? false })) {
        process.stderr.write(`minictr: warning: ${problem}; run "minictr network reload" to repair\n`);
      }
    }));

  program
    .command('logs')
    .description("print a container's output (its json-file log)")
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('-t, --timestamps', 'show the time of each line')
    .option('--since <time>', 'only lines since a time (2026-12-02T10:00:00Z, a Unix time) or a duration ago (10m)')
    .option('--until <time>', 'only lines before a time or a duration ago')
    .option('-n, --tail <lines>', 'only the last lines (a number, or all)', 'all')
    .argument('<container>')
    .action(withRuntime(async (rt, ref: string, opts: { follow?: boolean; timestamps?: boolean; since?: string; until?: string; tail: string }) => {
      const now = Date.now();
      const tail = parseTail(opts.tail);
      await rt.logs(ref, {
        follow: opts.follow ?? false,
        timestamps: opts.timestamps ?? false,
        ...(tail !== undefined ? { tail } : {}),
        ...(opts.since !== undefined ? { sinceNs: parseLogTime('since', opts.since, now) } : {}),
        ...(opts.until !== undefined ? { untilNs: parseLogTime('until', opts.until, now) } : {}),
      }, { stdout: process.stdout, stderr: process.stderr });
    }));

  program
    .command('attach')
    .description("attach this terminal's input and output to a running container")
    .option('--no-stdin', 'do not attach stdin')
    .option('--detach-keys <keys>', 'keys that detach from the container (default ctrl-p,ctrl-q)')
    .option('--sig-proxy <bool>', 'pass received signals on to the container (not with a terminal)', 'true')
    .argument('<container>')
    .action(withRuntime(async (rt, ref: string, opts: { stdin: boolean; detachKeys?: string; sigProxy: string }) => {
      if (!['true', 'false'].includes(opts.sigProxy)) throw new MinictrError('E_BAD_FLAG', `invalid argument "${opts.sigProxy}" for "--sig-proxy" flag: use true or false`);
      const record = await rt.find(ref);
      const mode = attachMode(record.config.tty, opts.stdin && record.config.interactive, opts.detachKeys);
      checkTerminal(mode);
      const result = await rt.attach(ref, attachedStreams(mode), opts.sigProxy === 'true' ? process : undefined);
      if (result.exitCode === undefined) {
        // Docker's attach reports a detach as an error, after the container's output.
        process.stderr.write('read escape sequence\n');
        process.exitCode = 1;
        return;
      }
      process.exitCode = result.exitCode;
    }));

  program
    .command('exec')
    .description('run a command in a running container (joins its namespaces with nsenter)')
    .helpOption('--help', 'show help for this command')
    .option('-i, --interactive', 'keep stdin attached')
    .option('-t, --tty', 'the command uses this terminal')
    .option('-d, --detach', 'run the command in the background')
    .option('-e, --env <NAME=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--detach-keys <keys>', 'keys that detach from the command (default ctrl-p,ctrl-q)')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .action(withRuntime(async (rt, ref: string, command: string[], opts: { interactive?: boolean; tty?: boolean; detach?: boolean; env: string[]; workdir?: string; detachKeys?: string }) => {
      const env = opts.env.map((e) => parseEnvFlag(e)).filter((e): e is string => e !== undefined);
      const mode = attachMode(opts.tty ?? false, opts.interactive ?? false, opts.detachKeys);
      if (!opts.detach) checkTerminal(mode);
      const { tty: _t, detachKeys: _k, ...rest } = opts;
      process.exitCode = await rt.exec(ref, command, { ...rest, env, ...(opts.tty && !opts.detach ? { terminal: attachedStreams(mode) } : {}) });
    }));

  program
    .command('inspect')
    .description('show low-level information on containers, as JSON')
    .option('-f, --format <template>', 'Go-style template, e.g. {{.NetworkSettings.IPAddress}}')
    .argument('<container...>')
    .action(withRuntime(async (rt, refs: string[], opts: { format?: string }) => {
      const docs: unknown[] = [];
      // A template that does not parse is the command's error (exit 64), not each container's;
      // one that fails on a container (exit 1) is that container's, as Docker's.
      const template = opts.format !== undefined ? compileTemplate(opts.format) : undefined;
      await eachArgument(refs, async (ref) => {
        const doc = await rt.inspect(ref);
        if (template) print(template.execute(doc));
        else docs.push(doc);
      });
      if (opts.format === undefined) print(JSON.stringify(docs, null, 4));
    }));

  program
    .command('port')
    .description("list a container's published ports")
    .argument('<container>')
    .argument('[port]', 'a container port, e.g. 5000 or 5000/tcp')
    .action(withRuntime(async (rt, ref: string, port: string | undefined) => {
      const record = await rt.find(ref);
      const lines = formatPortCommand(record.network?.ports ?? record.rootlessNet?.ports ?? [], port);
      if (port !== undefined && lines.length === 0) {
        throw new MinictrError('E_NO_SUCH_PORT', `no public port '${port}' published for ${ref}`, { exitCode: 1 });
      }
      for (const line of lines) print(line);
    }));

  const system = program
    .command('system')
    .description('minictr-wide housekeeping');
  system
    .command('boot')
    .description('after a reboot: start every container whose restart policy says so (always, unless-stopped not stopped by hand, on-failure after a failure)')
    .action(withRuntime(async (rt) => {
      const { started, failed } = await rt.boot();
      for (const id of started) print(id);
      if (failed.length > 0) {
        throw new MinictrError('E_BOOT', failed.map((f) => `cannot start ${f.id.slice(0, 12)}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('\n'));
      }
    }));
  system
    .command('prune')
    .description('remove every stopped container, every network no container uses, and leftovers no record holds')
    .option('-f, --force', 'do not ask (minictr never asks)')
    .action(withRuntime(async (rt) => {
      const pruned = await rt.prune();
      warn(pruned.warnings);
      if (pruned.containers.length > 0) print(`Deleted Containers:\n${pruned.containers.join('\n')}\n`);
      if (pruned.networks.length > 0) print(`Deleted Networks:\n${pruned.networks.join('\n')}\n`);
      if (pruned.orphanNamespaces.length > 0) print(`Deleted network namespaces no record held:\n${pruned.orphanNamespaces.join('\n')}\n`);
      if (pruned.orphanRules > 0) print(`Deleted ${pruned.orphanRules} firewall rule(s) of containers no record held\n`);
      if (pruned.orphanCgroups.length > 0) print(`Deleted cgroups no record held:\n${pruned.orphanCgroups.join('\n')}\n`);
    }));

  program
    .command('cp')
    .description("copy files between a container and the host: cp CONTAINER:SRC DEST|-, cp SRC|- CONTAINER:DEST")
    .option('-a, --archive', 'keep owners and modes (always done)')
    .argument('<src>')
    .argument('<dest>')
    .action(withRuntime(async (rt, src: string, dest: string) => {
      process.exitCode = await rt.copy(src, dest, { stdin: process.stdin, stdout: process.stdout });
    }));

  program
    .command('_cp-root', { hidden: true })
    .description('copy with a container root mounted by cp (a stopped overlay container)')
    .argument('<root>')
    .argument('<ref>')
    .argument('<direction>')
    .argument('<container-path>')
    .argument('<host-path>')
    .action(withRuntime(async (rt, root: string, ref: string, direction: string, containerPath: string, hostPath: string) => {
      await rt.copyWithRoot(root, ref, direction === 'in' ? 'in' : 'out', containerPath, hostPath, { stdin: process.stdin, stdout: process.stdout });
    }));

  program
    .command('_on-exit', { hidden: true })
    .description('record a container exit and release its network (run by the monitor)')
    .argument('<id>')
    .action(withRuntime(async (rt, id: string) => {
      warn((await rt.handleExit(id))?.warnings ?? []);
    }));

  program
    .command('_restart', { hidden: true })
    .description('start a container again after its restart back-off (run by the waiter the exit handling leaves)')
    .argument('<id>')
    .action(withRuntime(async (rt, id: string) => {
      await rt.restartNow(id);
    }));

}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new MinictrError('E_BAD_FLAG', `invalid --time "${value}": give a number of seconds`);
  }
  return n;
}

function mustSignal(value: string): NodeJS.Signals {
  const signal = parseSignal(value);
  if (!signal) throw new MinictrError('E_BAD_SIGNAL', `invalid signal: ${value}`);
  return signal;
}

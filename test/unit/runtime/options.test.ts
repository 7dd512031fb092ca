import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configEnv, nameCandidates, mergeEnv, parseEnvFile, parseEnvFlag, resolveCommand, validateName } from '../../../src/runtime/options.js';
import { containerFstab, etcFstab, initCommand, monitorCommand, mountScript, type InitMount } from '../../../src/runtime/init-script.js';
import { execArgv } from '../../../src/runtime/exec-argv.js';
import { parseSignal } from '../../../src/base/proc.js';
import { SHIM_PATH } from '../../../src/base/install-paths.js';
import { containerResolvConf, hostsFile } from '../../../src/runtime/files.js';

describe('run flags', () => {
  it('parses -e like Docker', () => {
    assert.equal(parseEnvFlag('A=1'), 'A=1');
    assert.equal(parseEnvFlag('A='), 'A=');
    assert.equal(parseEnvFlag('FROM_HOST', { FROM_HOST: 'x' }), 'FROM_HOST=x');
    assert.equal(parseEnvFlag('UNSET_HERE', {}), undefined);
    assert.throws(() => parseEnvFlag('=x'), /invalid environment variable "=x"/);
    assert.throws(() => parseEnvFlag('A B=1'), /invalid environment variable/);
  });

  it('reads env files, skipping comments and blank lines', () => {
    assert.deepEqual(parseEnvFile('# c\n\nA=1\n  B=two words\r\n', 'f', {}), ['A=1', 'B=two words']);
    assert.throws(() => parseEnvFile('ok=1\n=bad\n', 'f.env', {}), /invalid line 2 in env file f\.env/);
  });

  it('later env entries override earlier ones', () => {
    assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3']), ['PATH=/bin', 'A=2', 'B=3']);
  });

  it('applies Docker\'s entrypoint/cmd override rules', () => {
    const image = { Entrypoint: ['/entry'], Cmd: ['default'] };
    assert.deepEqual(resolveCommand(image, undefined, []), { entrypoint: ['/entry'], cmd: ['default'] });
    assert.deepEqual(resolveCommand(image, undefined, ['x']), { entrypoint: ['/entry'], cmd: ['x'] });
    assert.deepEqual(resolveCommand(image, 'sh', []), { entrypoint: ['sh'], cmd: [] });
  });

  it('validates names and generates Docker-style ones', () => {
    validateName('web-1.a_b');
    assert.throws(() => validateName('bad name'), /invalid container name/);
    assert.throws(() => validateName('-x'), /invalid container name/);
    assert.match(nameCandidates().next().value ?? '', /^[a-z]+_[a-z]+$/);
    const all = [...nameCandidates()];
    assert.equal(all.length, 101, 'a hundred adjective_surname tries, then a random name');
    assert.match(all[50] ?? '', /^[a-z]+_[a-z]+50$/);
    assert.match(all[100] ?? '', /^minictr_[0-9a-f]{8}$/);
  });

  it('parses signals by name or number', () => {
    assert.equal(parseSignal('KILL'), 'SIGKILL');
    assert.equal(parseSignal('sigterm'), 'SIGTERM');
    assert.equal(parseSignal('9'), 'SIGKILL');
    assert.equal(parseSignal('NOPE'), undefined);
  });
});

describe('container start commands', () => {
  const base = {
    dir: '/r/c/1', pidFile: '/r/c/1/pid', execMark: '/r/c/1/exec-ready', merged: '/r/c/1/merged',
    overlay: { lower: '/r/i/rootfs', upper: '/r/c/1/upper', work: '/r/c/1/work' },
    hostname: 'abc', workdir: '/', env: ['PATH=/bin', 'A=1'], command: ['sh', '-c', 'echo hi'], busybox: '/usr/bin/busybox',
    privileges: { setpriv: '/usr/bin/setpriv', loader: '/lib/ld.so', libraryDirs: ['/lib', '/usr/lib'] },
    mount: '/usr/bin/mount', unshare: '/usr/bin/unshare', devTemplate: '/r/dev',
    masked: [{ path: '/proc/kcore', dir: false }, { path: '/proc/acpi', dir: true }],
    readonly: [{ path: '/proc/sys', dir: true }],
    oldroot: '.minictr-oldroot-1234', mounts: [], readonlyRoot: false, cgroupJoin: [], tty: false,
  };

  it('bridge mode joins the named netns, then unshares the rest', () => {
    const { argv, env } = initCommand({ ...base, networkMode: 'netns', netns: 'minictr-abc' });
    assert.deepEqual(argv.slice(0, 9), ['nsenter', '--net=/run/netns/minictr-abc', '--', 'unshare', '--pid', '--fork', '--mount', '--ipc', '--kill-child=SIGKILL']);
    assert.ok(argv.includes('--uts'));
    assert.ok(!argv.includes('--net'));
    assert.deepEqual(argv.slice(-3), ['sh', '-c', 'echo hi']);
    // stage 2 ends in setpriv (through the host-root descriptor) with Docker's capabilities
    const setpriv = argv.indexOf('/proc/self/fd/9/usr/bin/setpriv');
    assert.ok(setpriv > 0);
    assert.equal(argv[setpriv - 1], '/proc/self/fd/9/lib:/proc/self/fd/9/usr/lib');
    assert.match(argv[setpriv + 2] ?? '', /^-all,\+chown,.*\+net_raw,.*\+audit_write$/);
    assert.equal(env['MINICTR_PATH'], '/bin');
    assert.equal(env['A'], '1');
    assert.match(env['MINICTR_FSTAB'] ?? '', /^overlay \/r\/c\/1\/merged overlay lowerdir=\/r\/i\/rootfs,upperdir=\/r\/c\/1\/upper,workdir=\/r\/c\/1\/work 0 0$/m);
  });

  it('none mode gets its own empty netns; host mode shares net and uts', () => {
    assert.ok(initCommand({ ...base, networkMode: 'none' }).argv.includes('--net'));
    const host = initCommand({ ...base, networkMode: 'host' });
    assert.equal(host.argv[0], 'unshare');
    assert.ok(!host.argv.includes('--net') && !host.argv.includes('--uts'));
    assert.equal(host.env['MINICTR_HOSTNAME'], '');
  });

  it('mounts everything from one fstab: root first, then /proc, /dev, /sys, then masked and read-only kernel paths', () => {
    const lines = containerFstab(base).split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[1]), [
      '/r/c/1/merged', '/r/c/1/merged/proc', '/r/c/1/merged/dev', '/r/c/1/merged/dev/pts', '/r/c/1/merged/dev/shm',
      '/r/c/1/merged/sys', '/r/c/1/merged/proc/kcore', '/r/c/1/merged/proc/acpi', '/r/c/1/merged/proc/sys',
    ]);
    assert.ok(lines.every((l) => l.split(' ').length === 6 && l.endsWith(' 0 0')));
    assert.match(lines[1] ?? '', /^proc \S+ proc nosuid,nodev,noexec,X-mount\.mkdir 0 0$/);
    assert.match(lines[5] ?? '', /^sysfs \S+ sysfs ro,/);
    assert.equal(lines[6], '/dev/null /r/c/1/merged/proc/kcore none bind 0 0');
    assert.equal(lines[7], 'tmpfs /r/c/1/merged/proc/acpi tmpfs ro,nosuid,nodev,noexec,size=0 0 0');
    assert.equal(lines[8], '/r/c/1/merged/proc/sys /r/c/1/merged/proc/sys none bind,ro 0 0');
  });

  it('binds the container\'s /etc files from the old root in stage 2, one busybox mount -a', () => {
    assert.equal(
      etcFstab('/r/c 1', '.old'),
      [
        '/.old/r/c\\0401/hosts /etc/hosts none bind 0 0',
        '/.old/r/c\\0401/hostname /etc/hostname none bind 0 0',
        '/.old/r/c\\0401/resolv.conf /etc/resolv.conf none bind 0 0',
      ].join('\n'),
    );
    assert.equal(initCommand({ ...base, networkMode: 'none' }).env['MINICTR_ETC_FSTAB'], etcFstab(base.dir, base.oldroot));
  });

  it('makes binds, volumes and tmpfs after pivot_root: destinations inside the root, sources through the old root', () => {
    const m = (over: Partial<InitMount>): InitMount => ({
      kind: 'bind', source: '/h', destination: '/d', readOnly: false, propagation: '', options: '', file: false, copyUp: false, ...over,
    });
    assert.equal(mountScript([m({ source: "/host/it's", destination: '/data', readOnly: true })]), [
      "mkdirs '/data'",
      `$B mount -o rbind "$O"'/host/it'\\''s' '/data'`,
      "$B mount -o remount,bind,ro '/data'",
    ].join('\n'));
    assert.equal(mountScript([m({ destination: '/etc/app.conf', file: true, propagation: 'rprivate' })]), [
      "mkdirs '/etc'", "[ -e '/etc/app.conf' ] || : > '/etc/app.conf'", `$B mount -o rbind "$O"'/h' '/etc/app.conf'`,
    ].join('\n'));
    assert.match(mountScript([m({ copyUp: true, source: '/v/_data' })]), /if \[ -z "\$\(\$B ls -A "\$O"'\/v\/_data'\)" \]; then \$B cp -a '\/d'\/\. "\$O"'\/v\/_data'\/; fi/);
    assert.match(mountScript([m({ propagation: 'rshared' })]), /\$B mount --make-rshared '\/d'$/);
    assert.equal(mountScript([m({ kind: 'tmpfs', source: '', options: 'rw,noexec,nosuid,nodev,size=1m' })]),
      "mkdirs '/d'\n$B mount -t tmpfs -o 'rw,noexec,nosuid,nodev,size=1m' tmpfs '/d'");
  });

  it('the init enters its cgroup itself, then makes a cgroup namespace: unshare (the starter) stays out', () => {
    const init = initCommand({ ...base, networkMode: 'none', cgroupJoin: ['/sys/fs/cgroup/memory/minictr/x/tasks'] });
    assert.ok(!init.argv.includes('--cgroup'), 'the outer unshare makes no cgroup namespace');
    assert.equal(init.env['MINICTR_CGROUP_JOIN'], '/sys/fs/cgroup/memory/minictr/x/tasks');
    assert.match(init.env['MINICTR_STAGE1'] ?? '', /echo 0 > "\$f"; done\n\s+MINICTR_CGROUP_JOIN= exec "\$MINICTR_UNSHARE" --cgroup --/);
    assert.ok((init.env['MINICTR_UNSET'] ?? '').includes('-u MINICTR_CGROUP_JOIN'));
  });

  it('stage 1 fills /dev from the template with one cp and sets the hostname without a process', () => {
    const init = initCommand({ ...base, networkMode: 'none' });
    const stage1 = init.env['MINICTR_STAGE1'] ?? '';
    assert.equal(init.env['MINICTR_DEVDIR'], '/r/dev');
    assert.ok((init.env['MINICTR_UNSET'] ?? '').includes('-u MINICTR_DEVDIR'));
    assert.match(stage1, /^cp -a "\$MINICTR_DEVDIR"\/\* "\$R\/dev\/"$/m);
    assert.doesNotMatch(stage1, /\bmknod\b|\bln -s\b/);
    assert.match(stage1, /printf '%s' "\$MINICTR_HOSTNAME" > \/proc\/sys\/kernel\/hostname; \} 2>\/dev\/null \|\| hostname /);
    // The mounts come first: the cp lands in the fresh /dev tmpfs, pivot_root after it.
    const at = (text: string): number => stage1.indexOf(text);
    assert.ok(at('--all --fstab') < at('cp -a') && at('cp -a') < at('mkdir "$R/$O"') && at('mkdir "$R/$O"') < at('pivot_root'));
  });

  it('escapes blanks in fstab fields, and binds a copied root onto itself', () => {
    const spaced = containerFstab({ merged: '/my root/m', masked: [], readonly: [] });
    assert.equal(spaced.split('\n')[0], '/my\\040root/m /my\\040root/m none bind 0 0');
  });

  it('the monitor wraps the init and knows how to report the exit', () => {
    const init = initCommand({ ...base, networkMode: 'none' });
    const console = { shim: '/s', socket: '/x/console.sock', tty: false, stdin: false, waitAttach: false };
    const mon = monitorCommand(init, { console, exitFile: '/x/exit', killMark: '/x/killed', node: '/n', cli: '/c.js', root: '/r', id: 'i', waiterPid: 42 });
    assert.deepEqual(mon.argv.slice(0, 2), ['/bin/sh', '-c']);
    assert.deepEqual(mon.argv.slice(4, 8), ['/s', '--socket', '/x/console.sock', '--'], 'the shim holds the console in front of the init');
    assert.deepEqual(mon.argv.slice(8), [...init.argv]);
    assert.equal(mon.env['MINICTR_WAITER'], '42');
    assert.equal(mon.env['MINICTR_KILLMARK'], '/x/killed');
    assert.ok((mon.env['MINICTR_UNSET'] ?? '').includes('-u MINICTR_WAITER'), 'monitor variables never reach the container');
    assert.ok((mon.env['MINICTR_UNSET'] ?? '').includes('-u MINICTR_KILLMARK'), 'monitor variables never reach the container');
  });

  it('the monitor records the exit, and runs _on-exit only when nobody else handles it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minictr-monitor-'));
    try {
      // A stand-in for node that notes it was asked to run the exit handling.
      const fakeNode = join(dir, 'node');
      await writeFile(fakeNode, `#!/bin/sh\necho "$@" > ${dir}/on-exit\n`, { mode: 0o755 });
      const run = async (killed: boolean): Promise<{ code: number | null; exit: string; onExit: string }> => {
        await rm(join(dir, 'on-exit'), { force: true });
        if (killed) await writeFile(join(dir, 'killed'), '9\n');
        else await rm(join(dir, 'killed'), { force: true });
        const mon = monitorCommand({ argv: ['sh', '-c', 'exit 3'], env: {} }, {
          console: { shim: SHIM_PATH, socket: join(dir, 'console.sock'), tty: false, stdin: false, waitAttach: false },
          exitFile: join(dir, 'exit-code'), killMark: join(dir, 'killed'), node: fakeNode, cli: '/c.js', root: '/r', id: 'abc',
        });
        const [file, ...args] = mon.argv;
        const child = spawn(file ?? '', args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...mon.env }, stdio: 'ignore' });
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        return {
          code,
          exit: await readFile(join(dir, 'exit-code'), 'utf8'),
          onExit: await readFile(join(dir, 'on-exit'), 'utf8').catch(() => ''),
        };
      };
      const alone = await run(false);
      assert.equal(alone.exit, '3\n');
      assert.equal(alone.onExit, '-- /c.js --root /r _on-exit abc\n', 'nobody waits: the monitor runs the exit handling');
      const killed = await run(true);
      assert.equal(killed.exit, '3\n');
      assert.equal(killed.code, 3);
      assert.equal(killed.onExit, '', 'the command that killed the container handles its exit itself');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exec joins every namespace and resolves -w inside the container root', () => {
    const tools = { setpriv: '/usr/bin/setpriv', loader: '', libraryDirs: [] };
    const argv = execArgv(77, '/tmp', ['ls'], tools, '/bin/busybox');
    assert.deepEqual(argv.slice(0, 10), [
      'nsenter', '--target=77', '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd=/proc/77/root/tmp', '--',
    ]);
    assert.equal(argv[10], '/proc/self/fd/3/usr/bin/setpriv');
    assert.deepEqual(argv.slice(-2), ['minictr-init', 'ls']);
    assert.equal(execArgv(77, '/', ['ls'], tools, '/bin/busybox')[8], '--wd=/proc/77/root');
  });

  it('writes /etc/hosts with the container address and drops loopback nameservers', () => {
    assert.match(hostsFile('abc', '172.18.0.2'), /^127\.0\.0\.1\tlocalhost\n[\s\S]*172\.18\.0\.2\tabc\n$/);
    assert.equal(containerResolvConf('nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch x\n'), 'nameserver 10.0.0.1\nsearch x\n');
  });
});

describe("Docker's Config.Env", () => {
  it('lists the user\'s variables first, then the image\'s the user did not set, without what the process adds', () => {
    assert.deepEqual(configEnv(['K=v', 'PATH=/mine'], ['PATH=/usr/bin', 'LANG=C']), ['K=v', 'PATH=/mine', 'LANG=C']);
    assert.deepEqual(configEnv([], ['PATH=/usr/bin']), ['PATH=/usr/bin']);
    assert.deepEqual(configEnv(['A=1', 'A=2'], []), ['A=2'], 'the last of a repeated name wins, as with -e twice');
  });
});

// The runtime core as a user sees it: run, lifecycle commands, exit codes, bad input.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Sandbox, eventually, isRoot, sh, MINICTR_BIN } from './sandbox.js';

describe('runtime core', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  before(() => box.setup());
  after(() => box.cleanup());

  const mc = (...args: string[]) => box.minictr(args);

  it('runs a command and returns its exit status, output streamed', async () => {
    const r = await mc('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7');
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const left = await mc('ps', '-aq');
    assert.equal(left.stdout, '', '--rm leaves no container');
  });

  it('isolates pid, uts, mount and net namespaces; hostname defaults to the short id', async () => {
    const r = await mc('run', '--name', 'iso', '--network', 'none', 'busybox', 'sh', '-c',
      'echo pid=$$; hostname; ip -o link | wc -l; grep -c " / overlay " /proc/mounts; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1');
    assert.equal(r.code, 0, r.stderr);
    const id = (await mc('inspect', '-f', '{{.Id}}', 'iso')).stdout.trim();
    assert.deepEqual(r.stdout.trim().split('\n'), ['pid=1', id.slice(0, 12), '1', '1', 'ro']);
    const st = await mc('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'iso');
    assert.equal(st.stdout.trim(), 'exited 0');
    assert.equal((await mc('rm', 'iso')).code, 0);
  });

  it('has a minimal /dev and sees none of the host processes', async () => {
    const r = await mc('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c',
      'ls /dev | sort | tr "\\n" " "; echo; ps -o pid | wc -l; echo x > /dev/null && head -c 4 /dev/urandom | wc -c');
    assert.equal(r.code, 0, r.stderr);
    const [devs, procs, random] = r.stdout.trim().split('\n');
    for (const dev of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm']) {
      assert.ok(devs?.split(' ').includes(dev), `/dev/${dev} present in: ${devs}`);
    }
    assert.ok(Number(procs) <= 4, `only the container's processes are visible (${procs} lines)`);
    assert.equal(random, '4');
  });

  it('honours -e, --env-file, -w, --hostname, --entrypoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mc-envfile-'));
    try {
      const file = join(dir, 'env');
      await writeFile(file, '# comment\nFROM_FILE=yes\n\nOVERRIDE=file\n');
      const r = await mc('run', '--rm', '--network', 'none', '-e', 'A=1', '--env-file', file, '-e', 'OVERRIDE=flag',
        '-w', '/tmp/work', '--hostname', 'box1', 'busybox', 'sh', '-c', 'echo $A $FROM_FILE $OVERRIDE; pwd; hostname');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1 yes flag\n/tmp/work\nbox1\n');
      const e = await mc('run', '--rm', '--network', 'none', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint');
      assert.equal(e.stdout, 'via entrypoint\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('passes stdin with -i', async () => {
    const r = await box.minictr(['run', '--rm', '-i', '--network', 'none', 'busybox', 'tr', 'a-z', 'A-Z'], { input: 'hello\n' });
    assert.equal(r.stdout, 'HELLO\n');
  });

  it('detached: ps, logs -f, exec, stop of a process that ignores SIGTERM, wait, start again', async () => {
    const run = await mc('run', '-d', '--name', 'bg', '--network', 'none', 'busybox', 'sh', '-c',
      'trap "" TERM; echo started; echo to-stderr >&2; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await mc('ps');
    const [header, row] = ps.stdout.trim().split('\n');
    assert.match(header ?? '', /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.match(row ?? '', new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c trap.*"\\s+.*\\s+Up .*\\s+bg$`));

    await eventually(async () => (await mc('logs', 'bg')).stdout.includes('tick 2'), 10_000, 'logs to show ticks');
    const logs = await mc('logs', 'bg');
    assert.ok(logs.stdout.startsWith('started\ntick 1\n'));
    assert.equal(logs.stderr, 'to-stderr\n');

    const ex = await mc('exec', '-e', 'X=42', 'bg', 'sh', '-c', 'echo $X; cat /proc/1/cmdline | tr "\\0" " "');
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /^42\nsh -c trap/);
    assert.equal((await mc('exec', 'bg', 'sh', '-c', 'exit 5')).code, 5);

    const follow = box.minictr(['logs', '-f', 'bg'], { timeoutMs: 30_000 });
    const started = Date.now();
    const stop = await mc('stop', '-t', '1', 'bg');
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(Date.now() - started >= 900, 'stop waited for the grace period');
    const followed = await follow;
    assert.equal(followed.code, 0, 'logs -f ends when the container stops');
    assert.ok(followed.stdout.includes('tick'));
    assert.equal((await mc('wait', 'bg')).stdout.trim(), '137', 'SIGKILL after the grace period: 128+9');
    assert.match((await mc('ps', '-a')).stdout, /Exited \(137\)/);

    assert.equal((await mc('start', 'bg')).code, 0);
    assert.equal((await mc('inspect', '-f', '{{.State.Running}}', id.slice(0, 8))).stdout.trim(), 'true');
    assert.equal((await mc('restart', '-t', '0', 'bg')).code, 0);
    assert.equal((await mc('kill', '-s', 'KILL', 'bg')).code, 0);
    assert.equal((await mc('inspect', '-f', '{{.State.ExitCode}}', 'bg')).stdout.trim(), '137');
    assert.equal((await mc('rm', 'bg')).code, 0);
  });

  it('run -d --rm: the monitor removes the container and its network when it exits', async () => {
    const run = await mc('run', '-d', '--rm', '-p', '6100:80', 'busybox', 'sleep', '0.3');
    assert.equal(run.code, 0, run.stderr);
    await eventually(async () => (await mc('ps', '-aq')).stdout === '', 15_000, 'the container to be removed');
    assert.doesNotMatch((await box.host(['ip', '-o', 'link'])).stdout, /veth/);
    assert.doesNotMatch((await box.host(['iptables-save'])).stdout, /--dport 6100/);
  });

  it('create then start; rm refuses a running container without -f', async () => {
    const c = await mc('create', '--name', 'later', '--network', 'none', 'busybox', 'sleep', '30');
    assert.equal(c.code, 0, c.stderr);
    assert.match((await mc('ps', '-a')).stdout, /Created\s+later/);
    assert.equal((await mc('start', 'later')).code, 0);
    const refused = await mc('rm', 'later');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /running.*rm -f/);
    assert.equal((await mc('rm', '-f', 'later')).code, 0);
    assert.equal((await mc('ps', '-aq')).stdout, '');
  });

  it('--network host shares the host stack; --network none only lo', async () => {
    const host = await mc('run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link');
    assert.match(host.stdout, new RegExp(`${box.prefix}h`));
    const none = await mc('run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link');
    assert.equal(none.stdout.trim().split('\n').length, 1);
    assert.match(none.stdout, /lo:.*UP/);
  });

  describe('bad input: exit code, one clear line, nothing left behind', () => {
    const cases: { args: string[]; code: number; message: RegExp }[] = [
      { args: ['run', '--pull', 'never', 'nosuchimage'], code: 125, message: /Unable to find image 'nosuchimage:latest'/ },
      { args: ['run', '--rm', '--network', 'none', 'busybox', 'nosuchcmd'], code: 127, message: /"nosuchcmd": executable file not found/ },
      { args: ['run', '--rm', '--network', 'none', 'busybox', '/etc/passwd'], code: 126, message: /permission denied/ },
      { args: ['run', '--bogus-flag', 'busybox'], code: 125, message: /unknown option '--bogus-flag'/ },
      { args: ['run', '-e', '=x', 'busybox', 'true'], code: 125, message: /invalid environment variable/ },
      { args: ['run', '--name', 'bad name!', 'busybox', 'true'], code: 125, message: /invalid container name/ },
      { args: ['run', '--network', 'nonet', 'busybox', 'true'], code: 125, message: /network nonet not found/ },
      { args: ['run', '-p', '70000:80', 'busybox', 'true'], code: 125, message: /out of range/ },
      { args: ['stop', 'nosuchcontainer'], code: 1, message: /no such container: nosuchcontainer/ },
      { args: ['inspect', 'nosuchcontainer'], code: 1, message: /no such container/ },
      { args: ['frobnicate'], code: 125, message: /unknown command 'frobnicate'/ },
    ];
    for (const c of cases) {
      it(`minictr ${c.args.join(' ')} → ${c.code}`, async () => {
        const r = await box.minictr(c.args);
        assert.equal(r.code, c.code, r.stderr);
        const lines = r.stderr.trim().split('\n');
        assert.match(lines[0] ?? '', c.message);
        assert.equal((await mc('ps', '-aq')).stdout, '', 'no container record left');
      });
    }

    it('a duplicate --name is refused and the first container is untouched', async () => {
      assert.equal((await mc('create', '--name', 'dup', '--network', 'none', 'busybox', 'true')).code, 0);
      const r = await mc('create', '--name', 'dup', '--network', 'none', 'busybox', 'true');
      assert.equal(r.code, 125);
      assert.match(r.stderr, /name "\/dup" is already in use/);
      assert.equal((await mc('ps', '-aq')).stdout.trim().split('\n').length, 1);
      await mc('rm', 'dup');
    });

    it('a normal user pointed at root\'s state is refused (rootless minictr keeps its own)', async () => {
      const r = await sh(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--', MINICTR_BIN, '--root', box.root, 'ps']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^minictr: \S+ is not yours \(root's state, or another user's\): rootless minictr keeps its own/);
    });
  });

  it('leaves no container directories behind', async () => {
    const left = await readdir(join(box.root, 'containers')).catch(() => []);
    assert.deepEqual(left, []);
  });
});

// The container's console: a real pseudo-terminal for -t (tested in a real terminal under
// tmux), detach and attach, -i without -t, several attached clients, and the json-file log of
// every run (foreground and detached) with logs -f/-t/--since/--until/--tail and rotation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox, MINICTR_BIN, eventually, isRoot } from './sandbox.js';
import { Terminal } from './terminal.js';

describe('console: terminals, attach and logs', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);
  const term = new Terminal();
  /** minictr as typed into the terminal, on the sandbox host. */
  let minictr = '';

  before(async () => {
    await box.setup();
    await term.open(100, 30);
    minictr = `nsenter --net=/run/netns/${box.hostNs} -- ${process.execPath} -- ${MINICTR_BIN} --root ${box.root}`;
    // The busybox image is built once, before any terminal test waits on a prompt.
    await ok('run', '--rm', '--network', 'none', 'busybox', 'true');
  });
  after(async () => {
    await term.close();
    await box.cleanup();
  });

  const ok = async (...args: string[]) => {
    const r = await mc(...args);
    assert.equal(r.code, 0, `minictr ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  it('run -it: the shell has /dev/pts/0 with the window size, job control, and Ctrl-C reaches only its foreground job', async () => {
    await term.type(`${minictr} run -it --name tty1 --network none busybox sh`);
    await term.waitFor(/^\/ # $/m, 'the container shell prompt');
    await term.type('echo "tty=$(tty) size=$(stty size) console=$([ -c /dev/console ] && echo char)"');
    await term.waitFor(/tty=\/dev\/pts\/0 size=30 100 console=char/, 'a pts of its own, sized as the terminal');
    await term.type('sleep 100');
    // Ctrl-C once the sleep is the terminal's foreground job (before, it would be the shell's).
    await eventually(async () => (await ok('top', 'tty1')).stdout.includes('sleep 100'), 10_000, 'the sleep to run');
    await term.keys('C-c');
    await term.type('echo "shell alive as pid $$ after $((40+2))"');
    await term.waitFor(/shell alive as pid 1 after 42/, 'the shell to survive Ctrl-C of its sleep');
    await term.type('sleep 50 & jobs; kill %1');
    await term.waitFor(/\[1\]\+?\s+Running\s+sleep 50/, 'job control');
  });

  it('the window size follows the terminal (SIGWINCH)', async () => {
    await term.resize(80, 24);
    await eventually(async () => {
      await term.type('echo "now=$(stty size)"');
      return (await term.screen()).includes('now=24 80');
    }, 10_000, 'stty size to follow the resize');
  });

  it('Ctrl-P Ctrl-Q detaches (exit 0), the container runs on; attach comes back and its exit status is attach\'s', async () => {
    await term.keys('C-p', 'C-q');
    await term.waitFor(/\/ # \$ $/m, 'the host prompt again');
    await term.type('echo "detached rc=$?"');
    await term.waitFor(/^detached rc=0$/m, 'the host shell after detaching');
    assert.match((await ok('ps', '--format', '{{.Names}} {{.Status}}')).stdout, /^tty1 Up /m);
    await term.type(`${minictr} attach tty1`);
    await term.type('echo "back in $((6*7))"');
    await term.waitFor(/^back in 42/m, 'the container shell again');
    await term.type('exit 3');
    await term.waitFor(/exit 3\n\$ $/m, 'the host prompt again');
    await term.type('echo "attach rc=$?"');
    await term.waitFor(/^attach rc=3$/m, "attach's exit status to be the container's");
    assert.equal((await ok('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'tty1')).stdout, 'exited 3\n');
    await ok('rm', 'tty1');
  });

  it('run -it exit 3 returns 3, and the terminal is back in its own mode', async () => {
    await term.type(`${minictr} run -it --rm --network none busybox sh`);
    await term.waitFor(/^\/ # $/m, 'the container shell prompt');
    await term.type('exit 3');
    await term.waitFor(/exit 3\n\$ $/m, 'the host prompt again');
    await term.type('echo "run rc=$?"; stty -a | grep -o -- "-\\?icanon" | sed "s/^/mode:/"');
    await term.waitFor(/^run rc=3\nmode:icanon$/m, 'exit 3 and a cooked terminal');
  });

  it('kill -9 of minictr while attached: the terminal is usable again and the container runs on', async () => {
    const pidFile = term.file('minictr.pid');
    // The inner shell becomes minictr (exec), so its pid is minictr's.
    await term.type(`bash -c 'echo $$ > ${pidFile}; exec ${minictr} run -it --name k9 --network none busybox sh'`);
    await term.waitFor(/^\/ # $/m, 'the container shell prompt');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    await term.waitFor(/Killed\n\$ $/m, 'the host prompt again');
    await term.type('echo "host $((1+1))"; stty -a | grep -o -- "-\\?icanon\\|-\\?echo " | tr "\\n" " " | sed "s/^/mode:/"; echo');
    await term.waitFor(/^mode:icanon echo +$/m, 'the terminal restored (icanon, echo) by the guard');
    assert.match((await ok('ps', '--format', '{{.Names}} {{.Status}}')).stdout, /^k9 Up /m);
    await ok('rm', '-f', 'k9');
  });

  it('exec -it: a second terminal of the container\'s devpts, with job control; exit 4 returns 4', async () => {
    await ok('run', '-dit', '--name', 'ex', '--network', 'none', 'busybox', 'sh');
    await term.type(`${minictr} exec -it ex sh`);
    await term.waitFor(/^\/ # $/m, 'the exec shell prompt');
    await term.type('echo "exec tty=$(tty) size=$(stty size)"');
    await term.waitFor(/exec tty=\/dev\/pts\/1 size=24 80/, 'pts 1 (pts 0 is the container\'s own), sized as the terminal');
    await term.type('sleep 100');
    await eventually(async () => (await ok('top', 'ex')).stdout.includes('sleep 100'), 10_000, 'the sleep to run');
    await term.keys('C-c');
    await term.type('echo "exec shell alive $((40+2))"');
    await term.waitFor(/exec shell alive 42/, 'Ctrl-C to end only the sleep');
    await term.type('exit 4');
    await term.waitFor(/exit 4\n\$ $/m, 'the host prompt again');
    await term.type('echo "exec rc=$?"');
    await term.waitFor(/^exec rc=4$/m, "exec's exit status");
    assert.match((await ok('ps', '--format', '{{.Names}} {{.Status}}')).stdout, /^ex Up /m);
    await ok('rm', '-f', 'ex');
  });

  it('-it with stdin not a terminal is refused as Docker refuses it, before anything is made', async () => {
    const r = await mc('run', '-it', '--name', 'notty', 'busybox', 'sh');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the input device is not a TTY/);
    assert.doesNotMatch((await ok('ps', '-a', '--format', '{{.Names}}')).stdout, /notty/);
  });

  it('-i without -t streams stdin and closes it at its end', async () => {
    const r = await box.minictr(['run', '--rm', '-i', '--network', 'none', 'busybox', 'sh', '-c', 'while read l; do echo "got $l"; done; echo eof'], { input: 'a\nb\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'got a\ngot b\neof\n');
    const none = await box.minictr(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'cat; echo "closed"'], { input: 'ignored\n' });
    assert.equal(none.stdout, 'closed\n', 'without -i the container reads nothing');
  });

  it('several attached clients see the same output; input from one reaches the container', async () => {
    await ok('run', '-d', '-i', '--name', 'multi', '--network', 'none', 'busybox', 'sh', '-c', 'while read l; do echo "got $l"; done');
    const attachOne = () => spawn('nsenter', [`--net=/run/netns/${box.hostNs}`, '--', process.execPath, '--', MINICTR_BIN, '--root', box.root, 'attach', 'multi'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const a = attachOne();
    const b = attachOne();
    const seen = (child: ReturnType<typeof attachOne>): (() => string) => {
      let text = '';
      child.stdout?.on('data', (d: Buffer) => { text += d.toString(); });
      return () => text;
    };
    const [aSaw, bSaw] = [seen(a), seen(b)];
    try {
      // Each client is in once its line comes back to it.
      await eventually(async () => { a.stdin?.write('ping-a\n'); return aSaw().includes('got ping-a'); }, 10_000, 'client a attached');
      await eventually(async () => { b.stdin?.write('ping-b\n'); return bSaw().includes('got ping-b'); }, 10_000, 'client b attached');
      a.stdin?.write('hello\n');
      await eventually(async () => aSaw().includes('got hello') && bSaw().includes('got hello'), 10_000, 'both clients to see the output of one client\'s input');
    } finally {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    }
    assert.match((await ok('ps', '--format', '{{.Names}} {{.Status}}')).stdout, /^multi Up /m, 'clients leaving do not stop the container');
    assert.match((await ok('logs', 'multi')).stdout, /got hello/);
    await ok('rm', '-f', 'multi');
    const stopped = await mc('attach', 'multi');
    assert.equal(stopped.code, 1);
  });

  it('a foreground run is logged too, in json-file lines, stdout and stderr apart', async () => {
    const r = await ok('run', '--name', 'fg', '--network', 'none', 'busybox', 'sh', '-c', 'echo "out <1>"; echo err >&2; printf tail');
    assert.equal(r.stdout, 'out <1>\ntail');
    assert.equal(r.stderr, 'err\n');
    const logs = await ok('logs', 'fg');
    assert.equal(logs.stdout, 'out <1>\ntail');
    assert.equal(logs.stderr, 'err\n');
    const id = (await ok('inspect', '-f', '{{.Id}}', 'fg')).stdout.trim();
    const path = (await ok('inspect', '-f', '{{.LogPath}}', 'fg')).stdout.trim();
    assert.equal(path, join(box.root, 'containers', id, `${id}-json.log`));
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
    assert.deepEqual(lines.map((l) => [l.log, l.stream]), [['out <1>\n', 'stdout'], ['err\n', 'stderr'], ['tail', 'stdout']]);
    for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.match(await readFile(path, 'utf8'), /"out \\u003c1\\u003e\\n"/, "Go's escaping, as Docker writes it");
  });

  it('logs -t, --tail, --since and --until', async () => {
    const stamped = (await ok('logs', '-t', 'fg')).stdout;
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out <1>\n\d{4}.*Z tail$/);
    assert.equal((await ok('logs', '--tail', '1', 'fg')).stdout, 'tail');
    assert.equal((await ok('logs', '--tail', '0', 'fg')).stdout, '');
    const path = (await ok('inspect', '-f', '{{.LogPath}}', 'fg')).stdout.trim();
    const times = (await readFile(path, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { time: string }).time);
    const since = await ok('logs', '--since', times[2] ?? '', 'fg');
    assert.equal(since.stdout, 'tail');
    assert.equal(since.stderr, '');
    const until = await ok('logs', '--until', times[0] ?? '', 'fg');
    assert.equal(until.stdout, 'out <1>\n');
    assert.equal((await ok('logs', '--since', '1h', 'fg')).stdout, 'out <1>\ntail');
    const bad = await mc('logs', '--since', 'yesterday', 'fg');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid value for "since"/);
    await ok('rm', 'fg');
  });

  it('--log-driver none keeps no log, and logs says it cannot read one', async () => {
    const r = await ok('run', '--name', 'nolog', '--log-driver', 'none', '--network', 'none', 'busybox', 'echo', 'shown');
    assert.equal(r.stdout, 'shown\n', 'the output still reaches the attached caller');
    const logs = await mc('logs', 'nolog');
    assert.equal(logs.code, 1);
    assert.match(logs.stderr, /configured logging driver does not support reading/);
    const id = (await ok('inspect', '-f', '{{.Id}}', 'nolog')).stdout.trim();
    assert.ok(!(await readdir(join(box.root, 'containers', id))).some((f) => f.endsWith('-json.log')));
    assert.equal((await ok('inspect', '-f', '{{.HostConfig.LogConfig.Type}}', 'nolog')).stdout, 'none\n');
    await ok('rm', 'nolog');
  });

  it('max-size/max-file rotate the log, and logs -f loses no line across rotations', async () => {
    // The container waits for its follower, then writes 400 numbered lines, a few ms apart.
    await ok('run', '-d', '--name', 'rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', '--network', 'none', 'busybox', 'sh', '-c',
      'echo ready; while [ ! -e /go ]; do usleep 10000; done; i=0; while [ $i -lt 400 ]; do echo "line $i"; i=$((i+1)); usleep 2000; done');
    const follower = spawn('nsenter', [`--net=/run/netns/${box.hostNs}`, '--', process.execPath, '--', MINICTR_BIN, '--root', box.root, 'logs', '-f', 'rot'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    follower.stdout?.on('data', (d: Buffer) => { text += d.toString(); });
    const ended = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    await eventually(async () => text.startsWith('ready\n'), 10_000, 'the follower to have started');
    await ok('exec', 'rot', 'touch', '/go');
    assert.equal(await ended, 0, 'logs -f ends when the container stops');
    const expected = Array.from({ length: 400 }, (_, i) => `line ${i}`);
    assert.deepEqual(text.trim().split('\n'), ['ready', ...expected], 'every line, once, in order');
    const id = (await ok('inspect', '-f', '{{.Id}}', 'rot')).stdout.trim();
    const files = (await readdir(join(box.root, 'containers', id))).filter((f) => f.includes('-json.log')).sort();
    assert.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1`], 'two files kept');
    const kept = (await ok('logs', 'rot')).stdout.trim().split('\n');
    assert.ok(kept.length < 400 && kept.length > 0, `only what the two files hold (${kept.length} lines)`);
    assert.deepEqual(kept, expected.slice(400 - kept.length), 'the newest lines, in order');
    await ok('rm', 'rot');
  });

  it('bad log and detach flags are refused in one line, before anything is made', async () => {
    for (const [args, message] of [
      [['--log-driver', 'syslogx'], /no log driver named 'syslogx'/],
      [['--log-opt', 'max-file=0'], /max-file cannot be less than 1/],
      [['--detach-keys', 'ctrl-1'], /Invalid detach keys/],
    ] as const) {
      const r = await mc('run', '--name', 'badflag', ...args, '--network', 'none', 'busybox', 'true');
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    assert.doesNotMatch((await ok('ps', '-a', '--format', '{{.Names}}')).stdout, /badflag/);
  });
});

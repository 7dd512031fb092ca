// The everyday lifecycle commands, against the kernel: pause freezes a busy loop (its cgroup's
// CPU time stops growing) and unpause lets it go on; a paused container stops, is killed and
// removed as in Docker; rename moves the name (and a peer on a user network follows it); top
// lists the container's own processes; ps --filter picks rows as Docker's does.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Sandbox, cgroupFile as cgroupFileOf, cgroupV1, eventually, isRoot } from './sandbox.js';

describe('everyday lifecycle commands', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);
  let v1 = false;

  before(async () => {
    await box.setup();
    v1 = await cgroupV1();
  });
  after(() => box.cleanup());

  const ok = async (...args: string[]) => {
    const r = await mc(...args);
    assert.equal(r.code, 0, `minictr ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const idOf = async (name: string) => (await ok('inspect', '-f', '{{.Id}}', name)).stdout.trim();
  /** The container's CPU time so far, in ns, as its cgroup counts it. */
  const cpuNanos = async (id: string): Promise<number> => {
    if (v1) return Number((await readFile(cgroupFileOf(v1, id, 'cpuacct', 'cpuacct.usage'), 'utf8')).trim());
    const m = /^usage_usec (\d+)$/m.exec(await readFile(cgroupFileOf(v1, id, 'cpu', 'cpu.stat'), 'utf8'));
    return Number(m?.[1]) * 1000;
  };
  const freezerState = async (id: string): Promise<string> =>
    v1 ? (await readFile(cgroupFileOf(v1, id, 'freezer', 'freezer.state'), 'utf8')).trim()
      : /^frozen 1$/m.test(await readFile(cgroupFileOf(v1, id, '', 'cgroup.events'), 'utf8')) ? 'FROZEN' : 'THAWED';
  const grows = async (id: string): Promise<boolean> => {
    const a = await cpuNanos(id);
    await new Promise((r) => setTimeout(r, 300));
    return (await cpuNanos(id)) > a + 10_000_000;
  };

  it("pause freezes a busy loop (its CPU time stops), ps and inspect say so, unpause lets it run", async () => {
    await ok('run', '-d', '--name', 'busy', '--network', 'none', 'busybox', 'sh', '-c', 'while :; do :; done');
    const id = await idOf('busy');
    await eventually(() => grows(id), 5_000, 'the loop to use CPU');
    const paused = await ok('pause', '--explain', 'busy');
    assert.match(paused.stdout, /^busy\n$/);
    assert.match(paused.stderr, /echo (FROZEN|1) > \/sys\/fs\/cgroup\/.*minictr\/[0-9a-f]{64}\/(freezer\.state|cgroup\.freeze)/);
    assert.equal(await freezerState(id), 'FROZEN');
    const frozenAt = await cpuNanos(id);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await cpuNanos(id), frozenAt, 'no CPU time while paused');
    assert.match((await ok('ps')).stdout, /Up .* \(Paused\)\s+busy\n/);
    assert.equal((await ok('ps', '--format', '{{.Names}} {{.State}}')).stdout, 'busy paused\n');
    assert.equal((await ok('inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'busy')).stdout, 'paused true true\n');
    // Docker's refusals while paused.
    const again = await mc('pause', 'busy');
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`^minictr: Container ${id} is already paused\n$`));
    const exec = await mc('exec', 'busy', 'true');
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /is paused, unpause the container before exec/);
    const start = await mc('start', 'busy');
    assert.equal(start.code, 1);
    assert.match(start.stderr, /cannot start a paused container, try unpause instead/);
    const rm = await mc('rm', 'busy');
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /container is paused and must be unpaused first/);

    assert.equal((await ok('unpause', 'busy')).stdout, 'busy\n');
    assert.equal(await freezerState(id), 'THAWED');
    assert.ok(await eventually(() => grows(id), 5_000, 'the loop to run again'));
    assert.equal((await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'busy')).stdout, 'running false\n');
    const notPaused = await mc('unpause', 'busy');
    assert.equal(notPaused.code, 1);
    assert.match(notPaused.stderr, new RegExp(`^minictr: Container ${id} is not paused\n$`));
    await ok('rm', '-f', 'busy');
  });

  it('a paused container stops, is killed and is removed with -f: it is thawed after the signal, as in Docker', async () => {
    for (const name of ['p-stop', 'p-kill', 'p-rm']) {
      await ok('run', '-d', '--name', name, '--network', 'none', 'busybox', 'sleep', '300');
      await ok('pause', name);
    }
    const t0 = Date.now();
    await ok('stop', '-t', '1', 'p-stop');
    assert.ok(Date.now() - t0 < 8_000, 'stop did not hang on the frozen process');
    assert.match((await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}', 'p-stop')).stdout, /^exited false (137|143)\n$/);
    await ok('kill', 'p-kill');
    assert.equal((await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}', 'p-kill')).stdout, 'exited false 137\n');
    await ok('rm', '-f', 'p-rm');
    assert.notEqual((await mc('inspect', 'p-rm')).code, 0);
    // Pausing a stopped container: Docker's error, exit 1.
    const id = await idOf('p-stop');
    const r = await mc('pause', 'p-stop');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^minictr: Container ${id} is not running\n$`));
    await ok('rm', 'p-stop', 'p-kill');
    assert.deepEqual(await box.leakedCgroups(), []);
  });

  it('rename: the new name works and the old does not; taken and same names are refused; a peer on a user network follows', async () => {
    await ok('network', 'create', 'evnet');
    await ok('run', '-d', '--name', 'svc', '--network', 'evnet', 'busybox', 'sleep', '300');
    await ok('run', '-d', '--name', 'peer', '--network', 'evnet', 'busybox', 'sleep', '300');
    const svcId = await idOf('svc');
    const peerId = await idOf('peer');
    const taken = await mc('rename', 'svc', 'peer');
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, new RegExp(`the container name "/peer" is already in use by container "${peerId}"`));
    const same = await mc('rename', 'svc', 'svc');
    assert.equal(same.code, 1);
    assert.match(same.stderr, /Renaming a container with the same name as its current name/);
    const bad = await mc('rename', 'svc', 'no good');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid container name "no good"/);

    assert.equal((await ok('rename', 'svc', 'api')).stdout, '');
    assert.equal(await idOf('api'), svcId);
    assert.equal((await mc('inspect', 'svc')).code, 1);
    assert.equal((await ok('inspect', '-f', '{{.Name}}', 'api')).stdout, '/api\n');
    // The peer resolves the new name through the network's resolver, and no longer the old one.
    await ok('exec', 'peer', 'ping', '-c', '1', '-W', '2', 'api');
    assert.notEqual((await mc('exec', 'peer', 'ping', '-c', '1', '-W', '1', 'svc')).code, 0);
    // And the old name is free again.
    await ok('create', '--name', 'svc', '--network', 'none', 'busybox', 'true');
    await ok('rm', '-f', 'api', 'peer', 'svc');
    await ok('network', 'rm', 'evnet');
  });

  it("top lists the container's processes with ps -ef's columns, and passes ps options through", async () => {
    await ok('run', '-d', '--name', 'sleepers', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 300 & sleep 301');
    const out = await eventually(async () => {
      const r = await ok('top', 'sleepers');
      return /sleep 300/.test(r.stdout) && /sleep 301/.test(r.stdout) ? r.stdout : undefined;
    }, 5_000, 'both sleeps');
    const [header, ...rows] = out.trimEnd().split('\n');
    assert.deepEqual(header?.trim().split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    // busybox sh execs its last command: two sleeps, nothing of the host's.
    assert.equal(rows.length, 2, out);
    const pid = Number((await ok('inspect', '-f', '{{.State.Pid}}', 'sleepers')).stdout.trim());
    assert.ok(rows.some((r) => r.split(/\s+/)[1] === String(pid)), 'host pids, the first process among them');
    const custom = (await ok('top', 'sleepers', '-o', 'pid,comm')).stdout;
    assert.match(custom, /^PID\s+COMMAND\n/);
    assert.equal(custom.trimEnd().split('\n').filter((l) => /\bsleep$/.test(l)).length, 2);
    await ok('stop', '-t', '0', 'sleepers');
    const r = await mc('top', 'sleepers');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^minictr: Container [0-9a-f]{64} is not running\n$/);
    await ok('rm', 'sleepers');
  });

  it('ps --filter: status, name, label, ancestor, publish, exited, AND across keys and OR within one', async () => {
    await ok('run', '-d', '--name', 'f-web', '-l', 'app=shop', '-l', 'tier=front', '-p', '8081:80', 'busybox', 'sleep', '300');
    await ok('run', '-d', '--name', 'f-db', '--label', 'app=shop', '--network', 'none', 'busybox', 'sleep', '300');
    assert.equal((await mc('run', '--name', 'f-job', '--network', 'none', 'busybox', 'sh', '-c', 'exit 3')).code, 3);
    await ok('pause', 'f-db');
    const names = async (...filters: string[]) =>
      (await ok('ps', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f]))).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('label=app=shop'), ['f-db', 'f-web']);
    assert.deepEqual(await names('label=app', 'label=tier=front'), ['f-web']);
    assert.deepEqual(await names('status=paused'), ['f-db']);
    assert.deepEqual(await names('status=exited'), ['f-job']); // a status filter shows stopped ones, as -a
    assert.deepEqual(await names('status=exited', 'status=paused'), ['f-db', 'f-job']);
    assert.deepEqual(await names('name=f-'), ['f-db', 'f-web']);
    assert.deepEqual(await names('publish=80'), ['f-web']);
    assert.deepEqual(await names('publish=80/udp'), []);
    assert.deepEqual(await names('ancestor=busybox', 'label=tier'), ['f-web']);
    assert.deepEqual((await ok('ps', '-a', '-q', '--filter', 'exited=3')).stdout.trim(), (await idOf('f-job')).slice(0, 12));
    assert.equal((await ok('inspect', '-f', '{{json .Config.Labels}}', 'f-web')).stdout, '{"app":"shop","tier":"front"}\n');
    await ok('rm', '-f', 'f-web', 'f-db', 'f-job');
  });
});

// --init (tini as PID 1, as Docker's docker-init) and `cp` in both directions, on running and
// stopped containers, with no way out of the container's root through its symlinks.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, isRoot } from './sandbox.js';

describe('--init and cp', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);
  let work = '';

  before(async () => {
    await box.setup();
    work = await mkdtemp(join(tmpdir(), 'minictr-initcp-'));
  });
  after(async () => {
    await box.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  const ok = async (...args: string[]) => {
    const r = await mc(...args);
    assert.equal(r.code, 0, `minictr ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  it('--init: PID 1 is docker-init (tini, read-only), the command its child; inspect says HostConfig.Init', async () => {
    const r = await ok('run', '--rm', '--init', '--network', 'none', 'busybox', 'sh', '-c',
      'cat /proc/1/comm; cat /proc/$$/status | grep ^PPid; echo x > /sbin/docker-init || echo refused');
    assert.match(r.stdout, /^docker-init\nPPid:\t1\nrefused\n$/);
    await ok('create', '--name', 'withinit', '--init', 'busybox', 'true');
    await ok('create', '--name', 'noinit', 'busybox', 'true');
    assert.equal((await ok('inspect', '-f', '{{json .HostConfig.Init}}', 'withinit')).stdout, 'true\n');
    assert.equal((await ok('inspect', '-f', '{{json .HostConfig.Init}}', 'noinit')).stdout, 'null\n', 'absent, as Docker omits it');
    await ok('rm', 'withinit', 'noinit');
  });

  it('stop: with --init SIGTERM reaches the command at once (143); without, PID 1 ignores it and -t 1 ends in SIGKILL (137)', async () => {
    await ok('run', '-d', '--name', 'term-init', '--init', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 300');
    await ok('run', '-d', '--name', 'term-bare', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 300');
    let t = Date.now();
    await ok('stop', '-t', '5', 'term-init');
    const withInit = Date.now() - t;
    t = Date.now();
    await ok('stop', '-t', '1', 'term-bare');
    const bare = Date.now() - t;
    assert.equal((await ok('inspect', '-f', '{{.State.ExitCode}}', 'term-init')).stdout, '143\n');
    assert.equal((await ok('inspect', '-f', '{{.State.ExitCode}}', 'term-bare')).stdout, '137\n');
    assert.ok(withInit < 2_000, `tini forwarded SIGTERM at once (${withInit} ms)`);
    assert.ok(bare >= 1_000, `the bare container waited out its grace period (${bare} ms)`);
    await ok('rm', 'term-init', 'term-bare');
  });

  it('zombies: an orphan is reaped under --init; under a PID 1 that never waits it stays a zombie', async () => {
    // The orphaned sleep is re-parented to PID 1: here `sleep 30` itself (exec), or tini.
    const script = '(sleep 0.1 &); exec sleep 30';
    await ok('run', '-d', '--name', 'z-init', '--init', '--network', 'none', 'busybox', 'sh', '-c', script);
    await ok('run', '-d', '--name', 'z-bare', '--network', 'none', 'busybox', 'sh', '-c', script);
    await new Promise((r) => setTimeout(r, 800));
    const zombies = async (name: string): Promise<number> =>
      Number((await ok('exec', name, 'sh', '-c', 'ps -o stat | grep -c "^Z" || true')).stdout.trim());
    assert.equal(await zombies('z-init'), 0, 'tini reaped the orphan');
    assert.equal(await zombies('z-bare'), 1, 'without an init the orphan stays a zombie');
    await ok('rm', '-f', 'z-init', 'z-bare');
  });
});

// --restart: the monitor's exit handling restarts per the policy with Docker's back-off; stop
// ends it; `system boot` after a simulated reboot starts what the policies say.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, eventually, isRoot } from './sandbox.js';

interface Inspected {
  RestartCount: number;
  State: { Status: string; Running: boolean; Restarting: boolean; ExitCode: number; Pid: number };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number } };
}

describe('restart policies', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  before(() => box.setup());
  after(() => box.cleanup());
  after(async () => {
    assert.deepEqual(await box.leakedCgroups(), [], 'no cgroup was left with no record');
  });

  const inspect = async (ref: string): Promise<Inspected> => {
    const r = await box.minictr(['inspect', ref]);
    assert.equal(r.code, 0, r.stderr);
    const [first] = JSON.parse(r.stdout) as Inspected[];
    assert.ok(first);
    return first;
  };
  /** Holds for `ms`: the container does not start again (polled, not slept through blind). */
  const staysStopped = async (ref: string, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const s = await inspect(ref);
      assert.equal(s.State.Running, false, `${ref} started again`);
      assert.equal(s.State.Restarting, false, `${ref} is waiting to restart`);
    }
  };

  it('on-failure:2 runs three times, then stays exited with RestartCount 2', async () => {
    const run = await box.minictr(['run', '-d', '--name', 'onfail', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo ran; exit 3']);
    assert.equal(run.code, 0, run.stderr);
    const done = await eventually(async () => {
      const s = await inspect('onfail');
      return s.RestartCount === 2 && s.State.Status === 'exited' ? s : undefined;
    }, 20_000, 'two restarts then exited');
    assert.equal(done.State.ExitCode, 3);
    assert.deepEqual(done.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    await staysStopped('onfail', 1_000);
    const logs = await box.minictr(['logs', 'onfail']);
    assert.equal(logs.stdout, 'ran\nran\nran\n');
    assert.equal((await box.minictr(['rm', 'onfail'])).code, 0);
  });

  it('always keeps coming back until stop, then stays stopped', async () => {
    const run = await box.minictr(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'true']);
    assert.equal(run.code, 0, run.stderr);
    await eventually(async () => (await inspect('always')).RestartCount >= 3, 20_000, 'three restarts');
    const ps = await eventually(async () => {
      const r = await box.minictr(['ps', '-a', '--filter', 'name=always', '--format', '{{.Status}}']);
      return /^Restarting \(0\) /.test(r.stdout) ? r.stdout : undefined;
    }, 20_000, 'ps to show Restarting');
    assert.match(ps, /ago/);
    const stop = await box.minictr(['stop', 'always']);
    assert.equal(stop.code, 0, stop.stderr);
    const count = (await inspect('always')).RestartCount;
    // Longer than the back-off reached so far (100+200+400+800 ms before the fourth restart).
    await staysStopped('always', 3_000);
    assert.equal((await inspect('always')).RestartCount, count);
    assert.equal((await box.minictr(['rm', 'always'])).code, 0);
  });

  it('system boot after a reboot starts always, and leaves a stopped unless-stopped alone', async () => {
    const up = (await box.minictr(['run', '-d', '--name', 'up', '--restart', 'always', 'busybox', 'sleep', '300'])).stdout.trim();
    const held = await box.minictr(['run', '-d', '--name', 'held', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
    assert.equal(held.code, 0, held.stderr);
    assert.equal((await box.minictr(['stop', '-t', '0', 'held'])).code, 0);
    await box.simulateReboot(up);
    await eventually(async () => (await inspect('up')).State.Status === 'exited', 10_000, 'up seen exited');
    const boot = await box.minictr(['system', 'boot']);
    assert.equal(boot.code, 0, boot.stderr);
    assert.equal(boot.stdout.trim(), up);
    const after = await inspect('up');
    assert.equal(after.State.Running, true);
    assert.equal((await inspect('held')).State.Running, false);
    assert.equal((await box.minictr(['rm', '-f', 'up', 'held'])).code, 0);
  });
});

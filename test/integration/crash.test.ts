// kill -9 of minictr at each step of `run`: afterwards `ps -a` shows the container and
// `rm -f` removes every trace (veth, netns, rules, address, processes, records).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { firewallProbe } from './firewall-probe.js';
import { Sandbox, eventually, isRoot, sh, MINICTR_BIN, HOST_IP, type FirewallName } from './sandbox.js';

const STEPS = ['created', 'network-recorded', 'network-step-1', 'network-step-4', 'network-step-6', 'spawned', 'started'];

for (const firewall of ['iptables', 'nftables'] as FirewallName[]) describe(`crash safety: kill -9 of minictr during run (${firewall} firewall)`, { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox({ firewall });
  const fw = firewallProbe(box, firewall);
  let baselineRules = '';
  before(async () => {
    await box.setup();
    // Let the network exist first, so each step below is a container's own step.
    const warm = await box.minictr(['run', '--rm', '-p', '9999:80', 'busybox', 'true']);
    assert.equal(warm.code, 0, warm.stderr);
    baselineRules = await fw.save();
  });
  after(() => box.cleanup());

  // Last, after every test above: no namespace was left that no record leads back to (issue #12).
  after(async () => {
    const leaked = await box.leakedNamespaces();
    for (const ns of leaked) await sh(['ip', 'netns', 'del', ns]);
    assert.deepEqual(leaked, [], `network namespaces left with no record: ${leaked.join(' ')}`);
    assert.deepEqual(await box.leakedCgroups(), [], 'no cgroup was left with no record');
  });

  for (const step of STEPS) {
    it(`killed at "${step}": ps -a shows it, rm -f leaves nothing`, async () => {
      const marker = join(box.root, `paused-at-${step}`);
      const child = spawn('nsenter', [`--net=/run/netns/${box.hostNs}`, '--', process.execPath, '--', MINICTR_BIN, '--root', box.root,
        'run', '-d', '--name', `crash-${step}`, '-p', '7070:80', 'busybox', 'httpd', '-f', '-p', '80'], {
        stdio: 'ignore', env: { ...process.env, MINICTR_PAUSE_AT: step },
      });
      let exited = false;
      child.once('exit', () => { exited = true; });
      await eventually(async () => exited || (await access(marker).then(() => true, () => false)), 20_000, `step ${step}`);
      if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
      await eventually(async () => exited, 5_000, 'minictr to die');

      const ps = await box.minictr(['ps', '-a', '--format', '{{.Names}}']);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, new RegExp(`crash-${step}`));
      const id = (await box.minictr(['inspect', '-f', '{{.Id}}', `crash-${step}`])).stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      const pid = Number((await box.host(['cat', join(box.root, 'containers', id, 'pid')])).stdout.trim() || 0);
      const rm = await box.minictr(['rm', '-f', `crash-${step}`]);
      if (pid > 0) {
        await eventually(async () => !(await access(`/proc/${pid}`).then(() => true, () => false)), 5_000, `container process ${pid} to be gone`);
      }
      assert.equal(rm.code, 0, rm.stderr);

      assert.equal((await box.minictr(['ps', '-aq'])).stdout, '');
      const links = (await box.host(['ip', '-o', 'link'])).stdout;
      assert.doesNotMatch(links, /veth/);
      assert.equal(await fw.save(), baselineRules);
      const netns = await readdir('/run/netns');
      assert.ok(!netns.includes(`minictr-${id.slice(0, 12)}`), 'its network namespace is gone');
      assert.deepEqual(await readdir(join(box.root, 'containers')), []);
    });
  }

  it('a container whose process is killed from outside is seen as exited and cleaned up', async () => {
    const id = (await box.minictr(['run', '-d', '-p', '7071:80', 'busybox', 'sleep', '300'])).stdout.trim();
    const pid = Number((await box.minictr(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    await eventually(async () => (await box.minictr(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim() === 'exited', 10_000, 'exited');
    await eventually(async () => !(await box.host(['ip', '-o', 'link'])).stdout.includes('veth'), 10_000, 'veth removed by the monitor');
    assert.equal((await box.minictr(['rm', id])).code, 0);
  });

  it('the bridge deleted by hand: network reload re-creates it and plugs the running container back in', async () => {
    const id = (await box.minictr(['run', '-d', '--name', 'nobridge', '-p', '7072:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'])).stdout.trim();
    const get = () => box.wan(['timeout', '3', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:7072/hostname`]);
    await eventually(async () => (await get()).code === 0, 10_000, 'the published port to answer');
    assert.equal((await box.host(['ip', 'link', 'del', 'minictr0'])).code, 0);
    assert.notEqual((await get()).code, 0, 'without its bridge the container is cut off');
    assert.match((await box.minictr(['ps'])).stderr, /bridge minictr0 of network bridge is gone.*network reload/, 'ps notices and says how to repair');
    const reload = await box.minictr(['network', 'reload']);
    assert.equal(reload.code, 0, reload.stderr);
    const answer = await eventually(async () => { const r = await get(); return r.code === 0 ? r.stdout : undefined; }, 10_000, 'the port to answer again');
    assert.equal(answer.trim(), id.slice(0, 12));
    assert.equal((await box.minictr(['rm', '-f', 'nobridge'])).code, 0);
  });

  it('the monitor killed: the container runs on; its exit is recorded and cleaned up by the next command', async () => {
    const id = (await box.minictr(['run', '-d', '-p', '7073:80', 'busybox', 'sleep', '300'])).stdout.trim();
    const rec = JSON.parse((await box.host(['cat', join(box.root, 'containers', id, 'config.json')])).stdout) as { state: { pid: number; monitorPid: number } };
    process.kill(rec.state.monitorPid, 'SIGKILL');
    assert.equal((await box.minictr(['inspect', '-f', '{{.State.Running}}', id])).stdout.trim(), 'true');
    process.kill(rec.state.pid, 'SIGKILL');
    await eventually(async () => (await box.minictr(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim() === 'exited', 10_000, 'exited');
    assert.doesNotMatch((await box.host(['ip', '-o', 'link'])).stdout, /veth/, 'its veth is gone');
    assert.doesNotMatch(await fw.save(), fw.hostPort(7073), 'its rules are gone');
    assert.equal((await box.minictr(['rm', id])).code, 0);
  });

  it('a reboot (no processes, no netns, state on disk) shows exited containers that start again', async () => {
    const id = (await box.minictr(['run', '-d', '--name', 'reboot', 'busybox', 'sleep', '300'])).stdout.trim();
    // Simulate the reboot: every process and kernel object gone, the files kept.
    await box.simulateReboot(id);
    await eventually(async () => (await box.minictr(['ps', '-a'])).stdout.includes('Exited'), 10_000, 'exited in ps');
    assert.equal((await box.minictr(['start', 'reboot'])).code, 0);
    assert.equal((await box.minictr(['inspect', '-f', '{{.State.Running}}', 'reboot'])).stdout.trim(), 'true');
    assert.equal((await box.minictr(['rm', '-f', 'reboot'])).code, 0);
  });
});

// The container state machine, created → running → exited → removed, and the crashes between
// the steps, without root: a Store over a temp dir, a RecordingRunner (no host command runs), and
// the states written the way the monitor and the container's init (or a crash) leave them.
// `start` is not called (it spawns the real monitor under unshare); a `sleep` stands in for the
// container's process and another for its monitor.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { MinictrError } from '../../../src/base/errors.js';
import { startTimeOf } from '../../../src/base/proc.js';
import { NULL_TIME } from '../../../src/base/records.js';
import { netnsName } from '../../../src/network/names.js';
import { finalizeExit, find, kill, list, refresh, remove } from '../../../src/runtime/lifecycle.js';
import { commandLines, killPid, running, saved, world, writeExit, type World } from '../fakes/containers.js';
import { RecordingRunner, type Effect } from '../fakes/recording-runner.js';

// ---- what the runner saw ----

/**
 * The teardown of one attachment, as effects: one iptables-restore deleting the container's
 * rules (by its comment), the conntrack flush of its UDP host port, the namespace deleted,
 * and a wait for the kernel to remove the host veth. Rules and links go side by side, so the
 * order between the two halves is not asserted.
 */
function assertTornDown(effects: readonly Effect[], id: string, times = 1): void {
  const short = id.slice(0, 12);
  const restores = effects.filter(
    (e): e is Extract<Effect, { kind: 'command' }> => e.kind === 'command' && e.argv.join(' ') === 'iptables-restore -w --noflush',
  );
  assert.equal(restores.length, times, `iptables-restore runs: ${restores.length}`);
  for (const r of restores) {
    const lines = (r.input ?? '').split('\n').filter((l) => l.startsWith('-'));
    assert.ok(lines.length > 0, 'the restore deletes no rule');
    for (const line of lines) {
      assert.match(line, /^-D /, `not a delete: ${line}`);
      assert.ok(line.includes(`--comment "minictr:${short}"`), `a rule not of this container: ${line}`);
    }
    assert.ok(lines.some((l) => l.includes('--dport 5005') && l.includes('DNAT --to-destination 172.18.0.2:5000')), 'no DNAT delete for 5005');
  }
  const commands = commandLines(effects);
  assert.equal(commands.filter((c) => c === `ip netns del minictr-${short}`).length, times, commands.join('\n'));
  assert.equal(commands.filter((c) => c === 'conntrack -D -p udp --dport 8080').length, times, commands.join('\n'));
  const waits = effects.filter((e) => e.kind === 'wait-gone');
  assert.deepEqual(
    waits.map((e) => (e.kind === 'wait-gone' ? e.path : '')),
    Array.from({ length: times }, () => `/proc/sys/net/ipv4/conf/veth${id.slice(0, 7)}`),
  );
  // Nothing else: no link deleted by hand (the veth went with the namespace), no other rule touched.
  assert.equal(effects.length, 4 * times, `unexpected effects:\n${effects.map((e) => JSON.stringify(e)).join('\n')}`);
}

async function assertGone(w: World, id: string): Promise<void> {
  assert.equal(await w.store.loadContainer(id), undefined, 'the record is still there');
  assert.equal(existsSync(w.store.paths.container(id)), false, 'the container directory is still there');
}

// ---- the states ----

describe('container state machine: created → running → exited → removed', () => {
  it('a created container is listed as created, and rm removes its record and directory without touching the host', async (t) => {
    const w = await world(t);
    const none = await saved(w, 'quiet', { networkMode: 'none' });
    const bridged = await saved(w, 'not-yet-wired');

    assert.deepEqual(await list(w.ctx, false), [], 'ps without -a shows a created container');
    const all = await list(w.ctx, true);
    assert.deepEqual(all.map((r) => [r.name, r.state.status]).sort(), [['not-yet-wired', 'created'], ['quiet', 'created']]);
    assert.equal((await find(w.ctx, 'quiet')).id, none.id);
    assert.equal((await find(w.ctx, none.id.slice(0, 12))).state.status, 'created');

    const removed = await remove(w.ctx, 'quiet', { force: false });
    assert.deepEqual(removed.warnings, []);
    await assertGone(w, none.id);
    // Bridge mode but never started: no attachment recorded, so nothing to tear down either.
    assert.deepEqual((await remove(w.ctx, bridged.id, { force: false })).warnings, []);
    await assertGone(w, bridged.id);
    assert.deepEqual(w.runner.effects, []);
    await assert.rejects(find(w.ctx, 'quiet'), { code: 'E_NO_SUCH_CONTAINER', exitCode: 1 });
  });

  it('a running container whose process lives stays running, and looking at it runs nothing', async (t) => {
    const w = await world(t);
    const { record } = await running(w, 'web', { monitor: 'alive' });

    assert.deepEqual(await refresh(w.ctx, record), record);
    const shown = await list(w.ctx, false);
    assert.deepEqual(shown.map((r) => [r.name, r.state.status]), [['web', 'running']]);
    assert.equal((await find(w.ctx, 'web')).state.status, 'running');
    assert.deepEqual(await w.store.loadContainer(record.id), record, 'the record changed on a look');
    assert.deepEqual(w.runner.effects, []);
  });

  it('the process ends: shown as exited once its status is written, then the exit is recorded and the network torn down', async (t) => {
    const w = await world(t);
    const { record, pid, monitorPid } = await running(w, 'web', { monitor: 'alive' });

    await killPid(pid);
    // The monitor lives and has not written the status yet: no exit code is guessed (wait would return it).
    assert.equal((await refresh(w.ctx, record)).state.status, 'running');
    // Written: shown as exited with that code, and a look tears nothing down (the monitor will).
    await writeExit(w, record.id, '42\n');
    const meanwhile = await refresh(w.ctx, record);
    assert.equal(meanwhile.state.status, 'exited');
    assert.equal(meanwhile.state.exitCode, 42);
    assert.equal((await w.store.loadContainer(record.id))?.state.status, 'running', 'a look finalized what the monitor will');
    assert.deepEqual(w.runner.effects, []);

    // The monitor finalizes, as it does when the process ends.
    const final = await finalizeExit(w.ctx, record.id);
    assert.ok(final);
    assert.deepEqual(final.warnings, []);
    assert.equal(final.record.state.status, 'exited');
    assert.equal(final.record.state.exitCode, 42);
    assert.equal(final.record.state.pid, 0);
    assert.notEqual(final.record.state.finishedAt, NULL_TIME);
    assert.equal(final.record.network, undefined, 'the attachment is still in the record');
    assertTornDown(w.runner.effects, record.id);

    const stored = await w.store.loadContainer(record.id);
    assert.equal(stored?.state.status, 'exited');
    assert.equal(stored?.state.exitCode, 42);
    assert.equal(stored?.network, undefined);
    await killPid(monitorPid);

    assert.deepEqual(await list(w.ctx, false), []);
    assert.deepEqual((await list(w.ctx, true)).map((r) => [r.name, r.state.status, r.state.exitCode]), [['web', 'exited', 42]]);
    assert.equal(w.runner.effects.length, 4, 'a look at an exited container ran something');
  });

  it('an exited container is removed with its directory, and its network is not torn down a second time', async (t) => {
    const w = await world(t);
    const { record, pid } = await running(w, 'web', { monitor: 'dead' });
    await writeExit(w, record.id, '0\n');
    await killPid(pid);
    assert.equal((await find(w.ctx, 'web')).state.status, 'exited');
    assertTornDown(w.runner.effects, record.id);

    const removed = await remove(w.ctx, 'web', { force: false });
    assert.deepEqual(removed.warnings, []);
    assert.equal(removed.record.state.exitCode, 0);
    await assertGone(w, record.id);
    assertTornDown(w.runner.effects, record.id, 1);
  });

  it('kill -s KILL of a running container records 137 and tears its network down', async (t) => {
    const w = await world(t);
    const { record, pid } = await running(w, 'web', { monitor: 'dead' });

    const killed = await kill(w.ctx, 'web', 'SIGKILL');
    assert.equal(startTimeOf(pid), 0, 'the process still runs');
    assert.ok(existsSync(w.store.paths.containerKillMark(record.id)), 'no kill mark written');
    assert.equal(killed.record.state.status, 'exited');
    assert.equal(killed.record.state.exitCode, 137);
    assertTornDown(w.runner.effects, record.id);
    await assert.rejects(kill(w.ctx, 'web', 'SIGKILL'), (err: unknown) => {
      assert.ok(err instanceof MinictrError);
      assert.equal(err.code, 'E_NOT_RUNNING');
      assert.match(err.message, /is not running/);
      return true;
    });
  });
});

// ---- the crashes between the steps ----

describe('container state machine: crashes between the steps', () => {
  it('a running container whose process and monitor both died without an exit status is finalized as 137 and torn down', async (t) => {
    const w = await world(t);
    const { record, pid } = await running(w, 'web', { monitor: 'dead' });
    await killPid(pid);

    const seen = await refresh(w.ctx, record);
    assert.equal(seen.state.status, 'exited');
    assert.equal(seen.state.exitCode, 137);
    assert.equal(seen.network, undefined);
    const stored = await w.store.loadContainer(record.id);
    assert.equal(stored?.state.status, 'exited');
    assert.equal(stored?.state.exitCode, 137);
    assert.notEqual(stored?.state.finishedAt, NULL_TIME);
    assert.equal(stored?.network, undefined);
    assertTornDown(w.runner.effects, record.id);
  });

  it('a recorded pid now used by another process (a reboot, pid reuse) counts as exited', async (t) => {
    const w = await world(t);
    const { record, pid } = await running(w, 'web', { monitor: 'dead' });
    const reused = { ...record, state: { ...record.state, pidStartTime: record.state.pidStartTime + 1 } };
    await w.store.saveContainer(reused);

    const seen = await refresh(w.ctx, reused);
    assert.equal(seen.state.status, 'exited');
    assert.equal(seen.state.exitCode, 137);
    assert.ok(startTimeOf(pid) > 0, 'the other process was killed');
    assertTornDown(w.runner.effects, record.id);
  });

  it('a --rm container whose process died is removed entirely by the next ps, and torn down once', async (t) => {
    const w = await world(t);
    const keep = await saved(w, 'bystander', { networkMode: 'none' });
    const { record, pid } = await running(w, 'temp', { monitor: 'dead', autoRemove: true });
    await writeExit(w, record.id, '0\n');
    await killPid(pid);

    const all = await list(w.ctx, true);
    assert.deepEqual(all.map((r) => r.name), ['bystander'], 'ps -a still shows the --rm container');
    await assertGone(w, record.id);
    assertTornDown(w.runner.effects, record.id);

    // Later looks and a late finalize (the monitor's) find nothing to do.
    assert.deepEqual((await list(w.ctx, true)).map((r) => r.id), [keep.id]);
    assert.equal(await finalizeExit(w.ctx, record.id), undefined);
    assertTornDown(w.runner.effects, record.id, 1);
  });

  it('a created container left with an attachment (a start that crashed) is torn down from its record by rm', async (t) => {
    const w = await world(t);
    const record = await saved(w, 'half-started', { attached: true });

    const removed = await remove(w.ctx, 'half-started', { force: false });
    assert.deepEqual(removed.warnings, []);
    await assertGone(w, record.id);
    assertTornDown(w.runner.effects, record.id);
  });

  it('a container SIGKILLed by minictr (kill mark, unshare says 1) exits 137; without the mark, 1 stays 1', async (t) => {
    const w = await world(t);
    const marked = await running(w, 'killed', { monitor: 'dead' });
    await writeFile(w.store.paths.containerKillMark(marked.record.id), '9\n');
    await writeExit(w, marked.record.id, '1\n');
    await killPid(marked.pid);
    const plain = await running(w, 'failed', { monitor: 'dead' });
    await writeExit(w, plain.record.id, '1\n');
    await killPid(plain.pid);

    assert.equal((await finalizeExit(w.ctx, marked.record.id))?.record.state.exitCode, 137);
    assert.equal((await finalizeExit(w.ctx, plain.record.id))?.record.state.exitCode, 1);
  });

  it('finalizing an exit twice changes nothing the second time and tears down nothing more', async (t) => {
    const w = await world(t);
    const { record, pid } = await running(w, 'web', { monitor: 'dead' });
    await writeExit(w, record.id, '3\n');
    await killPid(pid);

    const first = await finalizeExit(w.ctx, record.id);
    assert.equal(first?.record.state.exitCode, 3);
    const afterFirst = await w.store.loadContainer(record.id);
    const effects = w.runner.effects.length;
    // A different status written late (a second monitor, a stale file) must not rewrite history.
    await writeExit(w, record.id, '5\n');
    const second = await finalizeExit(w.ctx, record.id);
    assert.deepEqual(second, { record: afterFirst, warnings: [] });
    assert.deepEqual(await w.store.loadContainer(record.id), afterFirst);
    assert.equal(w.runner.effects.length, effects);
    assertTornDown(w.runner.effects, record.id);
  });

  it('rm of a running container without -f fails with a clear message and exit code 1, and changes nothing', async (t) => {
    const w = await world(t);
    const { record, pid } = await running(w, 'web', { monitor: 'alive' });

    await assert.rejects(remove(w.ctx, 'web', { force: false }), (err: unknown) => {
      assert.ok(err instanceof MinictrError);
      assert.equal(err.code, 'E_RUNNING');
      assert.equal(err.exitCode, 1);
      assert.equal(err.message, 'cannot remove container "web": container is running; stop it first or use rm -f');
      return true;
    });
    assert.deepEqual(await w.store.loadContainer(record.id), record);
    assert.ok(existsSync(w.store.paths.containerRootfs(record.id).merged));
    assert.ok(startTimeOf(pid) > 0, 'the process was killed');
    assert.deepEqual(w.runner.effects, []);
  });

  it('rm -f of a running container whose rules cannot be deleted warns that they are left, naming the container and "minictr system prune"', async (t) => {
    const runner = new RecordingRunner()
      .answer((argv) => argv[0] === 'iptables-restore', { exitCode: 1, stderr: 'iptables-restore: line 3 failed\n' })
      .answer((argv) => argv[0] === 'iptables' && argv.includes('-D'), { exitCode: 4, stderr: 'iptables: Permission denied (you must be root).\n' });
    const w = await world(t, runner);
    const { record, pid } = await running(w, 'web', { monitor: 'dead' });

    const removed = await remove(w.ctx, 'web', { force: true });
    assert.equal(startTimeOf(pid), 0, 'rm -f left the process running');
    await assertGone(w, record.id);
    assert.equal(removed.warnings.length, 1, removed.warnings.join('\n'));
    const [warning] = removed.warnings;
    assert.match(warning ?? '', /^container web: could not remove the firewall rules of 172\.18\.0\.2: iptables -w -t \S+ -D .*failed \(exit 4\): iptables: Permission denied/);
    assert.match(warning ?? '', /it is left on the host: "minictr system prune" removes it$/);
    // The links were removed all the same, once.
    const commands = commandLines(runner.effects);
    assert.equal(commands.filter((c) => c === `ip netns del ${netnsName(record.id)}`).length, 1);
  });

  it('rm -f of a container whose rules were already deleted by hand warns that each "was already gone" and points to "minictr network reload"', async (t) => {
    const runner = new RecordingRunner()
      .answer((argv) => argv[0] === 'iptables-restore', { exitCode: 1, stderr: 'iptables-restore: line 3 failed\n' })
      .answer((argv) => argv[0] === 'iptables' && argv.includes('-D'), {
        exitCode: 1,
        stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).\n',
      });
    const w = await world(t, runner);
    // An exited record still holding its attachment: a finalize that crashed before detaching.
    const record = await saved(w, 'web', { status: 'exited', attached: true });

    const removed = await remove(w.ctx, record.id, { force: true });
    await assertGone(w, record.id);
    const deletes = commandLines(runner.effects).filter((c) => c.startsWith('iptables -w -t ') && c.includes(' -D '));
    assert.ok(deletes.length > 1, 'the rules were not deleted one by one');
    assert.equal(removed.warnings.length, deletes.length, removed.warnings.join('\n'));
    for (const warning of removed.warnings) {
      assert.match(warning, /^container web: the firewall rule "-t (filter|nat|raw) .*" was already gone \(deleted by hand, or a firewall reload\)/);
      assert.match(warning, /"minictr network reload" puts back what other containers lost$/);
    }
    assert.ok(removed.warnings.some((w) => w.includes('--dport 5005') && w.includes('DNAT --to-destination 172.18.0.2:5000')));
  });
});

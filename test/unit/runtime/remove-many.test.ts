// `rm a b c` in one pass (removeMany): every container's rules in one restore per table and
// every namespace in one batch, the fallbacks when a shared op fails, and each argument's
// outcome its own (running without -f, unknown, named twice, -v). No root: see fakes/containers.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { MinictrError } from '../../../src/base/errors.js';
import { startTimeOf } from '../../../src/base/proc.js';
import type { MountPoint } from '../../../src/base/records.js';
import { removeMany } from '../../../src/runtime/remove-many.js';
import { createVolume, listVolumes } from '../../../src/runtime/volumes.js';
import { commandLines, running, saved, world, type World } from '../fakes/containers.js';
import { RecordingRunner, type Effect } from '../fakes/recording-runner.js';

type CommandEffect = Extract<Effect, { kind: 'command' }>;

function restores(effects: readonly Effect[]): CommandEffect[] {
  return effects.filter((e): e is CommandEffect => e.kind === 'command' && e.argv.join(' ') === 'iptables-restore -w --noflush');
}

/** The tables of a restore's input, and the 12-hex owners of its -D lines. */
function readRestore(input = ''): { tables: string[]; owners: Set<string> } {
  const lines = input.split('\n');
  const owners = lines.flatMap((l) => {
    const m = /^-D .*--comment "minictr:([0-9a-f]{12})"/.exec(l);
    return m?.[1] ? [m[1]] : [];
  });
  return { tables: lines.filter((l) => l.startsWith('*')).map((l) => l.slice(1)), owners: new Set(owners) };
}

async function assertGone(w: World, id: string): Promise<void> {
  assert.equal(await w.store.loadContainer(id), undefined, 'the record is still there');
  assert.equal(existsSync(w.store.paths.container(id)), false, 'the container directory is still there');
}

describe('removeMany: many containers in one pass', () => {
  it('tears three attached containers down with one restore per table and one namespace batch', async (t) => {
    const w = await world(t);
    const a = await running(w, 'a', { monitor: 'dead', ip: '172.18.0.2' });
    const b = await running(w, 'b', { monitor: 'dead', ip: '172.18.0.3' });
    // An exited one still holding its attachment (a finalize that crashed before detaching).
    const c = await saved(w, 'c', { status: 'exited', attached: true, ip: '172.18.0.4' });
    const ids = [a.record.id, b.record.id, c.id];

    const { removed, failed } = await removeMany(w.ctx, ['a', 'b', c.id.slice(0, 12)], { force: true });
    assert.deepEqual(failed, []);
    assert.deepEqual(removed.map((r) => [r.ref, r.record.name, r.warnings]), [['a', 'a', []], ['b', 'b', []], [c.id.slice(0, 12), 'c', []]]);
    assert.equal(removed[0]?.record.state.status, 'exited');
    assert.equal(removed[0]?.record.state.exitCode, 137, 'a SIGKILLed container exits 137');
    assert.equal(removed[0]?.record.network, undefined);
    assert.equal(startTimeOf(a.pid), 0, 'rm -f left a running');
    assert.equal(startTimeOf(b.pid), 0, 'rm -f left b running');
    for (const id of ids) await assertGone(w, id);

    // One restore per table, each deleting the rules of all three.
    const done = restores(w.runner.effects).map((r) => readRestore(r.input));
    assert.deepEqual(done.map((r) => r.tables), [['nat'], ['filter'], ['raw']]);
    for (const r of done) assert.deepEqual([...r.owners].sort(), ids.map((id) => id.slice(0, 12)).sort());
    // One batch deleting the three namespaces, then a wait for each veth; no namespace deleted alone.
    const commands = commandLines(w.runner.effects);
    const batches = w.runner.effects.filter((e): e is CommandEffect => e.kind === 'command' && e.argv.join(' ') === 'ip -force -batch -');
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0]?.input?.trim().split('\n').sort(), ids.map((id) => `netns del minictr-${id.slice(0, 12)}`).sort());
    assert.equal(commands.filter((l) => l.startsWith('ip netns del')).length, 0, commands.join('\n'));
    assert.equal(w.runner.effects.filter((e) => e.kind === 'wait-gone').length, 3);
    assert.equal(commands.filter((l) => l === 'conntrack -D -p udp --dport 8080').length, 3);
    assert.equal(w.runner.effects.length, 3 + 1 + 3 + 3, `unexpected effects:\n${w.runner.effects.map((e) => JSON.stringify(e)).join('\n')}`);
  });

  it('when a combined restore fails, each container deletes its own share: all removed, only the one whose rule was gone warned about', async (t) => {
    const runner = new RecordingRunner();
    const w = await world(t, runner);
    const a = await running(w, 'a', { monitor: 'dead', ip: '172.18.0.2' });
    const b = await saved(w, 'b', { status: 'exited', attached: true, ip: '172.18.0.3' });
    const a12 = a.record.id.slice(0, 12);
    const b12 = b.id.slice(0, 12);
    // a's DNAT rule for 5005 was deleted by hand: any nat delete naming it fails, its restore whole.
    const aNat = (input = ''): boolean => input.startsWith('*nat') && input.includes(`minictr:${a12}`);
    runner
      .answer((argv, input) => argv[0] === 'iptables-restore' && aNat(input), { exitCode: 1, stderr: 'iptables-restore: line 2 failed\n' })
      .answer((argv) => argv[0] === 'iptables' && argv.includes('5005') && argv.includes('DNAT') && argv.includes(`minictr:${a12}`), {
        exitCode: 1,
        stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).\n',
      });

    const { removed, failed } = await removeMany(w.ctx, ['a', 'b'], { force: true });
    assert.deepEqual(failed, []);
    await assertGone(w, a.record.id);
    await assertGone(w, b.id);
    const [ra, rb] = removed;
    assert.deepEqual(rb?.warnings, [], 'b is warned about a rule of a');
    assert.equal(ra?.warnings.length, 1, ra?.warnings.join('\n'));
    assert.match(ra?.warnings[0] ?? '', /^container a: the firewall rule "-t nat -A MINICTR .*DNAT --to-destination 172\.18\.0\.2:5000" was already gone/);
    // The nat share of each container, a's rule by rule; filter and raw in one restore each.
    const done = restores(runner.effects).map((r) => readRestore(r.input));
    assert.deepEqual(done.map((r) => [r.tables.join(), [...r.owners].sort().join()]), [
      ['nat', [a12, b12].sort().join()],
      ['nat', a12],
      ['nat', b12],
      ['filter', [a12, b12].sort().join()],
      ['raw', [a12, b12].sort().join()],
    ]);
    const singles = commandLines(runner.effects).filter((l) => l.startsWith('iptables -w -t nat -D'));
    assert.ok(singles.length > 1 && singles.every((l) => l.includes(`minictr:${a12}`)), singles.join('\n'));
  });

  it('a namespace already gone makes the batch fail: each is then deleted alone, tolerantly', async (t) => {
    const runner = new RecordingRunner().answer((argv) => argv.join(' ') === 'ip -force -batch -', { exitCode: 1, stderr: 'Command failed -:1\n' });
    const w = await world(t, runner);
    const a = await saved(w, 'a', { status: 'exited', attached: true, ip: '172.18.0.2' });
    const b = await saved(w, 'b', { status: 'exited', attached: true, ip: '172.18.0.3' });

    const { removed } = await removeMany(w.ctx, ['a', 'b'], { force: false });
    assert.deepEqual(removed.map((r) => r.warnings), [[], []]);
    const commands = commandLines(runner.effects);
    for (const r of [a, b]) assert.equal(commands.filter((l) => l === `ip netns del minictr-${r.id.slice(0, 12)}`).length, 1, commands.join('\n'));
  });

  it('a running container without -f fails alone, with the message and exit code of rm; the others are removed', async (t) => {
    const w = await world(t);
    const up = await running(w, 'web', { monitor: 'alive' });
    const down = await saved(w, 'old', { status: 'exited', attached: true, ip: '172.18.0.3' });

    const { removed, failed } = await removeMany(w.ctx, ['web', 'old'], { force: false });
    assert.deepEqual(removed.map((r) => r.ref), ['old']);
    assert.equal(failed.length, 1);
    const error = failed[0]?.error;
    assert.ok(error instanceof MinictrError);
    assert.equal(failed[0]?.ref, 'web');
    assert.equal(error.code, 'E_RUNNING');
    assert.equal(error.exitCode, 1);
    assert.equal(error.message, 'cannot remove container "web": container is running; stop it first or use rm -f');
    assert.deepEqual(await w.store.loadContainer(up.record.id), up.record, 'the running one changed');
    assert.ok(startTimeOf(up.pid) > 0, 'the running one was killed');
    await assertGone(w, down.id);
    // Only the removed one's rules were touched.
    for (const r of restores(w.runner.effects)) assert.deepEqual([...readRestore(r.input).owners], [down.id.slice(0, 12)]);
  });

  it('unknown names fail each on its own, and a container named twice is removed once', async (t) => {
    const w = await world(t);
    const one = await saved(w, 'one', { networkMode: 'none' });

    const { removed, failed } = await removeMany(w.ctx, ['nope', 'one', 'one'], { force: true });
    assert.deepEqual(removed.map((r) => r.ref), ['one']);
    assert.deepEqual(failed.map((f) => [f.ref, f.error.code, f.error.message]), [
      ['nope', 'E_NO_SUCH_CONTAINER', 'no such container: nope'],
      ['one', 'E_NO_SUCH_CONTAINER', 'no such container: one'],
    ]);
    await assertGone(w, one.id);
    assert.deepEqual(w.runner.effects, [], 'a container without a network touched the host');
    assert.deepEqual(await removeMany(w.ctx, [], { force: true }), { removed: [], failed: [] });
  });

  it('-v removes the anonymous volumes of every container removed, and only theirs', async (t) => {
    const w = await world(t);
    const mount = (name: string): MountPoint => ({
      type: 'volume', name, source: w.store.paths.volumeData(name), destination: '/data', readOnly: false, propagation: '', options: '', anonymous: true,
    });
    const [v1, v2, kept] = await Promise.all([1, 2, 3].map(() => createVolume(w.ctx, undefined, {}, true)));
    const a = await saved(w, 'a', { networkMode: 'none' });
    const b = await saved(w, 'b', { networkMode: 'none' });
    await w.store.saveContainer({ ...a, mounts: [mount(v1?.name ?? '')] });
    await w.store.saveContainer({ ...b, mounts: [mount(v2?.name ?? '')] });

    const { removed } = await removeMany(w.ctx, ['a', 'b'], { force: false, volumes: true });
    assert.equal(removed.length, 2);
    assert.deepEqual((await listVolumes(w.ctx)).map((v) => v.name), [kept?.name]);
  });
});

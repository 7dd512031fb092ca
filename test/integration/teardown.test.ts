// What teardown could not do is said, and what no record leads back to is pruned: a rule
// deleted by hand is named in a warning at rm; `system prune` removes namespaces and rules of
// containers no record holds (a crash's leftovers, a hand-run --dry-run script's).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rmdir, utimes } from 'node:fs/promises';
import { Sandbox, cgroupFile, cgroupV1, isRoot, sh } from './sandbox.js';

describe('teardown warnings and leftovers', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);
  const save = async () => (await box.host(['iptables-save'])).stdout;
  /** Namespaces this file makes by hand, removed at the end whatever happened. */
  const handMade: string[] = [];

  before(() => box.setup());
  after(async () => {
    for (const ns of handMade) await sh(['ip', 'netns', 'del', ns]);
    await box.cleanup();
  });

  it('rm of a container whose rule was deleted by hand warns, names the rule and network reload, and exits 0', async () => {
    const run = await mc('run', '-d', '-p', '8082:80', 'busybox', 'sleep', '300');
    assert.equal(run.code, 0, run.stderr);
    const id12 = run.stdout.trim().slice(0, 12);
    const dnat = (await save()).split('\n').find((l) => l.includes(`minictr:${id12}`) && l.includes('DNAT'));
    assert.ok(dnat, 'the container has a DNAT rule');
    const removed = await box.host(['iptables-restore', '-w', '--noflush'], { input: `*nat\n${dnat.replace(/^-A /, '-D ')}\nCOMMIT\n` });
    assert.equal(removed.code, 0, removed.stderr);

    const rm = await mc('rm', '-f', id12);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout.trim(), id12);
    assert.match(rm.stderr, /^minictr: warning: container \S+: the firewall rule "-t nat -A MINICTR .*--dport 8082 .*DNAT.*" was already gone .*"minictr network reload"/m);
    assert.doesNotMatch(await save(), new RegExp(`minictr:${id12}`), 'every other rule of it is gone');
  });

  it('system prune removes namespaces and rules of containers no record holds, and nothing else', async () => {
    const keep = await mc('run', '-d', '--name', 'keeper', 'busybox', 'sleep', '300');
    assert.equal(keep.code, 0, keep.stderr);
    const kept = keep.stdout.trim().slice(0, 12);
    // A hand-run dry-run script's container: namespace, veth into the bridge, a rule; no record.
    const orphan = randomBytes(6).toString('hex');
    const bare = randomBytes(6).toString('hex');
    handMade.push(`minictr-${orphan}`, `minictr-${bare}`);
    for (const step of [
      ['ip', 'netns', 'add', `minictr-${orphan}`],
      ['ip', 'link', 'add', `veth${orphan.slice(0, 7)}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `minictr-${orphan}`],
      ['ip', 'link', 'set', `veth${orphan.slice(0, 7)}`, 'master', 'minictr0'],
      ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-s', '172.18.9.9/32', '-m', 'comment', '--comment', `minictr:${orphan}`, '-j', 'MASQUERADE'],
      // What a crash left (issue #12's leak): a namespace with only lo inside.
      ['ip', 'netns', 'add', `minictr-${bare}`],
    ]) {
      const r = await box.host(step);
      assert.equal(r.code, 0, `${step.join(' ')}: ${r.stderr}`);
    }

    const prune = await mc('system', 'prune', '-f');
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, new RegExp(`Deleted network namespaces no record held:\\n(minictr-${orphan}\\nminictr-${bare}|minictr-${bare}\\nminictr-${orphan})\\n`));
    assert.match(prune.stdout, /Deleted 1 firewall rule\(s\) of containers no record held/);
    const left = await readdir('/run/netns');
    assert.ok(!left.includes(`minictr-${orphan}`) && !left.includes(`minictr-${bare}`), 'both leftover namespaces are gone');
    assert.ok(left.includes(`minictr-${kept}`), 'the running container keeps its namespace');
    const rules = await save();
    assert.doesNotMatch(rules, new RegExp(`minictr:${orphan}`), 'the leftover rule is gone');
    assert.match(rules, new RegExp(`minictr:${kept}`), 'the running container keeps its rules');
    assert.equal((await box.host(['ip', 'link', 'show', `veth${orphan.slice(0, 7)}`])).code, 1, 'the leftover veth is gone');
    assert.equal((await mc('rm', '-f', 'keeper')).code, 0);
  });

  it('system prune removes container cgroups no record holds, once they have stood a minute, and nothing else', async () => {
    const v1 = await cgroupV1();
    const controllers = v1 ? ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'blkio', 'devices'] : [''];
    const keep = await mc('run', '-d', '--name', 'cg-keeper', 'busybox', 'sleep', '300');
    assert.equal(keep.code, 0, keep.stderr);
    const kept = keep.stdout.trim();
    // What a crash leaves: a cgroup with no record. One made a minute ago, one just now.
    const [old, young] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const dirs = (id: string) => controllers.map((c) => cgroupFile(v1, id, c, '').replace(/\/$/, ''));
    for (const id of [old, young]) for (const dir of dirs(id)) await mkdir(dir, { recursive: true });
    const minuteAgo = new Date(Date.now() - 120_000);
    for (const dir of dirs(old)) await utimes(dir, minuteAgo, minuteAgo);
    try {
      const prune = await mc('system', 'prune', '-f');
      assert.equal(prune.code, 0, prune.stderr);
      assert.match(prune.stdout, new RegExp(`Deleted cgroups no record held:\\n${old}\\n`));
      for (const dir of dirs(old)) assert.equal(existsSync(dir), false, `${dir} is gone`);
      for (const dir of dirs(young)) assert.equal(existsSync(dir), true, 'a young one may be a start of another state root');
      for (const dir of dirs(kept)) assert.equal(existsSync(dir), true, 'the running container keeps its cgroup');
    } finally {
      for (const id of [old, young]) for (const dir of dirs(id)) await rmdir(dir).catch(() => undefined);
      await mc('rm', '-f', 'cg-keeper');
    }
  });
});

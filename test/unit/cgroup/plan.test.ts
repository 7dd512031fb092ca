// A container's cgroup as a plan: exactly which directories are made and which files written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../../../src/base/plan.js';
import type { Resources } from '../../../src/base/records.js';
import { NO_RESOURCES } from '../../../src/cgroup/limits.js';
import { parseCgroupMounts, cgroupVersion, pureV2Mounts, CGROUP2_SUPER_MAGIC } from '../../../src/cgroup/mounts.js';
import {
  cgroupPath,
  cgroupJoinFiles,
  oomKillFile,
  parseOomKills,
  planCgroupCreate,
  planCgroupRemove,
  planOrphanCgroups,
  sharesToWeight,
  type CgroupFacts,
} from '../../../src/cgroup/plan.js';
import { applyPlan, applyPlanBestEffort } from '../../../src/exec/apply.js';
import { RecordingRunner } from '../fakes/recording-runner.js';

const MiB = 1024 * 1024;
const CG = '/sys/fs/cgroup';
const V1: CgroupFacts = {
  version: 1,
  v1: Object.fromEntries(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'].map((c) => [c, `${CG}/${c}`])),
  unified: `${CG}/unified`,
  cpusetCpus: '0-1',
  cpusetMems: '0',
  swapLimit: true,
};
const V2: CgroupFacts = { version: 2, unified: CG, controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'] };
const ID = 'abc123';
const REC1 = { version: 1 as const, path: cgroupPath('minictr', ID) };
const REC2 = { version: 2 as const, path: cgroupPath('minictr/', ID) };
const FULL: Resources = {
  memory: 32 * MiB,
  memorySwap: 64 * MiB,
  memoryReservation: 16 * MiB,
  nanoCpus: 1.5e9,
  cpuShares: 512,
  cpusetCpus: '1',
  pidsLimit: 100,
};

/** An op as one line: "mkdir PATH", "PATH = CONTENT", "rmdir PATH". */
function line(op: Op): string {
  if (op.kind === 'write') return `${op.path} = ${op.content}`;
  if (op.kind === 'mkdir' || op.kind === 'rmdir') return `${op.kind} ${op.path}${op.tolerate ? ` (tolerates ${op.tolerate.source})` : ''}`;
  return op.kind;
}

describe('cgroup v1 (hybrid)', () => {
  it('makes the parent and the container dir under every controller, copies cpuset, then writes each limit', () => {
    const plan = planCgroupCreate(V1, REC1, FULL);
    assert.equal(REC1.path, 'minictr/abc123');
    const controllers = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'blkio', 'devices'];
    assert.deepEqual(plan.ops.map(line), [
      ...controllers.map((c) => `mkdir ${CG}/${c}/minictr (tolerates EEXIST)`),
      ...controllers.map((c) => `mkdir ${CG}/${c}/minictr/abc123 (tolerates EEXIST)`),
      `${CG}/cpuset/minictr/cpuset.cpus = 0-1`,
      `${CG}/cpuset/minictr/cpuset.mems = 0`,
      `${CG}/cpuset/minictr/abc123/cpuset.cpus = 0-1`,
      `${CG}/cpuset/minictr/abc123/cpuset.mems = 0`,
      `${CG}/memory/minictr/abc123/memory.limit_in_bytes = 33554432`,
      `${CG}/memory/minictr/abc123/memory.memsw.limit_in_bytes = 67108864`,
      `${CG}/memory/minictr/abc123/memory.soft_limit_in_bytes = 16777216`,
      `${CG}/cpu/minictr/abc123/cpu.cfs_period_us = 100000`,
      `${CG}/cpu/minictr/abc123/cpu.cfs_quota_us = 150000`,
      `${CG}/cpu/minictr/abc123/cpu.shares = 512`,
      `${CG}/cpuset/minictr/abc123/cpuset.cpus = 1`,
      `${CG}/pids/minictr/abc123/pids.max = 100`,
    ]);
    const memory = plan.ops.find((op) => op.kind === 'write' && op.path.endsWith('memory.limit_in_bytes'));
    assert.equal(memory?.why, "cap memory at 32 MiB: the kernel's OOM killer ends the container beyond it");
    assert.ok(plan.ops.every((op) => op.why.length > 0 && !op.why.includes('\n')), 'every op says why, in one line');
  });

  it('without limits: only the dirs, the cpuset copy and an unlimited pids.max', () => {
    const writes = planCgroupCreate(V1, REC1, NO_RESOURCES).ops.filter((op) => op.kind === 'write').map(line);
    assert.deepEqual(writes.slice(4), [`${CG}/pids/minictr/abc123/pids.max = max`]);
  });

  it('co-mounted controllers get one dir, unlimited swap is -1, and no swap accounting leaves swap out', () => {
    const shared: CgroupFacts = { ...V1, v1: { cpu: `${CG}/cpu,cpuacct`, cpuacct: `${CG}/cpu,cpuacct`, memory: `${CG}/memory` } };
    const ops = planCgroupCreate(shared, REC1, { ...NO_RESOURCES, memory: 64 * MiB, memorySwap: -1 }).ops.map(line);
    assert.deepEqual(ops, [
      `mkdir ${CG}/cpu,cpuacct/minictr (tolerates EEXIST)`,
      `mkdir ${CG}/memory/minictr (tolerates EEXIST)`,
      `mkdir ${CG}/cpu,cpuacct/minictr/abc123 (tolerates EEXIST)`,
      `mkdir ${CG}/memory/minictr/abc123 (tolerates EEXIST)`,
      `${CG}/memory/minictr/abc123/memory.limit_in_bytes = 67108864`,
      `${CG}/memory/minictr/abc123/memory.memsw.limit_in_bytes = -1`,
    ]);
    const noSwap = planCgroupCreate({ ...V1, swapLimit: false }, REC1, FULL).ops.map(line);
    assert.ok(!noSwap.some((l) => l.includes('memsw')));
    assert.deepEqual(cgroupJoinFiles(shared, REC1), [`${CG}/cpu,cpuacct/minictr/abc123/tasks`, `${CG}/memory/minictr/abc123/tasks`]);
  });

  it('removes the container dir under every controller, tolerating its absence; the shared parent stays', () => {
    assert.deepEqual(planCgroupRemove(V1, REC1).ops.map(line), ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'blkio', 'devices'].map((c) => `rmdir ${CG}/${c}/minictr/abc123 (tolerates ENOENT)`));
  });

  it('enters by one cgroup.procs per controller; OOM kills are counted in memory.oom_control', () => {
    assert.equal(cgroupJoinFiles(V1, REC1).length, 8);
    assert.equal(cgroupJoinFiles(V1, REC1)[0], `${CG}/cpu/minictr/abc123/tasks`);
    assert.equal(oomKillFile(V1, REC1), `${CG}/memory/minictr/abc123/memory.oom_control`);
    assert.equal(oomKillFile({ version: 1, v1: {} }, REC1), undefined);
  });
});

describe('cgroup v2', () => {
  it('enables the controllers down to the parent, then makes the container dir and writes each limit', () => {
    assert.deepEqual(planCgroupCreate(V2, REC2, FULL).ops.map(line), [
      `mkdir ${CG}/minictr (tolerates EEXIST)`,
      `${CG}/cgroup.subtree_control = +cpu +memory +pids +cpuset +io`,
      `${CG}/minictr/cgroup.subtree_control = +cpu +memory +pids +cpuset +io`,
      `mkdir ${CG}/minictr/abc123 (tolerates EEXIST)`,
      `${CG}/minictr/abc123/memory.max = 33554432`,
      `${CG}/minictr/abc123/memory.swap.max = 33554432`,
      `${CG}/minictr/abc123/memory.low = 16777216`,
      `${CG}/minictr/abc123/cpu.max = 150000 100000`,
      `${CG}/minictr/abc123/cpu.weight = 20`,
      `${CG}/minictr/abc123/cpuset.cpus = 1`,
      `${CG}/minictr/abc123/pids.max = 100`,
    ]);
  });

  it('enables only the controllers the root offers; unlimited swap is max', () => {
    const ops = planCgroupCreate({ ...V2, controllers: ['memory', 'pids'] }, REC2, { ...NO_RESOURCES, memory: 8 * MiB, memorySwap: -1 }).ops.map(line);
    assert.ok(ops.includes(`${CG}/cgroup.subtree_control = +memory +pids`));
    assert.ok(ops.includes(`${CG}/minictr/abc123/memory.swap.max = max`));
    assert.ok(ops.includes(`${CG}/minictr/abc123/pids.max = max`));
  });

  it('removes one dir; enters by one cgroup.procs; OOM kills are in memory.events', () => {
    assert.deepEqual(planCgroupRemove(V2, REC2).ops.map(line), [`rmdir ${CG}/minictr/abc123 (tolerates ENOENT)`]);
    assert.deepEqual(cgroupJoinFiles(V2, REC2), [`${CG}/minictr/abc123/cgroup.procs`]);
    assert.equal(oomKillFile(V2, REC2), `${CG}/minictr/abc123/memory.events`);
  });

  it("converts shares to a weight as runc does", () => {
    assert.deepEqual([2, 1024, 512, 262144, 1, 1_000_000].map(sharesToWeight), [1, 39, 20, 10000, 1, 10000]);
  });
});

describe('OOM kills', () => {
  it('reads the oom_kill line of either file', () => {
    assert.equal(parseOomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), 2);
    assert.equal(parseOomKills('low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n'), 1);
    assert.equal(parseOomKills('oom_kill_disable 0\nunder_oom 0\n'), 0);
    assert.equal(parseOomKills(''), 0);
  });
});

describe('mounts', () => {
  it('finds the v1 controllers of a hybrid host, and the cgroup2 mount', () => {
    const mountinfo = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
    ].join('\n');
    const mounts = parseCgroupMounts(mountinfo);
    assert.deepEqual(mounts, {
      v1: { cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory' },
      unified: '/sys/fs/cgroup/unified',
    });
    assert.equal(cgroupVersion(mounts), 1);
  });

  it('a unified host is v2; none is undefined', () => {
    const mounts = parseCgroupMounts('30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n');
    assert.deepEqual(mounts, { v1: {}, unified: '/sys/fs/cgroup' });
    assert.equal(cgroupVersion(mounts), 2);
    assert.equal(cgroupVersion(parseCgroupMounts('')), undefined);
  });

  it('a pure v2 host is known without the mount table; any other layout is left to it', () => {
    const TMPFS = 0x01021994;
    assert.deepEqual(pureV2Mounts(CGROUP2_SUPER_MAGIC, '0::/user.slice/session-1.scope\n'), { v1: {}, unified: '/sys/fs/cgroup' });
    // Hybrid: /sys/fs/cgroup is a tmpfs holding the v1 hierarchies.
    assert.equal(pureV2Mounts(TMPFS, '4:memory:/\n0::/\n'), undefined);
    // cgroup2 at /sys/fs/cgroup, but a v1 hierarchy is mounted somewhere too: the mount table says where.
    assert.equal(pureV2Mounts(CGROUP2_SUPER_MAGIC, '1:name=systemd:/\n0::/\n'), undefined);
    assert.equal(pureV2Mounts(undefined, '0::/\n'), undefined);
    assert.equal(pureV2Mounts(CGROUP2_SUPER_MAGIC, ''), undefined);
  });
});

describe('applied through the runner', () => {
  it('records the mkdirs and writes of a create, and the rmdirs of a remove', async () => {
    const runner = new RecordingRunner();
    await applyPlan(planCgroupCreate(V2, REC2, { ...NO_RESOURCES, memory: 32 * MiB }), runner);
    await applyPlanBestEffort(planCgroupRemove(V2, REC2), runner);
    assert.deepEqual(runner.effects.map((e) => (e.kind === 'write' ? `write ${e.path}` : e.kind === 'command' ? 'command' : e.kind === 'signal' ? `kill ${e.pid}` : `${e.kind} ${e.path}`)), [
      `mkdir ${CG}/minictr`,
      `write ${CG}/cgroup.subtree_control`,
      `write ${CG}/minictr/cgroup.subtree_control`,
      `mkdir ${CG}/minictr/abc123`,
      `write ${CG}/minictr/abc123/memory.max`,
      `write ${CG}/minictr/abc123/pids.max`,
      `rmdir ${CG}/minictr/abc123`,
    ]);
  });

  it('a parent made by an earlier container, and a cgroup already gone, are no failure', async () => {
    const runner = new RecordingRunner()
      .failDir('mkdir', `${CG}/memory/minictr`, `EEXIST: file already exists, mkdir '${CG}/memory/minictr'`)
      .failDir('rmdir', `${CG}/memory/minictr/abc123`, `ENOENT: no such file or directory, rmdir '${CG}/memory/minictr/abc123'`);
    await applyPlan(planCgroupCreate(V1, REC1, NO_RESOURCES), runner);
    const report = await applyPlanBestEffort(planCgroupRemove(V1, REC1), runner);
    assert.deepEqual(report.failures, []);
  });
});


describe('cgroups no record holds', () => {
  const old = 'a'.repeat(64);
  const young = 'b'.repeat(64);
  const held = 'c'.repeat(64);
  it('removes an old unrecorded one under every controller, tolerating a live one (EBUSY) and one already gone', () => {
    const found = [{ id: old, ageMs: 120_000 }, { id: young, ageMs: 1_000 }, { id: held, ageMs: 120_000 }];
    const { ids, plan } = planOrphanCgroups(V1, 'minictr', found, new Set([held]), 60_000);
    assert.deepEqual(ids, [old], 'a young one may be another root\'s start; a held one is a container');
    assert.equal(plan.ops.length, 8);
    assert.ok(plan.ops.every((op) => op.kind === 'rmdir' && op.path.endsWith(`/minictr/${old}`) && op.tolerate?.test('EBUSY') && op.tolerate.test('ENOENT')));
    assert.deepEqual(planOrphanCgroups(V2, 'minictr', found, new Set([held]), 60_000).plan.ops.map(line), [`rmdir ${CG}/minictr/${old} (tolerates ENOENT|EBUSY)`]);
  });
});

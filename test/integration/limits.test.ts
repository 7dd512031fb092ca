// Resource limits through each container's own cgroup: an OOM kill reported as Docker reports
// it, --cpus holding a busy loop near its share, --pids-limit stopping a fork bomb, `stats`, and
// no cgroup left behind. Limits are read back from the kernel's files, not from minictr.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Sandbox, cgroupFile as cgroupFileOf, cgroupV1, eventually, isRoot, minictrCgroups } from './sandbox.js';


describe('resource limits', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const mc = (...args: string[]) => box.minictr(args);
  let v1 = false;
  /** A controller's file of a container's cgroup, as the kernel has it. */
  const cgroupFile = (id: string, controller: string, file: string): string => cgroupFileOf(v1, id, controller, file);

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

  it('a --memory 32m container allocating 64 MB is OOM-killed: exit 137, State.OOMKilled true', async () => {
    const r = await mc('run', '--name', 'oom', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1');
    assert.equal(r.code, 137, r.stderr);
    const [doc] = JSON.parse((await ok('inspect', 'oom')).stdout) as { State: { OOMKilled: boolean; ExitCode: number; Status: string }; HostConfig: { Memory: number } }[];
    assert.equal(doc?.State.OOMKilled, true);
    assert.equal(doc?.State.ExitCode, 137);
    assert.equal(doc?.State.Status, 'exited');
    assert.equal(doc?.HostConfig.Memory, 32 * 1024 * 1024);
    const id = (await ok('inspect', '-f', '{{.Id}}', 'oom')).stdout.trim();
    assert.ok(!(await minictrCgroups()).some((p) => p.endsWith(id)), 'the cgroup went with the exit');
    await ok('rm', 'oom');
  });

  it('a child killed by the OOM killer leaves the process its own exit status, with OOMKilled true', async () => {
    const r = await mc('run', '--name', 'oomchild', '--memory', '32m', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1; echo survived; exit 3');
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'survived\n');
    assert.equal((await ok('inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oomchild')).stdout, 'true 3\n');
    await ok('rm', 'oomchild');
  });

  it('the limits are in the kernel, inspect shows them under HostConfig, and the container sees its cgroup as /', async () => {
    const id = (await ok('run', '-d', '--memory', '64m', '--memory-reservation', '32m', '--cpus', '1.5', '--cpu-shares', '512',
      '--cpuset-cpus', '0', '--pids-limit', '100', 'busybox', 'sleep', '300')).stdout.trim();
    const read = (controller: string, file: string) => readFile(cgroupFile(id, controller, file), 'utf8').then((t) => t.trim());
    if (v1) {
      assert.equal(await read('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      assert.equal(await read('memory', 'memory.soft_limit_in_bytes'), String(32 * 1024 * 1024));
      assert.equal(await read('cpu', 'cpu.cfs_quota_us'), '150000');
      assert.equal(await read('cpu', 'cpu.cfs_period_us'), '100000');
      assert.equal(await read('cpu', 'cpu.shares'), '512');
      assert.equal(await read('cpuset', 'cpuset.cpus'), '0');
      assert.equal(await read('pids', 'pids.max'), '100');
    } else {
      assert.equal(await read('', 'memory.max'), String(64 * 1024 * 1024));
      assert.equal(await read('', 'cpu.max'), '150000 100000');
      assert.equal(await read('', 'pids.max'), '100');
    }
    const pid = (await ok('inspect', '-f', '{{.State.Pid}}', id)).stdout.trim();
    assert.match(await readFile(cgroupFile(id, v1 ? 'memory' : '', 'cgroup.procs'), 'utf8'), new RegExp(`^${pid}$`, 'm'));
    const [doc] = JSON.parse((await ok('inspect', id)).stdout) as { HostConfig: Record<string, unknown> }[];
    assert.deepEqual(
      ['Memory', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpusetCpus', 'PidsLimit'].map((k) => doc?.HostConfig[k]),
      [64 * 1024 * 1024, 32 * 1024 * 1024, 1_500_000_000, 512, '0', 100],
    );
    const own = await ok('exec', id, 'cat', '/proc/self/cgroup');
    for (const line of own.stdout.trim().split('\n')) assert.match(line, /:\/$/, `the container's own cgroup is its root: ${line}`);
    await ok('rm', '-f', id);
    assert.ok(!(await minictrCgroups()).some((p) => p.endsWith(id)), 'rm -f removed the cgroup');
  });

  it('--cpus 0.5 keeps a busy loop near half a core (over 2 s, loose bound)', async () => {
    const id = (await ok('run', '-d', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done')).stdout.trim();
    const usage = async () => Number(await readFile(v1 ? cgroupFile(id, 'cpuacct', 'cpuacct.usage') : cgroupFile(id, '', 'cpu.stat'), 'utf8')
      .then((t) => (v1 ? t : String(Number(/usage_usec (\d+)/.exec(t)?.[1] ?? 0) * 1000))));
    const t0 = process.hrtime.bigint();
    const u0 = await usage();
    await eventually(async () => process.hrtime.bigint() - t0 >= 2_000_000_000n, 5_000, 'two seconds of CPU accounting');
    const share = (await usage() - u0) / Number(process.hrtime.bigint() - t0);
    assert.ok(share > 0.3 && share < 0.7, `the loop used ${share.toFixed(2)} of a core`);
    await ok('rm', '-f', id);
  });

  it('a fork bomb under --pids-limit 64 is refused forks beyond 64 processes, and the host keeps answering', async () => {
    const id = (await ok('run', '-d', '--pids-limit', '64', '--cpus', '0.5', 'busybox', 'sh', '-c', 'f() { f | f & }; f; while :; do wait; done')).stdout.trim();
    const refusedForks = async () => Number(/^max (\d+)$/m.exec(await readFile(cgroupFile(id, 'pids', 'pids.events'), 'utf8').catch(() => ''))?.[1] ?? 0);
    await eventually(async () => (await refusedForks()) > 0, 20_000, 'the kernel to refuse a fork at the limit');
    assert.ok(Number(await readFile(cgroupFile(id, 'pids', 'pids.current'), 'utf8')) <= 64);
    assert.match((await ok('logs', id)).stderr, /can't fork/);
    const ps = await ok('ps', '-q', '--no-trunc');
    assert.match(ps.stdout, new RegExp(id), 'the host still answers, and the container still runs');
    await ok('rm', '-f', id);
  });

  it('stats --no-stream shows Docker\'s columns with the limit', async () => {
    const id = (await ok('run', '-d', '--name', 'watched', '--memory', '48m', 'busybox', 'sleep', '300')).stdout.trim();
    const table = await ok('stats', '--no-stream');
    const [header, ...rows] = table.stdout.trim().split('\n');
    assert.match(header ?? '', /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    const row = rows.find((r) => r.startsWith(id.slice(0, 12)));
    assert.ok(row, table.stdout);
    assert.match(row, /watched\s+\d+\.\d\d%\s+[\d.]+[KMG]?i?B \/ 48MiB\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+1$/);
    const formatted = await ok('stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'watched');
    assert.equal(formatted.stdout, 'watched 1\n');
    await ok('rm', '-f', id);
  });

  it('leaves no cgroup behind once its containers are removed', async () => {
    assert.equal((await ok('ps', '-aq')).stdout, '');
    assert.deepEqual(await box.leakedCgroups(), []);
  });
});

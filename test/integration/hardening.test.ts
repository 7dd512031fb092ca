// A container runs with Docker's default capabilities and Docker's masked /proc: it cannot
// rewire its own network, remount /sys, write /proc/sys, or see host processes and mounts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Sandbox, isRoot } from './sandbox.js';

describe('hardening', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  before(async () => {
    await box.setup();
    const r = await box.minictr(['run', '-d', '--name', 'h', 'busybox', 'sleep', '600']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => box.cleanup());

  const inside = (script: string) => box.minictr(['exec', 'h', 'sh', '-c', script]);

  it('has exactly Docker\'s default capability set, in the container and in exec', async () => {
    // chown dac_override fowner fsetid kill setgid setuid setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap
    const expected = '00000000a80425fb';
    const run = await box.minictr(['run', '--rm', 'busybox', 'sh', '-c', 'grep CapBnd /proc/self/status']);
    assert.equal(run.stdout.trim().split(/\s+/)[1], expected);
    assert.equal((await inside('grep CapEff /proc/self/status')).stdout.trim().split(/\s+/)[1], expected);
  });

  it('cannot change its own address or routes (no NET_ADMIN)', async () => {
    const addr = await inside('ip addr add 172.18.9.9/16 dev eth0');
    assert.notEqual(addr.code, 0);
    assert.match(addr.stderr, /Operation not permitted/);
    const route = await inside('ip route add 10.0.0.0/8 via 172.18.0.1');
    assert.notEqual(route.code, 0);
    const down = await inside('ip link set eth0 down');
    assert.notEqual(down.code, 0);
    assert.match((await inside('ip -o link show eth0')).stdout, /<[^>]*\bUP\b/);
  });

  it('cannot remount /sys read-write or write /proc/sys (no SYS_ADMIN, read-only paths)', async () => {
    assert.notEqual((await inside('mount -o remount,rw /sys')).code, 0);
    assert.match((await inside('grep " /sys " /proc/mounts')).stdout, /\bro\b/);
    const write = await inside('echo 1 > /proc/sys/net/ipv4/ip_forward');
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);
    assert.match((await inside('grep " /proc/sys " /proc/mounts')).stdout, /\bro\b/);
  });

  it('sees masked kernel files empty', async () => {
    const r = await inside('for f in /proc/timer_list /proc/keys /proc/sched_debug; do [ -e $f ] && wc -c < $f; done; true');
    for (const size of r.stdout.trim().split('\n').filter(Boolean)) assert.equal(size.trim(), '0');
  });

  it('sees only its own processes, and its mounts do not leak to the host', async () => {
    const ps = await inside('ps -o pid,comm');
    const rows = ps.stdout.trim().split('\n').slice(1);
    assert.ok(rows.length <= 3, `only the container's processes: ${ps.stdout}`);
    assert.match(rows[0] ?? '', /^\s*1 sleep$/);
    const hostMounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!hostMounts.includes(box.root), 'no mount under the container root is visible on the host');
  });

  it('holds no descriptor of the host beyond stdin, stdout and stderr', async () => {
    // pid 1 is the container's own process (sleep), started through setpriv from the host root's descriptor.
    const fds = (await inside('ls /proc/1/fd')).stdout.trim().split('\n');
    assert.deepEqual(fds, ['0', '1', '2']);
  });
});

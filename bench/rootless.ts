// Rootless rows of the bench (issue #13): `run --rm busybox true` as an unprivileged user made for
// the run, per network mode (none, pasta, slirp4netns, a rootless bridge network), beside rootless
// podman as the same user in the same sandbox. The user, its tun world and everything it made
// are removed afterwards. Medians of `reps` rounds, modes interleaved.
import { chown, copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_IP, MINICTR_BIN, type Sandbox } from '../test/integration/sandbox.js';
import { RootlessUser, TunWorld } from '../test/integration/rootless-harness.js';
import { sleep, summarize, timed, type Summary } from './lib.js';

export interface RootlessRow {
  item: string;
  unit: 'ms' | 'Gbit/s';
  summary: Summary | undefined;
  failure?: string;
}

/** iperf3 through a rootless published port: the image (iperf3 and its libraries), rounds, seconds a run. */
export interface RootlessIperf {
  tarball: string;
  reps: number;
  seconds: number;
}

/** The pid's network namespace listens on the TCP port (read as root, from the host). */
async function listening(pid: number, port: number, timeoutMs: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of ['tcp', 'tcp6']) {
      const text = await readFile(`/proc/${pid}/net/${f}`, 'utf8').catch(() => '');
      if (text.split('\n').some((l) => l.includes(hex) && / 0A /.test(l))) return true;
    }
    // /proc has no change notification to wait on.
    await sleep(20);
  }
  return false;
}

async function iperfGbits(argv: string[], seconds: number): Promise<number> {
  const r = await timed(argv, { timeoutMs: (seconds + 15) * 1000 });
  if (r.code !== 0) throw new Error(`iperf3 exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
  const bps = (JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error('iperf3 printed no sum_received');
  return bps / 1e9;
}

export async function rootlessStarts(box: Sandbox, reps: number, iperf?: RootlessIperf): Promise<RootlessRow[]> {
  const world = new TunWorld(`${box.prefix}r`);
  const user = new RootlessUser(box, `${box.prefix}r`, { mountNs: world.ns });
  try {
    await world.setup();
    await user.create();
    // pasta takes the host's default route's interface as its template: the outside world's.
    await box.host(['ip', 'route', 'replace', 'default', 'via', '10.99.0.2']);
    const mc = (args: string[]): string[] => user.argv([process.execPath, '--', MINICTR_BIN, ...args]);
    await timed(mc(['network', 'create', 'benchnet']));
    await timed(mc(['run', '--rm', '--network', 'none', 'busybox', 'true']));
    // podman gets minictr's busybox image, saved and loaded as the same user.
    const podman = (args: string[]): string[] => user.argv(['podman', '--root', `${user.home}/podman`, '--runroot', `${user.runtimeDir}/podman`,
      '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args]);
    await timed(mc(['save', '-o', `${user.home}/busybox.tar`, 'busybox']));
    const loaded = await timed(podman(['load', '-i', `${user.home}/busybox.tar`]), { timeoutMs: 120_000 });
    const variants: { item: string; argv: string[] }[] = [
      { item: 'rootless run --rm --network none busybox true', argv: mc(['run', '--rm', '--network', 'none', 'busybox', 'true']) },
      { item: 'rootless run --rm --network pasta busybox true (the default)', argv: mc(['run', '--rm', '--network', 'pasta', 'busybox', 'true']) },
      { item: 'rootless run --rm --network slirp4netns busybox true', argv: mc(['run', '--rm', '--network', 'slirp4netns', 'busybox', 'true']) },
      { item: 'rootless run --rm on a rootless bridge network (namespace made and removed each time)', argv: mc(['run', '--rm', '--network', 'benchnet', 'busybox', 'true']) },
      ...(loaded.code === 0
        ? [
          { item: 'rootless podman run --rm --network none busybox true', argv: podman(['run', '--rm', '--network', 'none', '--pull', 'never', 'busybox:latest', 'true']) },
          { item: 'rootless podman run --rm --network slirp4netns busybox true', argv: podman(['run', '--rm', '--network', 'slirp4netns', '--pull', 'never', 'busybox:latest', 'true']) },
        ]
        : []),
    ];
    const samples = variants.map(() => [] as number[]);
    const failures: (string | undefined)[] = variants.map(() => undefined);
    for (let rep = 0; rep < reps; rep++) {
      for (const [i, v] of variants.entries()) {
        const r = await timed(v.argv, { timeoutMs: 60_000 });
        if (r.code === 0) samples[i]?.push(r.ms);
        else failures[i] ??= `exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
      }
    }
    const rows: RootlessRow[] = variants.map((v, i) => ({ item: v.item, unit: 'ms', summary: summarize(samples[i] ?? []), ...(failures[i] ? { failure: failures[i] } : {}) }));
    if (loaded.code !== 0) rows.push({ item: 'rootless podman (image load failed)', unit: 'ms', summary: undefined, failure: loaded.stderr.trim().split('\n').pop() ?? '' });
    if (iperf) rows.push(...(await rootlessIperf(box, user, mc, podman, iperf)));
    return rows;
  } finally {
    await user.remove();
    await world.cleanup();
  }
}

/**
 * iperf3 from the outside world to a rootless published port, one server per path (pasta,
 * slirp4netns, a rootless network's relay; rootless podman's slirp4netns and its rootless
 * network), and to a rootful-free baseline: the host's own iperf3 as the user (no container).
 */
async function rootlessIperf(box: Sandbox, user: RootlessUser, mc: (a: string[]) => string[], podman: (a: string[]) => string[], iperf: RootlessIperf): Promise<RootlessRow[]> {
  const tarball = join(user.home, 'iperf3.tar');
  await copyFile(iperf.tarball, tarball);
  await chown(tarball, user.uid, user.gid);
  const rows: RootlessRow[] = [];
  const imported = await timed(mc(['import', tarball, 'benchiperf3:latest']), { timeoutMs: 120_000 });
  if (imported.code !== 0) return [{ item: 'rootless iperf3 (minictr import failed)', unit: 'Gbit/s', summary: undefined, failure: imported.stderr.trim() }];
  const podmanImported = await timed(podman(['import', tarball, 'benchiperf3:latest']), { timeoutMs: 120_000 });
  await timed(podman(['network', 'create', 'benchpodnet']));
  const servers: { item: string; start: string[]; port: number; engine: 'minictr' | 'podman' }[] = [
    { item: 'wan → host:15201 rootless -p, pasta', start: mc(['run', '-d', '--network', 'pasta', '-p', '15201:5201', 'benchiperf3', 'iperf3', '-s']), port: 15201, engine: 'minictr' },
    { item: 'wan → host:15202 rootless -p, slirp4netns (add_hostfwd)', start: mc(['run', '-d', '--network', 'slirp4netns', '-p', '15202:5201', 'benchiperf3', 'iperf3', '-s']), port: 15202, engine: 'minictr' },
    { item: 'wan → host:15203 rootless -p, rootless network (minictr\'s relay)', start: mc(['run', '-d', '--network', 'benchnet', '-p', '15203:5201', 'benchiperf3', 'iperf3', '-s']), port: 15203, engine: 'minictr' },
    ...(podmanImported.code === 0
      ? [
        { item: 'wan → host:15204 rootless podman -p, slirp4netns (rootlesskit port handler)', start: podman(['run', '-d', '--network', 'slirp4netns', '-p', '15204:5201', 'localhost/benchiperf3:latest', 'iperf3', '-s']), port: 15204, engine: 'podman' as const },
        { item: 'wan → host:15205 rootless podman -p, rootless network (rootlessport)', start: podman(['run', '-d', '--network', 'benchpodnet', '-p', '15205:5201', 'localhost/benchiperf3:latest', 'iperf3', '-s']), port: 15205, engine: 'podman' as const },
      ]
      : []),
  ];
  if (podmanImported.code !== 0) rows.push({ item: 'rootless podman iperf3 (image import failed)', unit: 'Gbit/s', summary: undefined, failure: podmanImported.stderr.trim().split('\n').pop() ?? '' });
  const started: { item: string; port: number; engine: 'minictr' | 'podman'; id: string; failure?: string }[] = [];
  for (const s of servers) {
    const r = await timed(s.start, { timeoutMs: 60_000 });
    const id = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0) {
      started.push({ ...s, id: '', failure: `exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}` });
      continue;
    }
    const tool = s.engine === 'minictr' ? mc : podman;
    const pid = Number((await timed(tool(['inspect', '--format', '{{.State.Pid}}', id]))).stdout.trim());
    started.push({ ...s, id, ...((await listening(pid, 5201, 10_000)) ? {} : { failure: 'iperf3 server not listening after 10 s' }) });
  }
  try {
    const samples = started.map(() => [] as number[]);
    const failures = started.map((s) => s.failure);
    for (let rep = 0; rep < iperf.reps; rep++) {
      for (const [i, s] of started.entries()) {
        if (failures[i]) continue;
        try {
          samples[i]?.push(await iperfGbits(['nsenter', `--net=/run/netns/${box.wanNs}`, '--', 'iperf3', '-c', HOST_IP, '-p', String(s.port), '-t', String(iperf.seconds), '-J'], iperf.seconds));
        } catch (err) {
          failures[i] = err instanceof Error ? err.message : String(err);
        }
      }
    }
    rows.push(...started.map((s, i) => ({ item: s.item, unit: 'Gbit/s' as const, summary: summarize(samples[i] ?? []), ...(failures[i] ? { failure: failures[i] } : {}) })));
  } finally {
    for (const s of started) if (s.id) await timed((s.engine === 'minictr' ? mc : podman)(['rm', '-f', s.id]), { timeoutMs: 60_000 });
    await timed(podman(['network', 'rm', '-f', 'benchpodnet']));
  }
  return rows;
}

// Rootless rows of the bench (issue #13): `run --rm busybox true` as an unprivileged user made for
// the run, per network mode (none, pasta, slirp4netns, a rootless bridge network), beside rootless
// podman as the same user in the same sandbox. The user, its tun world and everything it made
// are removed afterwards. Medians of `reps` rounds, modes interleaved.
import { MINICTR_BIN, type Sandbox } from '../test/integration/sandbox.js';
import { RootlessUser, TunWorld } from '../test/integration/rootless-harness.js';
import { summarize, timed, type Summary } from './lib.js';

export interface RootlessRow {
  item: string;
  summary: Summary | undefined;
  failure?: string;
}

export async function rootlessStarts(box: Sandbox, reps: number): Promise<RootlessRow[]> {
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
    const rows: RootlessRow[] = variants.map((v, i) => ({ item: v.item, summary: summarize(samples[i] ?? []), ...(failures[i] ? { failure: failures[i] } : {}) }));
    if (loaded.code !== 0) rows.push({ item: 'rootless podman (image load failed)', summary: undefined, failure: loaded.stderr.trim().split('\n').pop() ?? '' });
    return rows;
  } finally {
    await user.remove();
    await world.cleanup();
  }
}

// Concurrency and a soak: many containers started and removed at once on one network, races for
// one name and one host port, then run/rm cycles with random flags — and afterwards the (sandbox)
// host exactly as it was: links, addresses, firewall rules, mounts, processes and the state dir.
//
// Sizes (defaults keep `make test` short; the full numbers are one env var away):
//   MINICTR_STRESS_CONTAINERS  containers started/removed at once   (default 30)
//   MINICTR_RACERS             concurrent runs racing for one name/port (default 10)
//   MINICTR_SOAK_CYCLES        run/rm cycles of the soak             (default 40; full mode: 300)
//   MINICTR_SOAK_SEED          seed of the soak's random flags       (default: random, printed)
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, eventually, hostMountsNaming, isRoot, sh, HOST_IP, type Result } from './sandbox.js';

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const CONTAINERS = envInt('MINICTR_STRESS_CONTAINERS', 30);
const RACERS = envInt('MINICTR_RACERS', 10);
const SOAK_CYCLES = envInt('MINICTR_SOAK_CYCLES', 40);
const SOAK_SEED = envInt('MINICTR_SOAK_SEED', Math.floor(Math.random() * 2 ** 31));
const LONG = { timeoutMs: 120_000 };

/** A small seeded generator (mulberry32), so a failing soak can be replayed with MINICTR_SOAK_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * iptables-save without comments and counters. A table holding nothing but its built-in chains
 * with policy ACCEPT counts as absent: iptables-nft creates such tables when first used and
 * never deletes them, with or without minictr.
 */
const normRules = (save: string): string =>
  save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '').trimEnd())
    .join('\n')
    .split(/(?=^\*)/m)
    .filter((table) => !/^\*\w+\n(:[A-Z]+ ACCEPT\n)*COMMIT\n?$/.test(table))
    .join('');
/** Lifetimes and the DAD state of link-local addresses change on their own; nothing else may. */
const normAddrs = (text: string): string =>
  text.split('\n').map((l) => l.replace(/\\\s+valid_lft.*$/, '').replace(/\s(tentative|dadfailed)\b/g, '')).join('\n');

interface HostState {
  links: string;
  addrs: string;
  rules: string;
}

async function allSettled<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
}

describe('stress: concurrency and soak', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  let cold: HostState;
  let warm: HostState;
  /** Every container id this file created (for the netns and rule checks). */
  const everyId = new Set<string>();

  const mc = (args: string[], options: { timeoutMs?: number } = {}): Promise<Result> => box.minictr(args, options);

  const hostState = async (): Promise<HostState> => {
    const [links, addrs, rules] = await Promise.all([
      box.host(['ip', '-o', 'link']),
      box.host(['ip', '-o', 'addr']),
      box.host(['iptables-save']),
    ]);
    return { links: links.stdout, addrs: normAddrs(addrs.stdout), rules: normRules(rules.stdout) };
  };

  /** Wait (bounded) until the host state equals `expected`, then compare for a readable diff. */
  const assertHostState = async (expected: HostState, what: string): Promise<void> => {
    const same = await eventually(async () => {
      const now = await hostState();
      return JSON.stringify(now) === JSON.stringify(expected) ? true : undefined;
    }, 10_000, what).catch(() => false);
    if (!same) assert.deepEqual(await hostState(), expected, what);
  };

  const records = async (): Promise<string[]> => (await readdir(join(box.root, 'containers')).catch(() => [] as string[])).sort();

  /** Processes whose command line, environment, cwd or mounts mention the sandbox's state dir. */
  const processesUsingRoot = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
      if (Number(pid) === process.pid) continue;
      const read = (f: string): Promise<string> => readFile(`/proc/${pid}/${f}`, 'utf8').catch(() => '');
      const [cmdline, environ, mountinfo, cwd] = await Promise.all([
        read('cmdline'), read('environ'), read('mountinfo'), readlink(`/proc/${pid}/cwd`).catch(() => ''),
      ]);
      if ([cmdline, environ, mountinfo, cwd].some((t) => t.includes(box.root))) {
        out.push(`${pid}: ${cmdline.replace(/\0/g, ' ').slice(0, 120)}`);
      }
    }
    return out;
  };

  const mountsUsingRoot = async (): Promise<string[]> =>
    (await sh(['findmnt', '-rn', '-o', 'TARGET,SOURCE,FSTYPE,OPTIONS'])).stdout.split('\n').filter((l) => l.includes(box.root));

  const netnsOf = async (ids: Iterable<string>): Promise<string[]> => {
    const present = new Set(await readdir('/run/netns').catch(() => [] as string[]));
    return [...ids].map((id) => `minictr-${id.slice(0, 12)}`).filter((n) => present.has(n));
  };

  const rulesOf = (save: string, ids: Iterable<string>): string[] => {
    const short = new Set([...ids].map((id) => id.slice(0, 12)));
    return save.split('\n').filter((l) => {
      const m = /minictr:([0-9a-f]{12})\b/.exec(l);
      return m !== null && short.has(m[1] ?? '');
    });
  };

  const fetchHostname = (port: number): Promise<Result> =>
    box.wan(['timeout', '5', 'busybox', 'wget', '-q', '-O', '-', `http://${HOST_IP}:${port}/hostname`]);

  before(async () => {
    await box.setup();
    cold = await hostState();
    // The default network exists from here on, as docker0 does once Docker ran.
    const warmup = await mc(['run', '--rm', '-p', '9999:80', 'busybox', 'true']);
    assert.equal(warmup.code, 0, warmup.stderr);
    await eventually(async () => !/veth|minictr0: <(?![^>]*NO-CARRIER)/.test((await box.host(['ip', '-o', 'link'])).stdout), 5_000, 'bridge to settle');
    warm = await hostState();
  });

  after(() => box.cleanup());

  // Last, after every test above: no namespace was left that no record leads back to (issue #12).
  after(async () => {
    const leaked = await box.leakedNamespaces();
    for (const ns of leaked) await sh(['ip', 'netns', 'del', ns]);
    assert.deepEqual(leaked, [], `network namespaces left with no record: ${leaked.join(' ')}`);
  });

  describe(`${CONTAINERS} containers at once on one network`, () => {
    const BASE_PORT = 21000;
    const ids: string[] = [];

    it(`${CONTAINERS} concurrent run -d -p: distinct addresses and veths, every port answers, state intact`, async (t: TestContext) => {
      const started = Date.now();
      const runs = await Promise.all(Array.from({ length: CONTAINERS }, (_, i) =>
        mc(['run', '-d', '--name', `stress-${i}`, '-p', `${BASE_PORT + i}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'], LONG)));
      t.diagnostic(`${CONTAINERS} concurrent runs took ${Date.now() - started} ms`);
      runs.forEach((r, i) => {
        assert.equal(r.code, 0, `stress-${i}: ${r.stderr}`);
        assert.match(r.stdout.trim(), /^[0-9a-f]{64}$/);
        ids.push(r.stdout.trim());
        everyId.add(r.stdout.trim());
      });
      assert.equal(new Set(ids).size, CONTAINERS, 'distinct ids');

      // Every record parses and says running; no temp file was left by an interrupted write.
      const recs = await Promise.all(ids.map(async (id) => {
        const dir = join(box.root, 'containers', id);
        assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.tmp')), [], `no temp files in ${id}`);
        return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as {
          id: string; state: { status: string }; network: { ip: string; mac: string; hostVeth: string; netns: string; ports: { hostPort: number }[] };
        };
      }));
      for (const [i, rec] of recs.entries()) {
        assert.equal(rec.id, ids[i]);
        assert.equal(rec.state.status, 'running');
        assert.deepEqual(rec.network.ports.map((p) => p.hostPort), [BASE_PORT + i]);
      }
      JSON.parse(await readFile(join(box.root, 'networks', 'bridge.json'), 'utf8'));

      const ips = recs.map((r) => r.network.ip);
      assert.equal(new Set(ips).size, CONTAINERS, `distinct addresses: ${ips.join(' ')}`);
      for (const ip of ips) assert.match(ip, /^172\.18\.\d+\.\d+$/);
      assert.ok(!ips.includes('172.18.0.1'), 'no container holds the gateway');
      assert.equal(new Set(recs.map((r) => r.network.mac)).size, CONTAINERS, 'distinct MACs');
      const veths = recs.map((r) => r.network.hostVeth);
      assert.equal(new Set(veths).size, CONTAINERS, 'distinct veth names');

      // Inspect agrees with the records.
      const inspected = JSON.parse((await mc(['inspect', ...ids])).stdout) as { Id: string; NetworkSettings: { IPAddress: string } }[];
      assert.deepEqual(inspected.map((d) => d.NetworkSettings.IPAddress), ips);

      // Every veth exists and is a port of the bridge.
      const links = (await box.host(['ip', '-o', 'link', 'show', 'master', 'minictr0'])).stdout;
      for (const veth of veths) assert.match(links, new RegExp(`\\b${veth}@`), `${veth} on minictr0`);

      // One DNAT rule per published port, to the right address.
      const nat = (await box.host(['iptables-save', '-t', 'nat'])).stdout;
      recs.forEach((rec, i) => {
        const dnat = nat.split('\n').filter((l) => l.includes(`--dport ${BASE_PORT + i} `) && l.includes('DNAT'));
        assert.equal(dnat.length, 1, `one DNAT rule for ${BASE_PORT + i}: ${dnat.join(' | ')}`);
        assert.ok(dnat[0]?.endsWith(`--to-destination ${rec.network.ip}:80`), dnat[0]);
      });

      // Every container answers from the outside world on its own port, with its own hostname.
      await allSettled(ids, 10, async (id, i) => {
        const got = await eventually(async () => {
          const r = await fetchHostname(BASE_PORT + i);
          return r.code === 0 ? r.stdout.trim() : undefined;
        }, 15_000, `port ${BASE_PORT + i} to answer`);
        assert.equal(got, id.slice(0, 12), `port ${BASE_PORT + i} reaches its own container`);
      });

      const ps = (await mc(['ps', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      assert.deepEqual(ps.sort(), [...ids].sort(), `ps shows the ${CONTAINERS}`);
    });

    it(`${CONTAINERS} concurrent rm -f: no veth, rule, netns or record left`, async (t: TestContext) => {
      assert.equal(ids.length, CONTAINERS, 'the previous test started them');
      const started = Date.now();
      const rms = await Promise.all(ids.map((id) => mc(['rm', '-f', id], LONG)));
      t.diagnostic(`${CONTAINERS} concurrent rm -f took ${Date.now() - started} ms`);
      rms.forEach((r, i) => assert.equal(r.code, 0, `rm -f ${ids[i]}: ${r.stderr}`));

      assert.equal((await mc(['ps', '-aq'])).stdout, '');
      assert.deepEqual(await records(), []);
      assert.deepEqual(await netnsOf(ids), [], 'their network namespaces are gone');
      assert.deepEqual(rulesOf((await box.host(['iptables-save'])).stdout, ids), [], 'their rules are gone');
      await assertHostState(warm, 'links, addresses and rules as before the containers');
    });
  });

  it(`${RACERS} concurrent runs with one --name: exactly one wins`, async () => {
    const runs = await Promise.all(Array.from({ length: RACERS }, () =>
      mc(['run', '-d', '--name', 'same-name', 'busybox', 'sleep', '300'], LONG)));
    const winners = runs.filter((r) => r.code === 0);
    assert.equal(winners.length, 1, runs.map((r) => `${r.code}: ${r.stderr.trim()}`).join('\n'));
    const id = winners[0]?.stdout.trim() ?? '';
    everyId.add(id);
    for (const r of runs.filter((x) => x.code !== 0)) {
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`^minictr: the container name "/same-name" is already in use by container "${id}"`));
    }
    assert.deepEqual(await records(), [id], 'only the winner has a record');
    assert.equal((await box.host(['ip', '-o', 'link', 'show', 'master', 'minictr0'])).stdout.trim().split('\n').length, 1, 'one veth');
    assert.equal((await mc(['rm', '-f', 'same-name'])).code, 0);
    await assertHostState(warm, 'host as before the race');
  });

  it(`${RACERS} concurrent runs publishing one host port: exactly one wins`, async () => {
    const PORT = 23456;
    const runs = await Promise.all(Array.from({ length: RACERS }, (_, i) =>
      mc(['run', '-d', '--name', `port-racer-${i}`, '-p', `${PORT}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'], LONG)));
    const winners = runs.filter((r) => r.code === 0);
    assert.equal(winners.length, 1, runs.map((r) => `${r.code}: ${r.stderr.trim()}`).join('\n'));
    const id = winners[0]?.stdout.trim() ?? '';
    everyId.add(id);
    for (const r of runs.filter((x) => x.code !== 0)) {
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`^minictr: Bind for 0\\.0\\.0\\.0:${PORT} failed: port is already allocated`));
    }
    // The losers left nothing: one record, one veth, one DNAT rule — and the port reaches the winner.
    assert.deepEqual(await records(), [id], 'only the winner has a record');
    assert.equal((await box.host(['ip', '-o', 'link', 'show', 'master', 'minictr0'])).stdout.trim().split('\n').length, 1, 'one veth');
    const dnat = (await box.host(['iptables-save', '-t', 'nat'])).stdout.split('\n').filter((l) => l.includes(`--dport ${PORT} `) && l.includes('DNAT'));
    assert.equal(dnat.length, 1, dnat.join('\n'));
    const got = await eventually(async () => {
      const r = await fetchHostname(PORT);
      return r.code === 0 ? r.stdout.trim() : undefined;
    }, 15_000, 'the winner to answer');
    assert.equal(got, id.slice(0, 12));
    assert.equal((await mc(['rm', '-f', id])).code, 0);
    await assertHostState(warm, 'host as before the race');
  });

  const CHURN = Math.max(2, Math.floor(CONTAINERS / 2));
  it(`churn: ${CHURN} rm -f, ${CHURN} run -d -p, network prune and ps all at once`, async () => {
    const OLD_PORT = 22000;
    const NEW_PORT = 22100;
    const httpd = ['busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'];
    const old = await Promise.all(Array.from({ length: CHURN }, (_, i) => mc(['run', '-d', '-p', `${OLD_PORT + i}:80`, ...httpd], LONG)));
    old.forEach((r) => assert.equal(r.code, 0, r.stderr));
    const oldIds = old.map((r) => r.stdout.trim());
    oldIds.forEach((id) => everyId.add(id));

    // Removals free addresses and ports while new runs take them; prune tries to remove the network
    // under their feet; the same container is removed twice at once; ps reads through it all.
    const ops: Promise<[string, Result]>[] = [
      ...oldIds.map((id) => mc(['rm', '-f', id], LONG).then((r): [string, Result] => [`rm -f ${id.slice(0, 12)}`, r])),
      ...Array.from({ length: CHURN }, (_, i) =>
        mc(['run', '-d', '--name', `churn-${i}`, '-p', `${NEW_PORT + i}:80`, ...httpd], LONG).then((r): [string, Result] => [`run churn-${i}`, r])),
      ...Array.from({ length: 3 }, () => mc(['network', 'prune', '-f'], LONG).then((r): [string, Result] => ['network prune', r])),
      ...Array.from({ length: 3 }, () => mc(['ps', '-a'], LONG).then((r): [string, Result] => ['ps -a', r])),
    ];
    const results = await Promise.all(ops);
    const failed = results.filter(([, r]) => r.code !== 0).map(([what, r]) => `${what}: ${r.code} ${r.stderr.trim()}`);
    assert.deepEqual(failed, [], 'every concurrent command succeeded');
    const newIds = results.filter(([what]) => what.startsWith('run ')).map(([, r]) => r.stdout.trim());
    newIds.forEach((id) => everyId.add(id));

    assert.deepEqual(await records(), [...newIds].sort(), 'exactly the new containers are recorded');
    const save = (await box.host(['iptables-save'])).stdout;
    assert.deepEqual(rulesOf(save, oldIds), [], 'no rule of a removed container');
    for (const id of newIds) assert.ok(rulesOf(save, [id]).length > 0, `rules of ${id.slice(0, 12)} present`);
    assert.deepEqual(await netnsOf(oldIds), [], 'no netns of a removed container');
    const ips = (JSON.parse((await mc(['inspect', ...newIds])).stdout) as { NetworkSettings: { IPAddress: string } }[])
      .map((d) => d.NetworkSettings.IPAddress);
    assert.equal(new Set(ips).size, CHURN, `distinct addresses: ${ips.join(' ')}`);
    await allSettled(newIds, 10, async (id, i) => {
      const got = await eventually(async () => {
        const r = await fetchHostname(NEW_PORT + i);
        return r.code === 0 ? r.stdout.trim() : undefined;
      }, 15_000, `port ${NEW_PORT + i} to answer`);
      assert.equal(got, id.slice(0, 12), `port ${NEW_PORT + i} reaches its own container`);
    });

    const rms = await Promise.all(newIds.map((id) => mc(['rm', '-f', id], LONG)));
    rms.forEach((r) => assert.equal(r.code, 0, r.stderr));
    // The prunes may have removed the network while it was briefly unused; bring back the warm state.
    if (!(await box.host(['ip', 'link', 'show', 'minictr0'])).stdout) {
      assert.equal((await mc(['run', '--rm', '-p', '9999:80', 'busybox', 'true'])).code, 0);
    }
    await assertHostState(warm, 'host as before the churn');
  });

  it(`soak: ${SOAK_CYCLES} run/rm cycles with random flags leave the host exactly as it was`, async (t: TestContext) => {
    const random = prng(SOAK_SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const counts = { none: 0, host: 0, bridge: 0, published: 0, detached: 0, foreground: 0, autoRemove: 0, env: 0, bind: 0, volume: 0, tmpfs: 0, memory: 0 };
    const bindDir = await mkdtemp(join(tmpdir(), 'minictr-soak-bind-'));
    const volumesBefore = (await mc(['volume', 'ls', '-q'])).stdout;
    t.diagnostic(`soak seed ${SOAK_SEED} (replay with MINICTR_SOAK_SEED=${SOAK_SEED})`);
    const started = Date.now();

    for (let i = 0; i < SOAK_CYCLES; i++) {
      const net = pick(['none', 'host', 'bridge', 'bridge'] as const);
      const port = net === 'bridge' && random() < 0.6 ? 20000 + Math.floor(random() * 10000) : 0;
      const autoRemove = random() < 0.5;
      const detach = random() < 0.5;
      const env = random() < 0.5;
      const name = `soak-${i}`;
      // Issue #18's flags: a bind, an anonymous volume, a tmpfs, a memory limit, each at random.
      const storage = pick(['none', 'bind', 'volume', 'tmpfs'] as const);
      const memory = random() < 0.5;
      const flags = [
        ...(detach ? ['-d'] : []), ...(autoRemove ? ['--rm'] : []), '--name', name, '--network', net,
        ...(port ? ['-p', `${port}:80`] : []), ...(env ? ['-e', `SOAK=${i}`] : []),
        ...(storage === 'bind' ? ['-v', `${bindDir}:/data`] : storage === 'volume' ? ['-v', '/data'] : storage === 'tmpfs' ? ['--tmpfs', '/data'] : []),
        ...(memory ? ['--memory', '64m'] : []),
      ];
      if (storage !== 'none') counts[storage]++;
      if (memory) counts.memory++;
      const cycle = `cycle ${i}: run ${flags.join(' ')}`;
      counts[net]++;
      if (port) counts.published++;
      if (detach) counts.detached++;
      else counts.foreground++;
      if (autoRemove) counts.autoRemove++;
      if (env) counts.env++;

      if (detach) {
        const command = port ? ['httpd', '-f', '-p', '80', '-h', '/etc'] : ['sleep', '300'];
        const r = await mc(['run', ...flags, 'busybox', ...command]);
        assert.equal(r.code, 0, `${cycle}: ${r.stderr}`);
        const id = r.stdout.trim();
        everyId.add(id);
        if (port) {
          const got = await eventually(async () => {
            const w = await fetchHostname(port);
            return w.code === 0 ? w.stdout.trim() : undefined;
          }, 15_000, `${cycle}: port ${port} to answer`);
          assert.equal(got, id.slice(0, 12), cycle);
        }
        if (env) {
          const ex = await mc(['exec', name, 'sh', '-c', 'echo "$SOAK"']);
          assert.equal(ex.stdout, `${i}\n`, `${cycle}: exec sees -e (${ex.stderr})`);
        }
        if (autoRemove) {
          assert.equal((await mc(['kill', name])).code, 0, cycle);
        } else if (random() < 0.5) {
          assert.equal((await mc(['rm', '-f', '-v', name])).code, 0, cycle);
        } else {
          assert.equal((await mc(['kill', name])).code, 0, cycle);
          const rm = await mc(['rm', '-v', name]);
          assert.equal(rm.code, 0, `${cycle}: ${rm.stderr}`);
        }
      } else {
        const r = await mc(['run', ...flags, 'busybox', 'sh', '-c', 'hostname; echo "soak=$SOAK"']);
        assert.equal(r.code, 0, `${cycle}: ${r.stderr}`);
        const [hostname, echoed] = r.stdout.trim().split('\n');
        assert.equal(echoed, `soak=${env ? i : ''}`, cycle);
        if (net !== 'host') {
          assert.match(hostname ?? '', /^[0-9a-f]{12}$/, `${cycle}: hostname is the short id`);
          everyId.add(hostname ?? '');
        }
        if (!autoRemove) {
          const id = (await mc(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
          everyId.add(id);
          const rm = await mc(['rm', '-v', name]);
          assert.equal(rm.code, 0, `${cycle}: ${rm.stderr}`);
        }
      }
      // Nothing of this cycle may outlive it (an --rm container is removed by its monitor, soon).
      await eventually(async () => (await mc(['ps', '-aq'])).stdout === '' && (await records()).length === 0, 10_000, `${cycle}: container gone`);
    }
    t.diagnostic(`soak: ${SOAK_CYCLES} cycles in ${Date.now() - started} ms: ${JSON.stringify(counts)}`);

    await assertHostState(warm, 'links, addresses and rules exactly as before the soak');
    assert.deepEqual(await mountsUsingRoot(), [], 'no mount mentions the state dir');
    const procs = await eventually(async () => ((await processesUsingRoot()).length === 0 ? [] : undefined), 10_000, 'processes to end')
      .catch(async () => processesUsingRoot());
    assert.deepEqual(procs, [], 'no process mentions the state dir');
    assert.deepEqual(await records(), [], 'containers/ is empty');
    assert.deepEqual(await netnsOf(everyId), [], 'no network namespace of any container');
    assert.deepEqual(rulesOf((await box.host(['iptables-save'])).stdout, everyId), [], 'no rule of any container');
    assert.deepEqual(await box.leakedCgroups(), [], 'no cgroup of any container');
    assert.deepEqual(await hostMountsNaming(bindDir), [], 'no bind reached the host namespace');
    assert.equal((await mc(['volume', 'ls', '-q'])).stdout, volumesBefore, 'no anonymous volume is left');
    await rm(bindDir, { recursive: true, force: true });
  });

  it('network prune returns the host to before minictr ever ran', async (t: TestContext) => {
    const prune = await mc(['network', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    await assertHostState(cold, 'links, addresses and rules as before the first container');
    t.diagnostic(`containers created in this file: ${everyId.size}`);
  });
});

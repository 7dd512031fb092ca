// minictr benchmark ("Fast as the kernel lets it be"). Prints one table and writes JSON and an
// SVG chart under bench/results/. Every figure is the median of repeated runs (with min and
// max), printed beside the floor measured in the same run. A benchmark, not a test: targets are
// printed, never enforced.
//
// Everything runs inside the integration tests' sandbox (a network namespace playing the host,
// one playing the outside world), with its own --root; nothing touches the real host's network.
// See bench/README.md for the environment variables.
import { access, cp, mkdir, mkdtemp, readFile, realpath, rm, rmdir, stat, writeFile, copyFile, chmod, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { cpus, hostname, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, HOST_IP, isRoot } from '../test/integration/sandbox.js';
import { initCommand } from '../src/runtime/init-script.js';
import { hostTools } from '../src/runtime/host-tools.js';
import { ensureDevTemplate } from '../src/runtime/dev-template.js';
import { containerEtcFiles, planContainerEtc, readHostEtc } from '../src/runtime/files.js';
import { resolverBinary } from '../src/runtime/dns.js';
import { cgroupFacts } from '../src/runtime/cgroups.js';
import { cgroupPath, planCgroupCreate, planCgroupRemove } from '../src/cgroup/plan.js';
import { NO_RESOURCES } from '../src/cgroup/limits.js';
import { applyPlan } from '../src/exec/apply.js';
import { HostRunner } from '../src/exec/runner.js';
import type { Plan } from '../src/base/plan.js';
import type { NetworkAttachment } from '../src/base/records.js';
import { firewallDriverFor } from '../src/network/drivers.js';
import { containerRules, restoreText } from '../src/network/firewall/iptables.js';
import { randomBytes } from 'node:crypto';
import {
  fmtMs,
  killLive,
  processChildren,
  processMemory,
  processName,
  processStartTime,
  sleep,
  summarize,
  timed,
  type Summary,
  type Timed,
} from './lib.js';
import { lineChart } from './svg.js';
import { sandboxedDocker, sandboxedPodman } from './engines.js';
import { cniNodeScale } from './cni.js';
import { rootlessStarts } from './rootless.js';
import type { Trace } from './trace-hook.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RESULTS = join(REPO, 'bench', 'results');
// The hook must load the same commander / proper-lockfile instances as the minictr it traces.
let HOOK = fileURLToPath(new URL('./trace-hook.js', import.meta.url));

// ------------------------------------------------------------------ configuration

function envNum(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not "${raw}"`);
  return n;
}

const QUICK = process.env['BENCH_QUICK'] === '1';
const cfg = {
  quick: QUICK,
  reps: Math.max(1, Math.round(envNum('BENCH_REPS', QUICK ? 5 : 11))),
  traceReps: Math.max(1, Math.round(envNum('BENCH_TRACE_REPS', QUICK ? 3 : 5))),
  serveReps: Math.max(1, Math.round(envNum('BENCH_SERVE_REPS', QUICK ? 3 : 5))),
  scaleN: Math.round(envNum('BENCH_SCALE_N', QUICK ? 30 : 200)),
  scalePoints: [] as number[],
  window: Math.max(1, Math.round(envNum('BENCH_SCALE_WINDOW', 5))),
  memN: Math.max(1, Math.round(envNum('BENCH_MEM_N', 50))),
  iperfReps: Math.round(envNum('BENCH_IPERF_REPS', QUICK ? 1 : 3)),
  iperfSeconds: Math.max(1, Math.round(envNum('BENCH_IPERF_SECONDS', 3))),
  budgetS: envNum('BENCH_BUDGET_S', QUICK ? 150 : 420),
  pollMs: envNum('BENCH_POLL_MS', 10),
  skip: new Set((process.env['BENCH_SKIP'] ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
  dockerNetwork: process.env['BENCH_DOCKER_NETWORK'] === '1',
  /** Pods per node in the CNI simulation: the kubelet's default maximum (110), and 250. */
  cniPods: (process.env['BENCH_CNI_PODS'] ?? (QUICK ? '30' : '110,250')).split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0),
  fwScaleN: Math.round(envNum('BENCH_FW_SCALE_N', QUICK ? 30 : 1000)),
  /** apart: each driver's bridge filled alone (N containers on the host); lockstep: both at once (2N). */
  fwScaleLockstep: process.env['BENCH_FW_SCALE_MODE'] === 'lockstep',
  fwPoints: [] as number[],
};
{
  const given = process.env['BENCH_SCALE_POINTS'];
  const base = given ? given.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0) : QUICK ? [10, 20, 30] : [10, 50, 100, 200];
  const pts = new Set(base.filter((p) => p <= cfg.scaleN));
  if (cfg.scaleN > 0) pts.add(cfg.scaleN);
  cfg.scalePoints = [...pts].sort((a, b) => a - b);
  const fw = new Set([10, 200].filter((p) => p <= cfg.fwScaleN));
  if (cfg.fwScaleN > 0) fw.add(cfg.fwScaleN);
  cfg.fwPoints = [...fw].sort((a, b) => a - b);
}

const T0 = Date.now();
const LOAD0 = loadavg();
const deadline = T0 + cfg.budgetS * 1000;
const timeLeft = (): number => deadline - Date.now();
const notes: string[] = [];
function note(text: string): void {
  notes.push(text);
  process.stderr.write(`bench: ${text}\n`);
}
function progress(text: string): void {
  process.stderr.write(`bench [${((Date.now() - T0) / 1000).toFixed(0).padStart(3)} s] ${text}\n`);
}

// ------------------------------------------------------------------ sandbox plumbing

const sb = new Sandbox();
const tempDirs: string[] = [];
/** Empty network namespaces the firewall section adds to the host for a while (removed by cleanup too). */
const emptyNamespaces: string[] = [];

function inHost(argv: string[]): string[] {
  return ['nsenter', `--net=/run/netns/${sb.hostNs}`, '--', ...argv];
}
function inWan(argv: string[]): string[] {
  return ['nsenter', `--net=/run/netns/${sb.wanNs}`, '--', ...argv];
}

/**
 * The build under test. Other people rebuild dist/ (and reinstall node_modules) while a
 * benchmark runs, so by default the bench measures a copy taken at its start
 * (BENCH_SNAPSHOT=0 runs the working tree in place).
 */
let BUILD = REPO;
let MINICTR = join(REPO, 'bin', 'minictr');

async function snapshotBuild(): Promise<void> {
  if (process.env['BENCH_SNAPSHOT'] === '0') return;
  const dir = await mkdtemp(join(tmpdir(), `${sb.prefix}-build-`));
  tempDirs.push(dir);
  await cp(join(REPO, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  // The code cache is stamped with the bundle's size and mtime: keep both as they are.
  for (const f of ['minictr.cjs', 'minictr.cache', 'minictr-shim', 'minictr-dns', 'minictr-cni.cjs']) await cp(join(REPO, 'dist', f), join(dir, 'dist', f), { preserveTimestamps: true });
  await cp(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
  await cp(join(REPO, 'rootfs'), join(dir, 'rootfs'), { recursive: true });
  await cp(join(REPO, 'package.json'), join(dir, 'package.json'));
  await cp(join(REPO, 'node_modules'), join(dir, 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => !/\/node_modules\/(typescript|@types|\.bin)(\/|$)/.test(src),
  });
  await mkdir(join(dir, 'dist', 'bench'), { recursive: true });
  for (const f of ['trace-hook.js']) await cp(fileURLToPath(new URL(`./${f}`, import.meta.url)), join(dir, 'dist', 'bench', f));
  BUILD = dir;
  MINICTR = join(dir, 'bin', 'minictr');
  HOOK = join(dir, 'dist', 'bench', 'trace-hook.js');
}

async function buildInfo(): Promise<Record<string, string>> {
  const head = await timed(['git', '-C', REPO, 'log', '-1', '--format=%h %s']);
  const dirty = await timed(['git', '-C', REPO, 'status', '--short', '--', 'src']);
  const built = await stat(join(REPO, 'dist', 'src', 'cli', 'main.js')).then((st) => st.mtime.toISOString(), () => '?');
  return {
    commit: head.stdout.trim(),
    srcChanges: dirty.stdout.trim().split('\n').filter(Boolean).join(', ') || 'none',
    distBuilt: built,
    measured: BUILD === REPO ? 'working tree in place' : 'snapshot of dist/src, bin, rootfs, node_modules taken at start',
  };
}

/**
 * The environment `sudo` leaves (env_reset, the Debian default), since the main job is
 * `sudo minictr run …`. minictr and the floors both run in it: a caller's shell can hold
 * variables that slow every Node start (NODE_EXTRA_CA_CERTS makes Node read a CA bundle first).
 */
const SUDO_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LOGNAME: 'root',
  USER: 'root',
  SHELL: '/bin/sh',
  TERM: process.env['TERM'] ?? 'dumb',
  LANG: process.env['LANG'] ?? 'C.UTF-8',
};
/** The caller's variables that change how Node starts, which sudo would drop. */
const CALLER_NODE_VARS = Object.keys(process.env).filter((k) => k.startsWith('NODE_'));

/** minictr as the sandbox host runs it; `trace` loads the timing hook and names its output file. */
function mc(args: string[], options: { trace?: string; hook?: boolean; timeoutMs?: number } = {}): Promise<Timed> {
  const node = options.hook || options.trace ? [process.execPath, '--import', HOOK] : [process.execPath];
  const env = options.trace ? { ...SUDO_ENV, MINICTR_BENCH_TRACE: options.trace } : SUDO_ENV;
  return timed(inHost([...node, MINICTR, '--root', sb.root, ...args]), { timeoutMs: options.timeoutMs ?? 60_000, env });
}

/** The informative part of an error output: no stack frames, no blank lines. */
function firstLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !/^Node\.js v/.test(l));
  return lines.slice(0, 4).join(' | ').slice(0, 400);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function which(tool: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir, tool);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

interface ContainerState {
  pid: number;
  monitorPid: number;
}

async function containerState(id: string): Promise<ContainerState | undefined> {
  try {
    const rec = JSON.parse(await readFile(join(sb.root, 'containers', id, 'config.json'), 'utf8')) as { state: ContainerState };
    return rec.state;
  } catch {
    return undefined;
  }
}

async function containerIp(id: string): Promise<string | undefined> {
  try {
    const rec = JSON.parse(await readFile(join(sb.root, 'containers', id, 'config.json'), 'utf8')) as { network?: { ip?: string } };
    return rec.network?.ip;
  } catch {
    return undefined;
  }
}

async function iptablesRuleCount(): Promise<{ rules: number; ms: number }> {
  const r = await timed(inHost(['iptables-save']), { timeoutMs: 30_000 });
  return { rules: r.stdout.split('\n').filter((l) => l.startsWith('-A ')).length, ms: r.ms };
}

// ------------------------------------------------------------------ results

interface Row {
  section: string;
  item: string;
  unit: 'ms' | 'MB' | 'Gbit/s' | 'rules' | 'x';
  summary?: Summary | undefined;
  value?: number;
  ref?: string;
  target?: string;
}
const rows: Row[] = [];
const results: Record<string, unknown> = {};
const targets: { target: string; measured: string; met: boolean | undefined }[] = [];

function fmtVal(v: number | undefined, unit: Row['unit']): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  switch (unit) {
    case 'ms':
      return fmtMs(v);
    case 'MB':
      return `${v.toFixed(2)} MB`;
    case 'Gbit/s':
      return `${v.toFixed(2)} Gb/s`;
    case 'rules':
      return v.toFixed(v % 1 === 0 ? 0 : 2);
    case 'x':
      return `${v.toFixed(2)}x`;
  }
}

// ------------------------------------------------------------------ sections

let rootfs = '';
let rootfsTrueNote = '';

async function warmUp(): Promise<void> {
  progress('warm-up: first run builds the busybox image');
  const first = await mc(['run', '--rm', '--network', 'none', 'busybox', 'true'], { timeoutMs: 120_000 });
  if (first.code !== 0) throw new Error(`warm-up run failed (${first.code}): ${firstLine(first.stderr)}`);
  const firstBridge = await mc(['run', '--rm', '--network', 'bridge', 'busybox', 'true']);
  if (firstBridge.code !== 0) throw new Error(`warm-up bridge run failed (${firstBridge.code}): ${firstLine(firstBridge.stderr)}`);
  results['warmUp'] = { firstRunBuildsImageMs: first.ms, firstBridgeRunCreatesBridgeMs: firstBridge.ms };
  const index = JSON.parse(await readFile(join(sb.root, 'images', 'index.json'), 'utf8')) as {
    images: { id: string; repoTags: string[] }[];
  };
  const img = index.images.find((i) => i.repoTags.includes('busybox:latest'));
  if (!img) throw new Error('busybox image not found in the image index after the warm-up');
  rootfs = join(sb.root, 'images', 'store', img.id, 'rootfs');
  const probe = await timed(inHost(['unshare', '--fork', '--pid', '--mount', '--uts', '--ipc', '--net', 'chroot', rootfs, '/bin/true']));
  rootfsTrueNote =
    probe.code === 0
      ? "floor runs the image's own busybox: unshare --fork --pid --mount --uts --ipc --net chroot <image rootfs> /bin/true"
      : `chroot into the image failed (${firstLine(probe.stderr)}); floor runs the host's /bin/true instead`;
  if (probe.code !== 0) rootfs = '';
}

function floorUnshareArgv(): string[] {
  const base = ['unshare', '--fork', '--pid', '--mount', '--uts', '--ipc', '--net'];
  return inHost(rootfs ? [...base, 'chroot', rootfs, '/bin/true'] : [...base, '/bin/true']);
}

interface Variant {
  key: string;
  label: string;
  argv?: string[];
  mc?: string[];
}

const LATENCY: Variant[] = [
  { key: 'floorNode', label: 'floor: node -e 0', argv: [] },
  { key: 'floorUnshare', label: 'floor: unshare … chroot rootfs /bin/true', argv: [] },
  ...(CALLER_NODE_VARS.length > 0
    ? [{ key: 'callerNode', label: `node -e 0 with the caller's ${CALLER_NODE_VARS.join(', ')} (not a floor; sudo drops it)`, argv: [] }]
    : []),
  { key: 'version', label: 'node bin/minictr --version', mc: ['--version'] },
  { key: 'none', label: 'run --rm --network none busybox true', mc: ['run', '--rm', '--network', 'none', 'busybox', 'true'] },
  { key: 'bridge', label: 'run --rm --network bridge busybox true', mc: ['run', '--rm', '--network', 'bridge', 'busybox', 'true'] },
  {
    key: 'bridgeP',
    label: 'run --rm --network bridge -p 5005:5000 busybox true',
    mc: ['run', '--rm', '--network', 'bridge', '-p', '5005:5000', 'busybox', 'true'],
  },
];

let floorMs = NaN;

async function latency(): Promise<void> {
  progress(`latency: ${cfg.reps} rounds of ${LATENCY.length} commands`);
  const samples: Record<string, number[]> = {};
  const failures: Record<string, string> = {};
  for (const v of LATENCY) samples[v.key] = [];
  for (let rep = 0; rep < cfg.reps; rep++) {
    if (timeLeft() < 0) {
      note(`latency: budget exhausted after ${rep} rounds`);
      break;
    }
    for (let i = 0; i < LATENCY.length; i++) {
      const v = LATENCY[(i + rep) % LATENCY.length] as Variant;
      let r: Timed;
      if (v.key === 'floorNode') r = await timed(inHost([process.execPath, '-e', '0']), { env: SUDO_ENV });
      else if (v.key === 'callerNode') r = await timed(inHost([process.execPath, '-e', '0']));
      else if (v.key === 'floorUnshare') r = await timed(floorUnshareArgv(), { env: SUDO_ENV });
      else r = await mc(v.mc ?? []);
      if (r.code === 0) samples[v.key]?.push(r.ms);
      else failures[v.key] ??= `exit ${r.code}: ${firstLine(r.stderr)}`;
    }
  }
  const s = Object.fromEntries(LATENCY.map((v) => [v.key, summarize(samples[v.key] ?? [])]));
  const warm = results['warmUp'] as { firstRunBuildsImageMs: number; firstBridgeRunCreatesBridgeMs: number } | undefined;
  if (warm) {
    rows.push({ section: 'start latency', item: 'first run ever (builds the busybox image), once', unit: 'ms', value: warm.firstRunBuildsImageMs });
    rows.push({ section: 'start latency', item: 'first bridge run (creates bridge + chains), once', unit: 'ms', value: warm.firstBridgeRunCreatesBridgeMs });
  }
  floorMs = (s['floorNode']?.median ?? NaN) + (s['floorUnshare']?.median ?? NaN);
  for (const v of LATENCY) {
    const sum = s[v.key];
    const isFloor = v.key.startsWith('floor') || v.key === 'callerNode';
    rows.push({
      section: 'start latency',
      item: v.label + (failures[v.key] ? ' (FAILURES)' : ''),
      unit: 'ms',
      summary: sum,
      ...(isFloor ? {} : { ref: sum ? `${(sum.median / floorMs).toFixed(2)}x floor` : '-' }),
      ...(v.key === 'bridgeP' ? { target: '≤ 2x floor, ≤ 150 ms' } : {}),
    });
  }
  rows.push({ section: 'start latency', item: 'floor = node -e 0 + unshare (sum of medians)', unit: 'ms', value: floorMs });
  const bp = s['bridgeP'];
  if (bp) {
    targets.push({
      target: 'run --rm --network bridge -p 5005:5000 busybox true ≤ 2x floor',
      measured: `${fmtMs(bp.median)} = ${(bp.median / floorMs).toFixed(2)}x floor (${fmtMs(floorMs)})`,
      met: bp.median <= 2 * floorMs,
    });
    targets.push({ target: 'same, ≤ 150 ms median', measured: fmtMs(bp.median), met: bp.median <= 150 });
  }
  results['latency'] = { samples, summaries: s, failures, floorMs, floorNote: rootfsTrueNote, throughNsenter: true };
  for (const [k, f] of Object.entries(failures)) note(`latency ${k} failed at least once: ${f}`);
}

// ---- what loading minictr's modules costs (each import in a fresh node, timed inside it)

async function modules(): Promise<void> {
  const reps = Math.min(cfg.reps, 5);
  progress(`module loading: ${reps} rounds`);
  const specs: [string, string][] = [
    ['whole CLI graph: import dist/src/cli/program.js', './dist/src/cli/program.js'],
    ['  execa alone', 'execa'],
    ['  commander alone', 'commander'],
    ['  tar alone', 'tar'],
    ['  proper-lockfile alone', 'proper-lockfile'],
    ['  ip-cidr alone', 'ip-cidr'],
  ];
  const samples: Record<string, number[]> = Object.fromEntries(specs.map(([k]) => [k, []]));
  const failures: Record<string, string> = {};
  for (let rep = 0; rep < reps && timeLeft() > 0; rep++) {
    for (const [label, spec] of specs) {
      const code = `const t = performance.now(); await import(${JSON.stringify(spec)}); process.stdout.write(String(performance.now() - t));`;
      const r = await timed([process.execPath, '--input-type=module', '-e', code], { cwd: BUILD, timeoutMs: 30_000 });
      const ms = Number(r.stdout.trim());
      if (r.code === 0 && Number.isFinite(ms)) samples[label]?.push(ms);
      else failures[label] ??= `exit ${r.code}: ${firstLine(r.stderr)}`;
    }
  }
  for (const [label] of specs) {
    rows.push({ section: 'node module loading (import time inside node)', item: label, unit: 'ms', summary: summarize(samples[label] ?? []) });
  }
  results['modules'] = { samples, failures };
  for (const [k, f] of Object.entries(failures)) note(`module ${k.trim()} failed to load: ${f}`);
}

// ---- where the time goes in one start

interface PhaseSet {
  [phase: string]: number;
}

function spawnLabel(argv: string[], afterMonitor: boolean): string {
  const [file, ...args] = argv;
  const phase = afterMonitor ? 'teardown' : 'setup';
  if (file === 'ip') {
    if (args.includes('-batch')) return `${phase}: ip ${args[0] === '-n' ? '-n NS ' : ''}-batch`;
    return `${phase}: ip ${args.slice(0, 2).join(' ')}`;
  }
  if (file === 'iptables') return `${phase}: iptables ${args.includes('-C') ? '-C (check)' : args.slice(0, 4).join(' ')}`;
  if (file === 'iptables-restore') return `${phase}: iptables-restore`;
  if (file === '/bin/sh') return 'container: monitor /bin/sh (init script + command)';
  return `${phase}: ${file ?? '?'}`;
}

/** Phases of a traced run, also the column keys of the scale detail. */
const PHASE = {
  boot: 'node bootstrap (process start → launcher)',
  compile: 'read + compile the bundle (with the code cache)',
  evaluate: 'evaluate its modules, parse argv, start main',
  prepare: 'prepare: image, record, locks, lazy imports (→ first host command)',
} as const;

function analyseTrace(trace: Trace, wallMs: number): { phases: PhaseSet; commands: Record<string, number>; counts: Record<string, number>; locks: Record<string, number> } {
  const monitor = trace.spawns.find((s) => s.argv[0] === '/bin/sh');
  const mStart = monitor?.start ?? NaN;
  // A detached container's monitor outlives minictr: its phase ends when minictr exits.
  const detached = monitor !== undefined && monitor.end < 0;
  const mEnd = detached ? trace.exit : (monitor?.end ?? NaN);
  const pre = trace.spawns.filter((s) => s !== monitor && s.start < mStart);
  const post = trace.spawns.filter((s) => s !== monitor && s.start >= mStart);
  const firstSpawn = pre[0]?.start ?? mStart;
  const lastEnd = Math.max(mEnd, ...post.map((s) => s.end));
  const sumDur = (list: typeof pre): number => list.reduce((a, s) => a + (s.end - s.start), 0);
  const phases: PhaseSet = {
    [PHASE.boot]: trace.hookLoaded,
    [PHASE.compile]: trace.compiled - trace.hookLoaded,
    [PHASE.evaluate]: trace.evaluated - trace.compiled,
    [PHASE.prepare]: firstSpawn - trace.evaluated,
    'network setup (first host command → monitor spawned)': mStart - firstSpawn,
    '  of which in child processes (setup)': sumDur(pre),
    [detached ? 'container: monitor spawned → pid file seen, record updated' : 'container: monitor + init script + `true`']: mEnd - mStart,
    'teardown after exit (host commands, records)': lastEnd - mEnd,
    '  of which in child processes (teardown)': sumDur(post),
    'node exit (last command → process exit)': trace.exit - lastEnd,
    'process teardown + nsenter (outside node)': wallMs - trace.exit,
  };
  const commands: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const s of trace.spawns) {
    const label = spawnLabel(s.argv, s !== monitor && s.start >= mStart);
    commands[label] = (commands[label] ?? 0) + (s.end - s.start);
    counts[label] = (counts[label] ?? 0) + 1;
  }
  const locks: Record<string, number> = {};
  for (const l of trace.locks) {
    locks[`lock ${l.name}: wait`] = (locks[`lock ${l.name}: wait`] ?? 0) + (l.acquired - l.requested);
    locks[`lock ${l.name}: held`] = (locks[`lock ${l.name}: held`] ?? 0) + (l.released - l.acquired);
    locks[`lock ${l.name}: count`] = (locks[`lock ${l.name}: count`] ?? 0) + 1;
  }
  return { phases, commands, counts, locks };
}

function medianOfRecords(list: Record<string, number>[]): Record<string, Summary | undefined> {
  const keys = [...new Set(list.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, summarize(list.map((r) => r[k] ?? 0))]));
}

async function breakdown(): Promise<void> {
  progress(`breakdown: ${cfg.traceReps} traced runs of run --rm -p, one --explain run`);
  const dir = await mkdtemp(join(tmpdir(), `${sb.prefix}-trace-`));
  tempDirs.push(dir);
  const analysed = [];
  for (let i = 0; i < cfg.traceReps && timeLeft() > 0; i++) {
    const file = join(dir, `run-${i}.json`);
    const r = await mc(['run', '--rm', '--network', 'bridge', '-p', '5005:5000', 'busybox', 'true'], { trace: file });
    if (r.code !== 0) {
      note(`traced run failed: ${firstLine(r.stderr)}`);
      continue;
    }
    const trace = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as Trace | null;
    if (!trace) {
      note('traced run wrote no trace');
      continue;
    }
    analysed.push({ wall: r.ms, ...analyseTrace(trace, r.ms) });
  }
  const phases = medianOfRecords(analysed.map((a) => a.phases));
  const commands = medianOfRecords(analysed.map((a) => a.commands));
  const counts = medianOfRecords(analysed.map((a) => a.counts));
  const locks = medianOfRecords(analysed.map((a) => a.locks));
  const wall = summarize(analysed.map((a) => a.wall));
  // One --explain run: minictr's own step times.
  const ex = await mc(['run', '--rm', '--explain', '--network', 'bridge', '-p', '5005:5000', 'busybox', 'true']);
  const steps: { ms: number; why: string }[] = [];
  for (const m of ex.stderr.matchAll(/^\[\s*([\d.]+) ms\] # (.*)$/gm)) steps.push({ ms: Number(m[1]), why: m[2] ?? '' });
  results['breakdown'] = { runs: analysed.length, wall, phases, commands, counts, locks, explainSteps: steps, explainWallMs: ex.ms };
}

// ---- many at once (issue #20): 20 run -d one after another and all at once, one rm -f of
// the 20, and ps -a with 30 beside --version; Docker and Podman in the same run, in the sandbox.

const MANY = 20;
const RUN_D = ['run', '-d', '--network', 'bridge', 'busybox', 'sleep', '1000'];

interface ManyFigures {
  sequential: number;
  concurrent: number;
  rmAll: number;
  failures: number;
}

/** 20 detached starts one after another, removed with one rm -f, then 20 all at once, removed likewise. */
async function startMany(run: (args: string[], trace?: string) => Promise<Timed>, traceDir?: string): Promise<ManyFigures & { traces: string[] }> {
  const ids = (rs: Timed[]): string[] => rs.filter((r) => r.code === 0).map((r) => r.stdout.trim().split('\n').pop() ?? '');
  let failures = 0;
  let t = performance.now();
  const seq: Timed[] = [];
  for (let i = 0; i < MANY; i++) seq.push(await run(RUN_D));
  const sequential = performance.now() - t;
  failures += seq.filter((r) => r.code !== 0).length;
  await run(['rm', '-f', ...ids(seq)]);
  const traces = traceDir ? Array.from({ length: MANY }, (_, i) => join(traceDir, `conc-${i}.json`)) : [];
  t = performance.now();
  const conc = await Promise.all(Array.from({ length: MANY }, (_, i) => run(RUN_D, traces[i])));
  const concurrent = performance.now() - t;
  failures += conc.filter((r) => r.code !== 0).length;
  const rm = await run(['rm', '-f', ...ids(conc)]);
  return { sequential, concurrent, rmAll: rm.ms, failures: failures + (rm.code === 0 ? 0 : 1), traces };
}

/** Where the concurrent starts waited: per lock kind, the median over the starts of their summed waits. */
async function lockWaits(traces: string[]): Promise<Record<string, Summary | undefined>> {
  const per: Record<string, number[]> = {};
  for (const file of traces) {
    const trace = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as Trace | null;
    if (!trace) continue;
    const sums: Record<string, number> = {};
    for (const l of trace.locks) {
      const kind = l.name.replace(/\.lock$/, '').replace(/-[0-9a-f]{64}$/, '-<id>');
      sums[kind] = (sums[kind] ?? 0) + (l.acquired - l.requested);
    }
    for (const [k, v] of Object.entries(sums)) (per[k] ??= []).push(v);
  }
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, summarize(v)]));
}

async function many(): Promise<void> {
  progress(`many: ${MANY} run -d one after another and at once, per engine`);
  const traceDir = await mkdtemp(join(tmpdir(), `${sb.prefix}-many-`));
  tempDirs.push(traceDir);
  const figures: Record<string, ManyFigures> = {};
  const mine = await startMany((args, trace) => mc(args, trace ? { trace } : {}), traceDir);
  figures['minictr'] = mine;
  const waits = await lockWaits(mine.traces);

  // ps -a with 30 containers beside --version, alternated.
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await mc(RUN_D);
    if (r.code === 0) ids.push(r.stdout.trim());
  }
  const ps: number[] = [];
  const version: number[] = [];
  for (let i = 0; i < cfg.reps; i++) {
    version.push((await mc(['--version'])).ms);
    ps.push((await mc(['ps', '-a'])).ms);
  }
  await mc(['rm', '-f', ...ids]);

  const notes: string[] = [];
  const engineWork = await mkdtemp(join(sb.root, 'engines-'));
  for (const make of [
    () => sandboxedDocker(inHost, engineWork, SUDO_ENV),
    () => sandboxedPodman(inHost, engineWork, SUDO_ENV, PODMAN_WORKAROUND),
  ]) {
    if (timeLeft() < 0) break;
    const engine = await make();
    if (typeof engine === 'string') {
      notes.push(engine);
      continue;
    }
    try {
      const tar = join(sb.root, `busybox-for-${engine.name}.tar`);
      await mc(['save', '-o', tar, 'busybox']);
      const load = await timed(engine.argv(['load', '-i', tar]), { env: engine.env, timeoutMs: 120_000 });
      await rm(tar, { force: true });
      if (load.code !== 0) {
        notes.push(`${engine.name}: could not load busybox (${firstLine(load.stderr)}): not measured`);
        continue;
      }
      const runFlags = engine.name === 'podman' ? PODMAN_RUN_WORKAROUND : [];
      const run = (args: string[]): Promise<Timed> =>
        timed(engine.argv(args[0] === 'run' ? ['run', ...runFlags, ...args.slice(1)] : args), { env: engine.env, timeoutMs: 120_000 });
      await run(['run', '--rm', '--network', 'none', 'busybox', 'true']);
      figures[engine.name] = await startMany(run);
      notes.push(`${engine.name}: measured in the sandbox host namespace, with its own state dirs`);
    } finally {
      await engine.stop();
    }
  }

  for (const [name, f] of Object.entries(figures)) {
    rows.push({ section: 'many at once', item: `${name}: ${MANY} × run -d, one after another`, unit: 'ms', value: f.sequential });
    rows.push({ section: 'many at once', item: `${name}: ${MANY} × run -d, all at once`, unit: 'ms', value: f.concurrent, ref: `${(f.sequential / f.concurrent).toFixed(2)}x faster` });
    rows.push({ section: 'many at once', item: `${name}: one rm -f of the ${MANY}`, unit: 'ms', value: f.rmAll });
    if (f.failures > 0) note(`many: ${name}: ${f.failures} command(s) failed`);
  }
  for (const [lock, sum] of Object.entries(waits)) {
    rows.push({ section: 'many at once', item: `minictr, all at once: wait for lock ${lock}, per start`, unit: 'ms', summary: sum });
  }
  const psSum = summarize(ps);
  const versionSum = summarize(version);
  rows.push({ section: 'many at once', item: 'ps -a with 30 containers', unit: 'ms', summary: psSum, ref: psSum && versionSum ? `${(psSum.median / versionSum.median).toFixed(2)}x --version` : '-' });
  rows.push({ section: 'many at once', item: 'minictr --version', unit: 'ms', summary: versionSum });

  const m = mine;
  const d = figures['docker'];
  const p = figures['podman'];
  targets.push({ target: `${MANY} concurrent run -d ≥ 2x faster than ${MANY} sequential`, measured: `${(m.sequential / m.concurrent).toFixed(2)}x (${fmtMs(m.sequential)} vs ${fmtMs(m.concurrent)})`, met: m.sequential >= 2 * m.concurrent });
  for (const [kind, key] of [['sequential', 'sequential'], ['concurrent', 'concurrent']] as const) {
    if (d) targets.push({ target: `${MANY} run -d ${kind} ≤ 1/3 of Docker's`, measured: `${fmtMs(m[key])} vs ${fmtMs(d[key])} = ${(m[key] / d[key]).toFixed(2)}`, met: m[key] <= d[key] / 3 });
    if (p) targets.push({ target: `${MANY} run -d ${kind} ≤ 1/2 of Podman's`, measured: `${fmtMs(m[key])} vs ${fmtMs(p[key])} = ${(m[key] / p[key]).toFixed(2)}`, met: m[key] <= p[key] / 2 });
  }
  if (d) targets.push({ target: `one rm -f of ${MANY} ≤ 1/3 of Docker's`, measured: `${fmtMs(m.rmAll)} vs ${fmtMs(d.rmAll)} = ${(m.rmAll / d.rmAll).toFixed(2)}`, met: m.rmAll <= d.rmAll / 3 });
  if (psSum && versionSum) {
    targets.push({ target: 'ps -a with 30 containers ≤ 1.3x minictr --version', measured: `${fmtMs(psSum.median)} vs ${fmtMs(versionSum.median)} = ${(psSum.median / versionSum.median).toFixed(2)}x`, met: psSum.median <= 1.3 * versionSum.median });
  }
  for (const n of notes) note(`many: ${n}`);
  results['many'] = { figures, lockWaits: waits, ps, version, engines: notes };
}

// ---- what a container's own cgroup adds to its start (issue #18)

async function cgroupCost(): Promise<void> {
  progress(`cgroup: ${cfg.reps} rounds of run --rm with and without limits, and the cgroup's own ops`);
  const plain = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
  const limited = ['run', '--rm', '--network', 'none', '--memory', '64m', '--cpus', '1', '--pids-limit', '100', 'busybox', 'true'];
  const samples = { plain: [] as number[], limited: [] as number[], create: [] as number[], remove: [] as number[] };
  const facts = await cgroupFacts();
  const runner = new HostRunner();
  const limits = { ...NO_RESOURCES, memory: 64 * 1024 * 1024, memorySwap: 128 * 1024 * 1024, nanoCpus: 1e9, pidsLimit: 100 };
  for (let rep = 0; rep < cfg.reps && timeLeft() > 0; rep++) {
    for (const [key, args] of (rep % 2 ? [['limited', limited], ['plain', plain]] : [['plain', plain], ['limited', limited]]) as [keyof typeof samples, string[]][]) {
      const r = await mc(args);
      if (r.code === 0) samples[key].push(r.ms);
      else note(`cgroup: ${args.join(' ')} failed: ${firstLine(r.stderr)}`);
    }
    // The same mkdirs, limit writes and rmdirs minictr applies, for a cgroup no process enters.
    const record = { version: facts.version, path: cgroupPath('minictr', randomBytes(32).toString('hex')) };
    let t = performance.now();
    await applyPlan(planCgroupCreate(facts, record, limits), runner);
    samples.create.push(performance.now() - t);
    t = performance.now();
    await applyPlan(planCgroupRemove(facts, record), runner);
    samples.remove.push(performance.now() - t);
  }
  const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
  rows.push({ section: 'cgroup', item: 'run --rm --network none busybox true (a cgroup, no limits)', unit: 'ms', summary: s['plain'] });
  rows.push({ section: 'cgroup', item: 'same with --memory 64m --cpus 1 --pids-limit 100', unit: 'ms', summary: s['limited'] });
  rows.push({ section: 'cgroup', item: `the cgroup's mkdirs and limit writes (v${facts.version}), in-process`, unit: 'ms', summary: s['create'] });
  rows.push({ section: 'cgroup', item: "the cgroup's rmdirs, in-process", unit: 'ms', summary: s['remove'] });
  results['cgroup'] = { samples, summaries: s, version: facts.version };
}

// ---- the console shim's own cost, and a restart loop left alone (issue #17)

/** Resident memory of a process, from /proc (kB → MB). */
async function rssMb(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter(Boolean).map(Number);
}

async function consoleCost(): Promise<void> {
  progress('console: the shim of an idle container, and a restart loop of `false` left alone');
  const id = firstLine((await mc(['run', '-d', '--network', 'none', 'busybox', 'sleep', '600'])).stdout);
  const state = await containerState(id);
  const monitor = state?.monitorPid ?? 0;
  const [shim] = await childPids(monitor);
  const shimMb = shim ? await rssMb(shim) : undefined;
  const monitorMb = await rssMb(monitor);
  rows.push({ section: 'console', item: 'minictr-shim of an idle container (holds its console, writes its log), RSS', unit: 'MB', ...(shimMb !== undefined ? { value: shimMb } : {}) });
  rows.push({ section: 'console', item: 'its monitor shell, RSS (for comparison)', unit: 'MB', ...(monitorMb !== undefined ? { value: monitorMb } : {}) });
  await mc(['rm', '-f', id]);

  // A container that fails at once under --restart always: every process minictr starts for it
  // (the run, its monitor, shims, back-off waiters, exit handling) lives in one cgroup of the
  // bench's, so their CPU time and peak memory are read from the kernel; the container's own
  // processes are in its own cgroup.
  const seconds = Math.round(envNum('BENCH_RESTART_S', QUICK ? 20 : 60));
  const facts = await cgroupFacts();
  const name = `minictr-bench-${randomBytes(4).toString('hex')}`;
  const dirs = facts.version === 1 ? [`/sys/fs/cgroup/cpuacct/${name}`, `/sys/fs/cgroup/memory/${name}`] : [`/sys/fs/cgroup/${name}`];
  for (const d of dirs) await mkdir(d);
  try {
    const enter = dirs.map((d) => `echo $$ > ${d}/cgroup.procs`).join('; ');
    const started = await timed(inHost(['sh', '-c', `${enter}; exec "$@"`, 'sh', process.execPath, MINICTR, '--root', sb.root,
      'run', '-d', '--name', 'restart-loop', '--restart', 'always', '--network', 'none', 'busybox', 'false']), { env: SUDO_ENV });
    if (started.code !== 0) throw new Error(`restart loop: ${firstLine(started.stderr)}`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const inspect = await mc(['inspect', '-f', '{{.RestartCount}}', 'restart-loop']);
    const cpuNs = facts.version === 1
      ? Number(await readFile(`${dirs[0]}/cpuacct.usage`, 'utf8'))
      : Number(/^usage_usec (\d+)/m.exec(await readFile(`${dirs[0]}/cpu.stat`, 'utf8'))?.[1] ?? NaN) * 1000;
    const peak = facts.version === 1
      ? Number(await readFile(`${dirs[1]}/memory.max_usage_in_bytes`, 'utf8'))
      : Number(await readFile(`${dirs[0]}/memory.peak`, 'utf8').catch(() => 'NaN'));
    const restarts = Number(inspect.stdout.trim());
    rows.push({ section: 'console', item: `restart loop of \`false\` (--restart always) left ${seconds} s: restarts (Docker's back-off: 100 ms doubling)`, unit: 'rules', value: restarts });
    rows.push({ section: 'console', item: `  CPU time of everything minictr ran for it in those ${seconds} s`, unit: 'ms', value: cpuNs / 1e6 });
    rows.push({ section: 'console', item: '  peak memory of all of it at once', unit: 'MB', value: peak / 1024 / 1024 });
    results['console'] = { shimMb, monitorMb, restartLoop: { seconds, restarts, cpuMs: cpuNs / 1e6, peakMb: peak / 1024 / 1024 } };
  } finally {
    await mc(['rm', '-f', 'restart-loop']);
    for (const d of dirs) {
      // The processes leave as the container is removed; the cgroup goes once they have.
      for (let i = 0; i < 50 && !(await rmdir(d).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---- the Engine API: docker run through minictr serve beside minictr run (issue #14)

async function apiCost(): Promise<void> {
  if (!(await which('docker'))) {
    note('api: skipped, no docker CLI (apt-get install docker.io)');
    return;
  }
  progress(`api: ${cfg.reps} rounds of docker run --rm through minictr serve beside minictr run --rm`);
  const socket = join(sb.root, 'bench-api.sock');
  const server = sb.background('host', ['env', ...Object.entries(SUDO_ENV).map(([k, v]) => `${k}=${v ?? ''}`), process.execPath, MINICTR, '--root', sb.root, 'serve', '--host', `unix://${socket}`]);
  try {
    const docker = (args: string[]): Promise<Timed> => timed(['docker', ...args], { env: { ...SUDO_ENV, DOCKER_HOST: `unix://${socket}` }, timeoutMs: 60_000 });
    for (let i = 0; i < 100 && (await docker(['version'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    const viaApi: number[] = [];
    const viaCli: number[] = [];
    const viaDockerd: number[] = [];
    const args = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
    // dockerd beside them, in the sandbox with its own dirs, given the very busybox minictr runs.
    const engineWork = await mkdtemp(join(sb.root, 'api-dockerd-'));
    const dockerd = await sandboxedDocker(inHost, engineWork, SUDO_ENV);
    if (typeof dockerd === 'string') note(`api: ${dockerd}`);
    else {
      const tar = join(engineWork, 'busybox.tar');
      await mc(['save', '-o', tar, 'busybox']);
      const load = await timed(dockerd.argv(['load', '-i', tar]), { env: dockerd.env, timeoutMs: 120_000 });
      if (load.code !== 0) note(`api: dockerd could not load busybox (${firstLine(load.stderr)}): not measured`);
      else await timed(dockerd.argv(args), { env: dockerd.env, timeoutMs: 60_000 });
    }
    try {
      for (let rep = 0; rep < cfg.reps && timeLeft() > 0; rep++) {
        const a = await docker(args);
        if (a.code === 0) viaApi.push(a.ms);
        else note(`api: docker ${args.join(' ')} failed: ${firstLine(a.stderr)}`);
        const c = await mc(args);
        if (c.code === 0) viaCli.push(c.ms);
        if (typeof dockerd !== 'string') {
          const d = await timed(dockerd.argv(args), { env: dockerd.env, timeoutMs: 60_000 });
          if (d.code === 0) viaDockerd.push(d.ms);
        }
      }
    } finally {
      if (typeof dockerd !== 'string') await dockerd.stop();
    }
    if (viaDockerd.length > 0) rows.push({ section: 'api', item: 'docker run --rm --network none busybox true, against dockerd (same rounds)', unit: 'ms', summary: summarize(viaDockerd) });
    // nsenter and env exec the server in place: the pid is the server's.
    const idleMb = server.pid ? await rssMb(server.pid) : undefined;
    rows.push({ section: 'api', item: 'docker run --rm --network none busybox true, through minictr serve', unit: 'ms', summary: summarize(viaApi) });
    rows.push({ section: 'api', item: 'minictr run --rm --network none busybox true, same rounds', unit: 'ms', summary: summarize(viaCli) });
    rows.push({ section: 'api', item: 'minictr serve, idle after those runs, RSS', unit: 'MB', ...(idleMb !== undefined ? { value: idleMb } : {}) });
    results['api'] = { viaApi, viaCli, viaDockerd, idleMb };
  } finally {
    server.kill('SIGTERM');
  }
}

// ---- the embedded DNS of user-defined networks: its cost per start, and the resolver's own

async function dnsCost(): Promise<void> {
  progress(`dns: ${cfg.reps} rounds of run --rm on a user-defined network, the resolver's start and memory`);
  const binary = resolverBinary();
  if (!binary) {
    note('dns: dist/minictr-dns is not built; skipped');
    return;
  }
  const net = 'benchdns';
  if ((await mc(['network', 'create', net])).code !== 0) throw new Error('dns: network create failed');
  const run = ['run', '--rm', '--network', net, 'busybox', 'true'];
  const samples = { cold: [] as number[], warm: [] as number[], bridge: [] as number[], start: [] as number[], aardvark: [] as number[] };
  const resident: string[] = [];
  try {
    // Cold: the run starts the resolver and stops it again (nothing else on a user network).
    for (let rep = 0; rep < cfg.reps && timeLeft() > 0; rep++) {
      const r = await mc(run);
      if (r.code === 0) samples.cold.push(r.ms);
      const b = await mc(['run', '--rm', '--network', 'bridge', 'busybox', 'true']);
      if (b.code === 0) samples.bridge.push(b.ms);
    }
    // Warm: a resident container keeps the resolver up; each run starts it anew twice.
    const first = await mc(['run', '-d', '--network', net, 'busybox', 'sleep', '600']);
    resident.push(first.stdout.trim());
    for (let rep = 0; rep < cfg.reps && timeLeft() > 0; rep++) {
      const r = await mc(run);
      if (r.code === 0) samples.warm.push(r.ms);
    }
    const pidOf = async () => Number((await readFile(join(sb.root, 'dns', 'resolver.pid'), 'utf8').catch(() => '0')).trim());
    const rss1 = (await rssMb(await pidOf())) ?? NaN;
    for (let i = 1; i < 20 && timeLeft() > 0; i++) {
      const r = await mc(['run', '-d', '--network', net, 'busybox', 'sleep', '600']);
      if (r.code === 0) resident.push(r.stdout.trim());
    }
    const rssN = (await rssMb(await pidOf())) ?? NaN;
    // The resolver alone: from its start to its first answer, on a loopback address of the sandbox host
    // (the asker, 127.0.0.1, is listed as a member: strangers are refused).
    const dir = await mkdtemp(join(tmpdir(), 'mc-bench-dns-'));
    tempDirs.push(dir);
    await writeFile(join(dir, 'probe'), `127.0.0.2\n${'0'.repeat(64)} 127.0.0.1  probe\n`);
    // The same probe with Debian's aardvark-dns (Podman's resolver), when installed: the choice's other side.
    const aardvark = '/usr/lib/podman/aardvark-dns';
    const candidates: [string, string[], string, number[]][] = [
      ['minictr-dns', [binary, '--config', dir, '--port', '53'], 'resolver.pid', samples.start],
      ...((await exists(aardvark)) ? [['aardvark-dns', [aardvark, '--config', dir, '-p', '53', 'run'], 'aardvark.pid', samples.aardvark] as [string, string[], string, number[]]] : []),
    ];
    const probeRss: Record<string, number> = {};
    for (const [name, argv, pidFile, into] of candidates) {
      for (let rep = 0; rep < cfg.reps && timeLeft() > 0; rep++) {
        const t = performance.now();
        const started = await timed(inHost(argv));
        let ok = started.code === 0;
        while (ok && (await timed(inHost(['busybox', 'nslookup', 'probe', '127.0.0.2']), { timeoutMs: 2_000 })).code !== 0) {
          ok = performance.now() - t < 3_000;
        }
        if (ok) into.push(performance.now() - t);
        const pid = Number((await readFile(join(dir, pidFile), 'utf8').catch(() => '0')).trim());
        if (pid > 0) {
          probeRss[name] = (await rssMb(pid)) ?? NaN;
          try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        await rm(join(dir, pidFile), { force: true });
      }
    }
    const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
    rows.push({ section: 'embedded DNS', item: 'run --rm --network bridge busybox true (no DNS), same rounds', unit: 'ms', summary: s['bridge'] });
    rows.push({ section: 'embedded DNS', item: 'run --rm on a user network: the run starts and stops the resolver', unit: 'ms', summary: s['cold'] });
    rows.push({ section: 'embedded DNS', item: 'same, resolver already up (told to reload at the start and the exit)', unit: 'ms', summary: s['warm'] });
    rows.push({ section: 'embedded DNS', item: 'minictr-dns start → first answer (incl. one nslookup process)', unit: 'ms', summary: s['start'] });
    rows.push({ section: 'embedded DNS', item: 'resolver memory (VmRSS), 1 container', unit: 'MB', value: rss1 });
    rows.push({ section: 'embedded DNS', item: `resolver memory (VmRSS), ${resident.length} containers`, unit: 'MB', value: rssN });
    if (samples.aardvark.length > 0) {
      rows.push({ section: 'embedded DNS', item: 'aardvark-dns 1.4 (for comparison) start → first answer', unit: 'ms', summary: s['aardvark'] });
      rows.push({ section: 'embedded DNS', item: 'aardvark-dns 1.4 (for comparison) memory (VmRSS), one network', unit: 'MB', value: probeRss['aardvark-dns'] ?? NaN });
    }
    rows.push({ section: 'embedded DNS', item: 'minictr-dns memory (VmRSS), one network', unit: 'MB', value: probeRss['minictr-dns'] ?? NaN });
    results['dns'] = { samples, summaries: s, rss1, rssN, probeRss, containers: resident.length };
  } finally {
    if (resident.length > 0) await mc(['rm', '-f', ...resident]);
    await mc(['network', 'rm', net]);
  }
}

// ---- the init script alone, and a what-if with busybox sh

async function initScript(): Promise<void> {
  if (!rootfs) {
    note('init-script micro-benchmark skipped: no image rootfs');
    return;
  }
  progress(`init script: ${cfg.reps} rounds`);
  const variants = ['the init script (as minictr runs it)'] as const;
  const samples: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  const failures: Record<string, string> = {};
  const work = await mkdtemp(join(sb.root, 'bench-init-'));
  // Made once, as for a state root: not part of any timed start.
  const devTemplate = join(work, 'dev');
  await ensureDevTemplate(new HostRunner(), hostTools().busybox, devTemplate);
  const build = async (n: number, _variant: (typeof variants)[number]): Promise<{ argv: string[]; env: Record<string, string> }> => {
    const d = join(work, String(n));
    const merged = join(d, 'merged');
    const upper = join(d, 'upper');
    const workdir = join(d, 'work');
    await Promise.all([mkdir(merged, { recursive: true }), mkdir(upper, { recursive: true }), mkdir(workdir, { recursive: true })]);
    // The files minictr writes before every start, which stage 2 bind-mounts over the image's.
    await applyPlan(planContainerEtc(d, containerEtcFiles({ hostname: 'benchinit', hostNetwork: false }, await readHostEtc())), new HostRunner());
    const ic = initCommand({
      dir: d,
      pidFile: join(d, 'pid'),
      execMark: join(d, 'exec-ready'),
      merged,
      overlay: { lower: rootfs, upper, work: workdir },
      networkMode: 'none',
      hostname: 'benchinit',
      workdir: '/',
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      command: ['true'],
      oldroot: `.minictr-oldroot-${n}`,
      mounts: [],
      readonlyRoot: false,
      cgroupJoin: [],
      tty: false,
      ...hostTools(),
      devTemplate,
    });
    return { argv: [...ic.argv], env: ic.env };
  };
  let n = 0;
  for (let rep = 0; rep < cfg.reps && timeLeft() > 0; rep++) {
    for (const variant of rep % 2 === 0 ? variants : [...variants].reverse()) {
      const { argv, env } = await build(n++, variant);
      const r = await timed(inHost(argv), { env, timeoutMs: 30_000 });
      if (r.code === 0) samples[variant]?.push(r.ms);
      else failures[variant] ??= `exit ${r.code}: ${firstLine(r.stderr)}`;
    }
  }
  // How many processes each variant forks and execs (one run under strace, not timed).
  const processes: Record<string, { processes: number; execs: number } | string> = {};
  const strace = await which('strace');
  if (strace) {
    for (const variant of variants) {
      const { argv, env } = await build(n++, variant);
      const out = join(work, `strace-${n}.txt`);
      const r = await timed(
        [strace, '-f', '-qq', '-e', 'trace=execve,exit_group', '-o', out, ...inHost(argv)],
        { env: { ...env, PATH: process.env['PATH'] ?? env['PATH'] ?? '' }, timeoutMs: 30_000 },
      );
      const text = await readFile(out, 'utf8').catch(() => '');
      const pids = new Set(text.split('\n').map((l) => l.split(/\s+/)[0]).filter((p) => p && /^\d+$/.test(p)));
      const execs = text.split('\n').filter((l) => /execve\(/.test(l) && /= 0$/.test(l)).length;
      // Minus the three processes around the script (nsenter → unshare, strace's own view of them).
      processes[variant] = r.code === 0 ? { processes: pids.size, execs } : `strace run failed: ${firstLine(r.stderr)}`;
    }
  } else {
    note('strace not installed: process counts of the init script not measured');
  }
  await rm(work, { recursive: true, force: true });
  const sums = Object.fromEntries(variants.map((v) => [v, summarize(samples[v] ?? [])]));
  for (const v of variants) {
    const p = processes[v];
    rows.push({
      section: 'init script (--network none, no node)',
      item: `unshare + ${v}${failures[v] ? ' (FAILED)' : ''}`,
      unit: 'ms',
      summary: sums[v],
      ref: typeof p === 'object' ? `${p.processes} processes, ${p.execs} execs` : '',
    });
  }
  results['initScript'] = { samples, summaries: sums, failures, processes };
  for (const [k, f] of Object.entries(failures)) note(`init script "${k}" failed: ${f}`);
}

// ---- start-to-serving

async function serving(): Promise<void> {
  progress(`start-to-serving: ${cfg.serveReps} rounds`);
  const detach: number[] = [];
  const firstAnswer: number[] = [];
  const probe: number[] = [];
  const removal: number[] = [];
  const pollCounts: number[] = [];
  const failures: string[] = [];
  const probeArgv = inWan(['timeout', '2', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:5005/hostname`]);
  for (let rep = 0; rep < cfg.serveReps && timeLeft() > 0; rep++) {
    const t0 = performance.now();
    const runP = mc(['run', '-d', '-p', '5005:5000', 'busybox', 'httpd', '-f', '-p', '5000', '-h', '/etc']);
    let answered = NaN;
    let polls = 0;
    let runDone = false;
    void runP.then(() => {
      runDone = true;
    });
    while (polls < 1000 && performance.now() - t0 < 15_000) {
      polls++;
      const r = await timed(probeArgv, { timeoutMs: 5_000 });
      if (r.code === 0 && r.stdout.trim() !== '') {
        answered = performance.now() - t0;
        break;
      }
      if (runDone) {
        const run = await runP;
        if (run.code !== 0) break;
      }
      await sleep(cfg.pollMs);
    }
    const run = await runP;
    const id = run.stdout.trim().split('\n').pop() ?? '';
    if (run.code !== 0) failures.push(`run -d failed: ${firstLine(run.stderr)}`);
    else detach.push(run.ms);
    if (Number.isFinite(answered)) {
      firstAnswer.push(answered);
      pollCounts.push(polls);
      for (let i = 0; i < 3; i++) {
        const p = await timed(probeArgv, { timeoutMs: 5_000 });
        if (p.code === 0) probe.push(p.ms);
      }
    } else if (run.code === 0) {
      failures.push('no HTTP answer within 15 s');
    }
    if (id) {
      const r = await mc(['rm', '-f', id]);
      if (r.code === 0) removal.push(r.ms);
      else failures.push(`rm -f failed: ${firstLine(r.stderr)}`);
    }
  }
  const s = {
    detach: summarize(detach),
    firstAnswer: summarize(firstAnswer),
    probe: summarize(probe),
    removal: summarize(removal),
    polls: summarize(pollCounts),
  };
  rows.push({ section: 'start-to-serving', item: 'run -d -p 5005:5000 busybox httpd: command returns', unit: 'ms', summary: s.detach });
  rows.push({
    section: 'start-to-serving',
    item: 'run -d … → first HTTP answer from the wan namespace',
    unit: 'ms',
    summary: s.firstAnswer,
    ref: `probe alone ${fmtMs(s.probe?.median)}, poll every ${cfg.pollMs} ms`,
  });
  rows.push({ section: 'start-to-serving', item: 'rm -f of the httpd container', unit: 'ms', summary: s.removal });
  results['serving'] = { detach, firstAnswer, probe, removal, pollCounts, failures, summaries: s, pollIntervalMs: cfg.pollMs };
  for (const f of failures) note(`serving: ${f}`);
}

// ---- data path: iperf3 through the published port vs --network host

async function buildIperfImage(): Promise<string> {
  const iperf = await which('iperf3');
  if (!iperf) throw new Error('iperf3 is not installed (apt-get install iperf3)');
  const dir = await mkdtemp(join(tmpdir(), `${sb.prefix}-iperf-`));
  tempDirs.push(dir);
  const root = join(dir, 'rootfs');
  for (const d of ['usr/bin', 'proc', 'dev', 'sys', 'etc', 'root']) await mkdir(join(root, d), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(await realpath(iperf), join(root, 'usr/bin/iperf3'));
  await chmod(join(root, 'usr/bin/iperf3'), 0o755);
  const ldd = await timed(['ldd', iperf]);
  if (ldd.code !== 0) throw new Error(`ldd ${iperf} failed: ${firstLine(ldd.stderr)}`);
  const libs = new Set<string>();
  for (const line of ldd.stdout.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) libs.add(path);
  }
  for (const lib of libs) {
    // The library's content under the name the loader asks for (symlinks resolved).
    const target = join(root, lib);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(await realpath(lib), target);
    await chmod(target, 0o755);
  }
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n');
  const tarball = join(dir, 'iperf3.tar');
  const t = await timed(['tar', '--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tarball, '.']);
  if (t.code !== 0) throw new Error(`tar failed: ${firstLine(t.stderr)}`);
  return tarball;
}

async function waitListening(id: string, port: number, timeoutMs: number): Promise<boolean> {
  const state = await containerState(id);
  if (!state?.pid) return false;
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of ['tcp', 'tcp6']) {
      const text = await readFile(`/proc/${state.pid}/net/${f}`, 'utf8').catch(() => '');
      if (text.split('\n').some((l) => l.includes(hex) && / 0A /.test(l))) return true;
    }
    await sleep(20);
  }
  return false;
}

async function iperfRun(argv: string[]): Promise<number> {
  const r = await timed(argv, { timeoutMs: (cfg.iperfSeconds + 15) * 1000 });
  if (r.code !== 0) throw new Error(`${argv.slice(3).join(' ')} failed (${r.code}): ${firstLine(r.stderr || r.stdout)}`);
  const json = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
  const bps = json.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error('iperf3 printed no sum_received');
  return bps / 1e9;
}

/** The iperf3 image, imported once per run (the data path and the firewall drivers' packets both use it). */
let iperfImported = false;
async function ensureIperfImage(): Promise<void> {
  if (iperfImported) return;
  const tarball = await buildIperfImage();
  const imp = await mc(['import', tarball, 'benchiperf3:latest'], { timeoutMs: 120_000 });
  if (imp.code !== 0) throw new Error(`minictr import failed: ${firstLine(imp.stderr)}`);
  iperfImported = true;
}

async function dataPath(): Promise<void> {
  if (cfg.iperfReps === 0) return;
  progress(`data path: iperf3 ${cfg.iperfReps} x 4 runs of ${cfg.iperfSeconds} s`);
  await ensureIperfImage();
  const pub = await mc(['run', '-d', '--network', 'bridge', '-p', '5201:5201', 'benchiperf3', 'iperf3', '-s', '-p', '5201']);
  const direct = await mc(['run', '-d', '--network', 'host', 'benchiperf3', 'iperf3', '-s', '-p', '5202']);
  const ids = [pub, direct].filter((r) => r.code === 0).map((r) => r.stdout.trim().split('\n').pop() ?? '');
  try {
    if (pub.code !== 0) throw new Error(`iperf3 server (bridge, -p 5201:5201) did not start: ${firstLine(pub.stderr)}`);
    if (direct.code !== 0) throw new Error(`iperf3 server (--network host) did not start: ${firstLine(direct.stderr)}`);
    const [pubId, directId] = ids as [string, string];
    if (!(await waitListening(pubId, 5201, 10_000)) || !(await waitListening(directId, 5202, 10_000))) {
      throw new Error('iperf3 servers are not listening after 10 s');
    }
    const t = String(cfg.iperfSeconds);
    const ip = (await containerIp(pubId)) ?? '172.18.0.2';
    const paths: Record<string, string[]> = {
      'wan → 10.99.0.1:5201 published → container': inWan(['iperf3', '-c', HOST_IP, '-p', '5201', '-t', t, '-J']),
      'wan → 10.99.0.1:5202 --network host (direct)': inWan(['iperf3', '-c', HOST_IP, '-p', '5202', '-t', t, '-J']),
      'host → 127.0.0.1:5201 published → container': inHost(['iperf3', '-c', '127.0.0.1', '-p', '5201', '-t', t, '-J']),
      'host → 127.0.0.1:5202 --network host (direct)': inHost(['iperf3', '-c', '127.0.0.1', '-p', '5202', '-t', t, '-J']),
      [`host → ${ip}:5201 container address (veth + bridge, no NAT)`]: inHost(['iperf3', '-c', ip, '-p', '5201', '-t', t, '-J']),
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
    for (let rep = 0; rep < cfg.iperfReps && timeLeft() > 0; rep++) {
      for (const [k, argv] of Object.entries(paths)) samples[k]?.push(await iperfRun(argv));
    }
    const s = Object.fromEntries(Object.keys(paths).map((k) => [k, summarize(samples[k] ?? [])]));
    const keys = Object.keys(paths);
    for (const [i, k] of keys.entries()) {
      if (i >= 4) {
        const direct = s[keys[3] as string]?.median ?? NaN;
        const published = s[keys[2] as string]?.median ?? NaN;
        const here = s[k]?.median ?? NaN;
        rows.push({
          section: 'data path (iperf3, TCP)',
          item: k,
          unit: 'Gbit/s',
          summary: s[k],
          ref: `${((here / direct) * 100).toFixed(0)}% of 127.0.0.1 direct; published 127.0.0.1 = ${((published / here) * 100).toFixed(0)}% of this (NAT cost)`,
        });
        continue;
      }
      const isPub = i % 2 === 0;
      const ratio = isPub ? (s[k]?.median ?? NaN) / (s[keys[i + 1] as string]?.median ?? NaN) : NaN;
      rows.push({
        section: 'data path (iperf3, TCP)',
        item: k,
        unit: 'Gbit/s',
        summary: s[k],
        ...(isPub ? { ref: `${(ratio * 100).toFixed(0)}% of direct`, target: '≥ 90% of direct' } : {}),
      });
      if (isPub) targets.push({ target: `data path ${k.split(' ')[0]} ${k.split(' ')[2]} published ≥ 90% of direct`, measured: `${(ratio * 100).toFixed(0)}%`, met: ratio >= 0.9 });
    }
    results['dataPath'] = { samples, summaries: s, seconds: cfg.iperfSeconds };
  } finally {
    for (const id of ids) if (id) await mc(['rm', '-f', id]);
  }
}

// ---- the port relay ([::1] ports) beside kernel NAT, into the same container

/**
 * One iperf3 server published twice: on [::1] (minictr's relay, as Docker's docker-proxy) and
 * on 127.0.0.1 (kernel NAT with route_localnet). The same host client reaches both, so the
 * difference is the relay's userland copy against the kernel's NAT.
 */
async function relayPath(): Promise<void> {
  if (cfg.iperfReps === 0) return;
  progress(`relay: iperf3 ${cfg.iperfReps} x 2 runs of ${cfg.iperfSeconds} s`);
  await ensureIperfImage();
  const srv = await mc(['run', '-d', '--network', 'bridge', '-p', '[::1]:5203:5201', '-p', '127.0.0.1:5204:5201', 'benchiperf3', 'iperf3', '-s', '-p', '5201']);
  const id = srv.code === 0 ? (srv.stdout.trim().split('\n').pop() ?? '') : '';
  try {
    if (srv.code !== 0) throw new Error(`iperf3 server (-p [::1]:5203, 127.0.0.1:5204) did not start: ${firstLine(srv.stderr)}`);
    if (!(await waitListening(id, 5201, 10_000))) throw new Error('iperf3 server is not listening after 10 s');
    const t = String(cfg.iperfSeconds);
    const relay = 'host → [::1]:5203 relay → container (IPv4)';
    const nat = 'host → 127.0.0.1:5204 kernel NAT → container';
    const paths: Record<string, string[]> = {
      [relay]: inHost(['iperf3', '-c', '::1', '-p', '5203', '-t', t, '-J']),
      [nat]: inHost(['iperf3', '-c', '127.0.0.1', '-p', '5204', '-t', t, '-J']),
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
    for (let rep = 0; rep < cfg.iperfReps; rep++) {
      for (const [k, argv] of Object.entries(paths)) samples[k]?.push(await iperfRun(argv));
    }
    const relayS = summarize(samples[relay] ?? []);
    const natS = summarize(samples[nat] ?? []);
    rows.push({ section: 'relay ([::1], iperf3, TCP)', item: relay, unit: 'Gbit/s', summary: relayS, ref: `${(((relayS?.median ?? NaN) / (natS?.median ?? NaN)) * 100).toFixed(0)}% of kernel NAT` });
    rows.push({ section: 'relay ([::1], iperf3, TCP)', item: nat, unit: 'Gbit/s', summary: natS });
    results['relay'] = { samples, seconds: cfg.iperfSeconds };
  } finally {
    if (id) await mc(['rm', '-f', id]);
  }
}

// ---- scale, memory, removal

function rolling(samples: { count: number; ms: number }[]): [number, number][] {
  return samples.map((s) => [s.count, windowSummary(samples, s.count)?.median ?? s.ms]);
}

function windowSummary(samples: { count: number; ms: number }[], k: number): Summary | undefined {
  const near = [...samples].sort((a, b) => Math.abs(a.count - k) - Math.abs(b.count - k) || a.count - b.count).slice(0, cfg.window);
  return summarize(near.map((s) => s.ms));
}

async function scale(): Promise<void> {
  if (cfg.scaleN <= 0) return;
  progress(`scale: start ${cfg.scaleN} detached containers on one bridge`);
  const baseline = await iptablesRuleCount();
  const traceDir = await mkdtemp(join(tmpdir(), `${sb.prefix}-scale-`));
  tempDirs.push(traceDir);
  const starts: { count: number; ms: number }[] = [];
  const ids: string[] = [];
  const atPoints: Record<number, { rules: number; iptablesSaveMs: number; psMs: number; lockWaitMs?: number; childMs?: number; jsMs?: number }> = {};
  const traced: Record<number, ReturnType<typeof analyseTrace>[]> = {};
  const tracedStart = (k: number): number | undefined =>
    cfg.scalePoints.find((p) => inWindow(k, p));
  let stopReason = '';
  const startFailures: string[] = [];
  for (let k = 1; k <= cfg.scaleN; k++) {
    if (timeLeft() < 0) {
      stopReason = `budget exhausted after ${k - 1} containers`;
      break;
    }
    const point = tracedStart(k);
    const traceFile = point !== undefined ? join(traceDir, `start-${k}.json`) : undefined;
    const r = await mc(['run', '-d', '--network', 'bridge', 'busybox', 'sleep', '1000'], { hook: true, ...(traceFile ? { trace: traceFile } : {}) });
    if (r.code !== 0) {
      startFailures.push(`start ${k}: exit ${r.code}: ${firstLine(r.stderr)}`);
      note(`scale: start ${k} failed: ${firstLine(r.stderr)}`);
      if (startFailures.length >= 3) {
        stopReason = `stopped after ${startFailures.length} failed starts`;
        break;
      }
      k--;
      continue;
    }
    ids.push(r.stdout.trim().split('\n').pop() ?? '');
    starts.push({ count: k, ms: r.ms });
    if (traceFile && point !== undefined) {
      const trace = JSON.parse(await readFile(traceFile, 'utf8').catch(() => 'null')) as Trace | null;
      if (trace) (traced[point] ??= []).push(analyseTrace(trace, r.ms));
    }
    if (cfg.scalePoints.includes(k)) {
      const rules = await iptablesRuleCount();
      const ps = await mc(['ps', '-a', '-q']);
      atPoints[k] = { rules: rules.rules, iptablesSaveMs: rules.ms, psMs: ps.ms };
      progress(`scale: ${k} containers, last start ${fmtMs(r.ms)}, ${rules.rules} iptables rules`);
    }
  }
  if (stopReason) note(`scale: ${stopReason}`);
  const n = ids.length;

  // Memory of the host-side processes per idle container (monitor sh + unshare), before removal.
  await sleep(500);
  const memIds = ids.slice(0, Math.min(cfg.memN, n));
  let rssKb = 0;
  let pssKb = 0;
  let counted = 0;
  const perName: Record<string, { rssKb: number; pssKb: number; n: number }> = {};
  const containerProc = { rssKb: 0, pssKb: 0, n: 0 };
  for (const id of memIds) {
    const st = await containerState(id);
    if (!st || !st.monitorPid) continue;
    const hostSide: number[] = [];
    const queue = [st.monitorPid];
    for (let guard = 0; queue.length > 0 && guard < 50; guard++) {
      const pid = queue.shift() as number;
      if (pid === st.pid) continue; // the container's own process (and what it started) is not overhead
      hostSide.push(pid);
      queue.push(...(await processChildren(pid)));
    }
    for (const pid of hostSide) {
      const m = await processMemory(pid);
      if (!m) continue;
      const name = await processName(pid);
      rssKb += m.rssKb;
      pssKb += m.pssKb ?? m.rssKb;
      const e = (perName[name] ??= { rssKb: 0, pssKb: 0, n: 0 });
      e.rssKb += m.rssKb;
      e.pssKb += m.pssKb ?? m.rssKb;
      e.n++;
    }
    const own = await processMemory(st.pid);
    if (own) {
      containerProc.rssKb += own.rssKb;
      containerProc.pssKb += own.pssKb ?? own.rssKb;
      containerProc.n++;
    }
    counted++;
  }
  if (counted > 0) {
    const rssMb = rssKb / counted / 1024;
    const pssMb = pssKb / counted / 1024;
    rows.push({ section: 'memory (host side per idle container)', item: `monitor + unshare, Rss sum / ${counted}`, unit: 'MB', value: rssMb, target: '≤ 5 MB' });
    rows.push({ section: 'memory (host side per idle container)', item: `monitor + unshare, Pss sum / ${counted}`, unit: 'MB', value: pssMb, target: '≤ 5 MB' });
    for (const [name, e] of Object.entries(perName)) {
      rows.push({
        section: 'memory (host side per idle container)',
        item: `  ${name}: Rss / Pss per process`,
        unit: 'MB',
        value: e.rssKb / e.n / 1024,
        ref: `Pss ${(e.pssKb / e.n / 1024).toFixed(2)} MB, ${e.n} processes`,
      });
    }
    targets.push({ target: 'monitor ≤ 5 MB per idle container', measured: `Rss ${rssMb.toFixed(2)} MB, Pss ${pssMb.toFixed(2)} MB (${counted} containers)`, met: rssMb <= 5 });
    results['memory'] = { containers: counted, rssKb, pssKb, perName, containerProcess: containerProc, rssMbPerContainer: rssMb, pssMbPerContainer: pssMb };
  }

  // Removal, oldest first, timing each `rm -f`; around the points also how long until the
  // container's monitor is gone (it records the exit status, then leaves the rest to rm -f).
  progress(`scale: removing ${n} containers`);
  const removals: { count: number; ms: number; settledMs?: number }[] = [];
  const removalStart = performance.now();
  const remPoints = new Set(cfg.scalePoints);
  let removeFailures = 0;
  for (const [i, id] of ids.entries()) {
    const count = n - i;
    const st = await containerState(id);
    const monStart = st?.monitorPid ? await processStartTime(st.monitorPid) : 0;
    const t0 = performance.now();
    const r = await mc(['rm', '-f', id]);
    if (r.code !== 0) {
      removeFailures++;
      if (removeFailures <= 3) note(`rm -f ${id.slice(0, 12)} failed: ${firstLine(r.stderr)}`);
      continue;
    }
    const entry: { count: number; ms: number; settledMs?: number } = { count, ms: r.ms };
    const nearPoint = [...remPoints].some((p) => Math.abs(p - count) <= Math.floor(cfg.window / 2) || (p === n && count > n - cfg.window));
    if (nearPoint && st?.monitorPid && monStart) {
      for (let g = 0; g < 2000; g++) {
        if ((await processStartTime(st.monitorPid)) !== monStart) break;
        if (performance.now() - t0 > 10_000) break;
        await sleep(5);
      }
      entry.settledMs = performance.now() - t0;
    }
    removals.push(entry);
  }
  const removalWall = performance.now() - removalStart;
  await sleep(300);
  const after = await iptablesRuleCount();
  const leftoverNs = (await readdir('/run/netns').catch(() => [] as string[])).filter((f) => ids.some((id) => f === `minictr-${id.slice(0, 12)}`));

  const first = starts.find((s) => s.count === 1);
  const points = cfg.scalePoints.filter((p) => p <= n);
  const table = points.map((p) => {
    const tr = traced[p] ?? [];
    const lw = tr.map((t) => Object.entries(t.locks).filter(([k]) => k.endsWith(': wait')).reduce((a, [, v]) => a + v, 0));
    const child = tr.map((t) => (t.phases['  of which in child processes (setup)'] ?? 0));
    return {
      count: p,
      start: windowSummary(starts, p),
      removal: windowSummary(removals, p),
      settled: summarize(removals.filter((r) => r.settledMs !== undefined).sort((a, b) => Math.abs(a.count - p) - Math.abs(b.count - p)).slice(0, cfg.window).map((r) => r.settledMs as number)),
      ...atPoints[p],
      tracedStartPhases: medianOfRecords(tr.map((t) => t.phases)),
      tracedLockWait: summarize(lw),
      tracedChildMs: summarize(child),
    };
  });
  for (const row of table) {
    rows.push({
      section: 'scale (run -d --network bridge busybox sleep 1000)',
      item: `start of container #${row.count} (window of ${cfg.window})`,
      unit: 'ms',
      summary: row.start,
      ref: `${row.rules ?? '-'} rules, iptables-save ${fmtMs(row.iptablesSaveMs)}, ps -a ${fmtMs(row.psMs)}`,
    });
  }
  for (const row of [...table].reverse()) {
    rows.push({
      section: 'scale (run -d --network bridge busybox sleep 1000)',
      item: `rm -f while ${row.count} exist (window of ${cfg.window})`,
      unit: 'ms',
      summary: row.removal,
      ref: `until the monitor is gone: ${fmtMs(row.settled?.median)}`,
    });
  }
  const sumRm = removals.reduce((a, r) => a + r.ms, 0);
  rows.push({ section: 'scale (run -d --network bridge busybox sleep 1000)', item: `remove all ${n}: sum of rm -f / wall`, unit: 'ms', value: sumRm, ref: `wall ${fmtMs(removalWall)}` });
  const atN = atPoints[n]?.rules;
  const perContainer = atN !== undefined && n > 0 ? (atN - baseline.rules) / n : NaN;
  rows.push({
    section: 'scale (run -d --network bridge busybox sleep 1000)',
    item: 'iptables rules per container (no -p)',
    unit: 'rules',
    value: perContainer,
    ref: `(${atN ?? '?'} at ${n} − ${baseline.rules} baseline) / ${n}; after removal ${after.rules}${leftoverNs.length ? `, ${leftoverNs.length} netns left!` : ''}`,
  });
  const last = table[table.length - 1];
  const ten = table.find((t) => t.count === 10) ?? table[0];
  if (last && ten && last !== ten) {
    const rs = (last.start?.median ?? NaN) / (ten.start?.median ?? NaN);
    const rr = (last.removal?.median ?? NaN) / (ten.removal?.median ?? NaN);
    targets.push({ target: `scale: start #${last.count} within 1.25x of #${ten.count}`, measured: `${fmtMs(last.start?.median)} vs ${fmtMs(ten.start?.median)} = ${rs.toFixed(2)}x`, met: rs <= 1.25 });
    targets.push({ target: `scale: removal with ${last.count} within 1.25x of with ${ten.count}`, measured: `${fmtMs(last.removal?.median)} vs ${fmtMs(ten.removal?.median)} = ${rr.toFixed(2)}x`, met: rr <= 1.25 });
  }
  results['scale'] = {
    n,
    stopReason,
    startFailures,
    baselineRules: baseline.rules,
    rulesAfterRemoval: after.rules,
    leftoverNetns: leftoverNs,
    removeFailures,
    firstStartMs: first?.ms,
    starts,
    removals,
    removalSumMs: sumRm,
    removalWallMs: removalWall,
    rulesPerContainer: perContainer,
    points: table,
  };
  // The chart.
  const svg = lineChart({
    title: `minictr scale: ${n} detached containers on one bridge`,
    subtitle: `${new Date().toISOString()} · ${hostname()} · ${cpus().length} CPUs · start = run -d --network bridge busybox sleep 1000; removal = rm -f, oldest first`,
    xLabel: 'containers existing (after the start / before the removal)',
    yLabel: 'ms',
    series: [
      { name: 'start (run -d), each', color: '#1f77b4', style: 'dots', points: starts.map((s) => [s.count, s.ms]) },
      { name: 'removal (rm -f), each', color: '#d62728', style: 'dots', points: removals.map((r) => [r.count, r.ms]) },
      { name: `start, rolling median of ${cfg.window}`, color: '#1f77b4', points: rolling(starts) },
      { name: `removal, rolling median of ${cfg.window}`, color: '#d62728', points: rolling(removals) },
    ],
    guides: ten?.start
      ? [
          { y: ten.start.median * 1.25, label: `1.25x start #${ten.count}`, color: '#1f77b4' },
          ...(ten.removal ? [{ y: ten.removal.median * 1.25, label: `1.25x removal @${ten.count}`, color: '#d62728' }] : []),
        ]
      : [],
  });
  results['scaleSvg'] = svg;
}

// ---- CNI: a node's pods through minictr-cni and through the reference plugins

async function cniNode(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), `${sb.prefix}-cni-`));
  tempDirs.push(tmp);
  const figures = await cniNodeScale(
    { hostNs: sb.hostNs, prefix: sb.prefix, plugin: join(BUILD, 'bin', 'minictr-cni'), env: SUDO_ENV, tmp, nftables: (await which('nft')) !== undefined, progress },
    cfg.cniPods,
  );
  for (const f of figures) {
    const section = `CNI node, ${f.pods} pods (1 in 10 with a hostPort)`;
    const p99 = (v: number | undefined): string => (v === undefined ? '-' : `p99 ${fmtMs(v)}`);
    rows.push({ section, item: `${f.chain}: ADD`, unit: 'ms', summary: f.add, ref: p99(f.addP99) });
    rows.push({ section, item: `${f.chain}: DEL`, unit: 'ms', summary: f.del, ref: p99(f.delP99) });
    rows.push({ section, item: `${f.chain}: firewall rules per pod`, unit: 'rules', value: f.rulesPerPod });
    for (const failure of f.failures.slice(0, 3)) note(`cni ${f.chain} ${f.pods} pods: ${failure}`);
    if (f.failures.length > 0) note(`cni ${f.chain} ${f.pods} pods: ${f.failures.length} failed command(s)`);
    if (f.leftovers.length > 0) note(`cni ${f.chain} ${f.pods} pods: LEFT after the DELs: ${f.leftovers.length} (${f.leftovers[0] ?? ''})`);
  }
  results['cni'] = figures;
}

// ---- firewall drivers, side by side in the same run

const FIREWALLS = ['iptables', 'nftables'] as const;
type Firewall = (typeof FIREWALLS)[number];
const FW_SECTION = 'firewall drivers (same run; one network each, -o firewall=…)';

/** A network per firewall driver, so every other figure of the run stays the default driver's. */
async function firewallNetworks(): Promise<boolean> {
  for (const fw of FIREWALLS) {
    const r = await mc(['network', 'create', '-o', `firewall=${fw}`, `bench-${fw}`]);
    // Its twin holds one container at a time: the host-wide share of a start's growth (see firewallScale).
    if (r.code === 0 && cfg.fwScaleN > 0) await mc(['network', 'create', '-o', `firewall=${fw}`, `bench-${fw}-alone`]);
    if (r.code !== 0) {
      note(`firewall: network create -o firewall=${fw} failed: ${firstLine(r.stderr)}`);
      return false;
    }
  }
  return true;
}

/** A stand-in container on `bridge` (no namespace, no process): only its firewall state is made. */
function fakeAttachment(bridge: string, i: number): NetworkAttachment {
  const ip = `10.200.${Math.floor(i / 250)}.${(i % 250) + 2}`;
  return {
    network: 'bench', bridge, netns: `minictr-${i.toString(16).padStart(12, '0')}`, hostVeth: 'vethbench', ip, prefixLength: 16,
    gateway: '10.200.0.1', mac: '02:42:0a:c8:00:02', ports: [{ hostIp: '', hostPort: 30000 + i, containerPort: 5000, proto: 'tcp' }],
  };
}

/** The one command op of a driver's plan (its argv and stdin), for timing it alone. */
function onlyCommand(plan: Plan): { argv: string[]; input: string } {
  const op = plan.ops.find((o) => o.kind === 'command');
  if (!op || op.kind !== 'command') throw new Error(`${plan.title}: no command to time`);
  return { argv: [...op.argv], input: op.stdin ?? '' };
}

/**
 * The firewall step alone, as each driver plans it for a container with one published port:
 * its add and its delete, timed with K other containers' state in place (stand-ins with no
 * namespace or process, so only the firewall is measured). The container start figures carry
 * everything else, and the machine's load with it.
 */
async function firewallStep(packets: Record<Firewall, FwPackets>): Promise<Record<string, unknown>> {
  const sizes = QUICK ? [10, 200] : [10, 1000];
  const out: Record<string, unknown> = {};
  for (const fw of FIREWALLS) {
    // A user network's Options name no bridge (as Docker's): minictr's own field does.
    const bridge = (await mc(['network', 'inspect', '-f', '{{.Minictr.Bridge}}', `bench-${fw}`])).stdout.trim();
    const driver = firewallDriverFor({ name: `bench-${fw}`, firewall: fw });
    const probe = fakeAttachment(bridge, 9999);
    let inPlace: NetworkAttachment[] = [];
    for (const k of sizes) {
      const more = Array.from({ length: k - inPlace.length }, (_, j) => fakeAttachment(bridge, inPlace.length + j + 1));
      const fill = fw === 'iptables'
        ? { argv: ['iptables-restore', '-w', '--noflush'], input: restoreText(more.flatMap((a) => containerRules(a)), {}, 'add') }
        : { argv: ['nft', '-f', '-'], input: more.map((a) => onlyCommand(driver.planContainerSetup(a)).input).join('') };
      const filled = await timed(inHost(fill.argv), { input: fill.input, timeoutMs: 120_000 });
      if (filled.code !== 0) {
        note(`firewall step ${fw}: filling ${k} stand-ins failed: ${firstLine(filled.stderr)}`);
        break;
      }
      inPlace = [...inPlace, ...more];
      // Packets through the driver's published port, with these k stand-ins' ports (rules or elements) in place.
      await measurePackets(packets[fw], fw, String(k));
      const add = onlyCommand(driver.planContainerSetup(probe));
      const del = onlyCommand(driver.planContainerTeardown(probe));
      const adds: number[] = [];
      const dels: number[] = [];
      for (let rep = 0; rep < cfg.reps; rep++) {
        const a = await timed(inHost(add.argv), { input: add.input });
        const d = await timed(inHost(del.argv), { input: del.input });
        if (a.code === 0 && d.code === 0) {
          adds.push(a.ms);
          dels.push(d.ms);
        } else note(`firewall step ${fw}: ${firstLine(a.stderr || d.stderr)}`);
      }
      const addS = summarize(adds);
      const delS = summarize(dels);
      rows.push({ section: FW_SECTION, item: `${fw}: a container's firewall add, ${k} others in place`, unit: 'ms', summary: addS, ref: add.argv.join(' ') });
      rows.push({ section: FW_SECTION, item: `${fw}: a container's firewall delete, ${k} others in place`, unit: 'ms', summary: delS });
      out[`${fw}@${k}`] = { add: addS, delete: delS };
    }
    const drain = fw === 'iptables'
      ? { argv: ['iptables-restore', '-w', '--noflush'], input: restoreText(inPlace.flatMap((a) => containerRules(a)), {}, 'delete') }
      : { argv: ['nft', '-f', '-'], input: inPlace.map((a) => onlyCommand(driver.planContainerTeardown(a)).input).join('') };
    const drained = await timed(inHost(drain.argv), { input: drain.input, timeoutMs: 120_000 });
    if (drained.code !== 0) note(`firewall step ${fw}: removing the stand-ins failed: ${firstLine(drained.stderr)}`);
    await measurePackets(packets[fw], fw, '0 after');
    packetRows(fw, packets[fw], sizes);
  }
  const [lo, hi] = sizes;
  for (const fw of FIREWALLS) {
    const a = out[`${fw}@${lo}`] as { add?: Summary; delete?: Summary } | undefined;
    const b = out[`${fw}@${hi}`] as { add?: Summary; delete?: Summary } | undefined;
    const total = (x: typeof a): number => (x?.add?.median ?? NaN) + (x?.delete?.median ?? NaN);
    const ratio = total(b) / total(a);
    targets.push({
      target: `${fw}: a container's firewall add + delete with ${hi} others ${fw === 'nftables' ? 'within 1.1x of' : 'vs'} with ${lo}`,
      measured: `${fmtMs(total(b))} vs ${fmtMs(total(a))} = ${ratio.toFixed(2)}x`,
      met: fw === 'nftables' ? ratio <= 1.1 : undefined,
    });
  }
  return out;
}

/** `rm -f` of many, in batches (the scale run's fill and drain, not measured). */
async function removeBulk(ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    const r = await mc(['rm', '-f', ...ids.slice(i, i + 100)], { timeoutMs: 10 * 60_000 });
    if (r.code !== 0) note(`firewall: bulk rm -f failed: ${firstLine(r.stderr)}`);
  }
}

type Samples = { count: number; ms: number }[];

/**
 * N detached containers with a published port each on a driver's bridge: the start of the k-th
 * and a `rm -f` while k exist, at each point, as the median of a window. By default each driver's
 * bridge is filled alone and emptied before the next (N containers on the host, as the issue
 * asks); BENCH_FW_SCALE_MODE=lockstep fills both at once (the k-th on one driver, then on the
 * other, the order alternating), so a busy machine weighs on both alike, with 2N on the host.
 * Between the points the containers go in bulk (one `rm -f` of 100), unmeasured.
 */
type Traced = { count: number; analysed: ReturnType<typeof analyseTrace> }[];
type KthreadSamples = { count: number; all: number; kdamond: number }[];

/** Remove the empty namespaces added for the kernel's share (one `ip -batch`). */
async function removeEmptyNamespaces(): Promise<void> {
  const names = emptyNamespaces.splice(0);
  if (names.length > 0) await timed(['ip', '-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join(''), timeoutMs: 5 * 60_000 });
}

/**
 * The kernel's share of a start's growth, with no container: a window of starts (+ rm -f) on
 * nftables' empty twin network, then the same with `count` empty network namespaces added to the
 * host (each a bind mount in /run/netns, as every container's is, and nothing else).
 */
async function emptyNamespacesShare(count: number): Promise<{ none?: Summary; many?: Summary }> {
  const window = async (): Promise<Summary | undefined> => {
    const ms: number[] = [];
    for (let i = 0; i < cfg.window; i++) {
      const r = await mc(['run', '-d', '--network', 'bench-nftables-alone', '-p', '45000:5000', 'busybox', 'sleep', '100000']);
      if (r.code !== 0) break;
      ms.push(r.ms);
      await mc(['rm', '-f', r.stdout.trim().split('\n').pop() ?? '']);
    }
    return summarize(ms);
  };
  const none = await window();
  const names = Array.from({ length: count }, (_, i) => `${sb.prefix}-empty-${i + 1}`);
  emptyNamespaces.push(...names);
  try {
    const made = await timed(['ip', '-batch', '-'], { input: names.map((n) => `netns add ${n}\n`).join(''), timeoutMs: 5 * 60_000 });
    if (made.code !== 0) {
      note(`firewall: ${count} empty network namespaces could not be made: ${firstLine(made.stderr)}`);
      return { ...(none ? { none } : {}) };
    }
    const many = await window();
    return { ...(none ? { none } : {}), ...(many ? { many } : {}) };
  } finally {
    await removeEmptyNamespaces();
  }
}

/**
 * CPU time so far of the kernel's own threads (children of kthreadd, pid 2), in ms, and of the
 * DAMON monitor among them (kdamond, which some VMs run to watch memory: its page-access checks
 * walk every mapping of a shared page, so they grow with the processes that share busybox).
 */
async function kernelThreadsCpu(): Promise<{ all: number; kdamond: number }> {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let all = 0;
  let kdamond = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (fields[1] !== '2') continue; // ppid: not a kernel thread
    const ms = (Number(fields[11]) + Number(fields[12])) * tick; // utime + stime
    all += ms;
    if (stat.slice(stat.indexOf('(') + 1, close).startsWith('kdamond')) kdamond += ms;
  }
  return { all, kdamond };
}

async function firewallScale(): Promise<Record<Firewall, { starts: Samples; removals: Samples; alone: Samples; traced: Traced; kthreads: KthreadSamples; n: number }>> {
  const ids: Record<Firewall, string[]> = { iptables: [], nftables: [] };
  const starts: Record<Firewall, Samples> = { iptables: [], nftables: [] };
  // In the traced windows, a start + rm -f on the driver's twin network, empty but for it: what
  // the host's other containers alone add to a start (the kernel's, the machine's), beside what
  // the k on the same bridge add.
  const alone: Record<Firewall, Samples> = { iptables: [], nftables: [] };
  const removals: Record<Firewall, Samples> = { iptables: [], nftables: [] };
  const traced: Record<Firewall, Traced> = { iptables: [], nftables: [] };
  // Kernel threads' CPU over each traced start and its twin's start and rm -f.
  const kthreads: Record<Firewall, KthreadSamples> = { iptables: [], nftables: [] };
  const traceDir = await mkdtemp(join(tmpdir(), `${sb.prefix}-fwtrace-`));
  tempDirs.push(traceDir);
  // The starts in the first and last window are traced: where a start's time grows with the count.
  const tracedAt = (k: number): boolean => [cfg.fwPoints[0] ?? 0, cfg.fwScaleN].some((p) => inWindow(k, p));
  const rounds: (readonly Firewall[])[] = cfg.fwScaleLockstep ? [FIREWALLS] : FIREWALLS.map((fw) => [fw]);
  for (const drivers of rounds) {
    const order = (k: number): readonly Firewall[] => (k % 2 === 0 ? drivers : [...drivers].reverse());
    fill: for (let k = 1; k <= cfg.fwScaleN; k++) {
      for (const fw of order(k)) {
        const port = fw === 'iptables' ? 20000 + k : 40000 + k;
        const file = join(traceDir, `${fw}-${k}.json`);
        const cpuBefore = tracedAt(k) ? await kernelThreadsCpu() : undefined;
        const r = await mc(['run', '-d', '--network', `bench-${fw}`, '-p', `${port}:5000`, 'busybox', 'sleep', '100000'], tracedAt(k) ? { trace: file } : {});
        if (r.code !== 0) {
          note(`firewall ${fw}: start ${k} failed: ${firstLine(r.stderr)}; the scale run stops there`);
          break fill;
        }
        ids[fw].push(r.stdout.trim().split('\n').pop() ?? '');
        starts[fw].push({ count: k, ms: r.ms });
        if (tracedAt(k)) {
          const trace = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as Trace | null;
          if (trace) traced[fw].push({ count: k, analysed: analyseTrace(trace, r.ms) });
          const twin = await mc(['run', '-d', '--network', `bench-${fw}-alone`, '-p', `${port + 10000}:5000`, 'busybox', 'sleep', '100000']);
          if (twin.code === 0) {
            alone[fw].push({ count: k, ms: twin.ms });
            await mc(['rm', '-f', twin.stdout.trim().split('\n').pop() ?? '']);
          }
          const cpuAfter = await kernelThreadsCpu();
          if (cpuBefore) kthreads[fw].push({ count: k, all: cpuAfter.all - cpuBefore.all, kdamond: cpuAfter.kdamond - cpuBefore.kdamond });
        }
      }
      if (cfg.fwPoints.includes(k)) progress(`firewall: ${k} containers with a published port on the bridge of ${drivers.join(' and ')}`);
    }
    for (const point of [...cfg.fwPoints].reverse()) {
      if (point > Math.min(...drivers.map((fw) => ids[fw].length))) continue;
      for (const fw of drivers) await removeBulk(ids[fw].splice(point));
      for (let w = 0; w < cfg.window; w++) {
        for (const fw of order(w)) {
          const count = ids[fw].length;
          const id = ids[fw].pop();
          if (id === undefined) continue;
          const r = await mc(['rm', '-f', id]);
          if (r.code === 0) removals[fw].push({ count, ms: r.ms });
          else note(`firewall ${fw}: rm -f ${id.slice(0, 12)} failed: ${firstLine(r.stderr)}`);
        }
      }
    }
    for (const fw of drivers) await removeBulk(ids[fw]);
  }
  return {
    iptables: { starts: starts.iptables, removals: removals.iptables, alone: alone.iptables, traced: traced.iptables, kthreads: kthreads.iptables, n: starts.iptables.length },
    nftables: { starts: starts.nftables, removals: removals.nftables, alone: alone.nftables, traced: traced.nftables, kthreads: kthreads.nftables, n: starts.nftables.length },
  };
}

/** iperf3 through one driver's published port: its server, and the throughput with K stand-ins' ports in place. */
interface FwPackets {
  id: string;
  port: number;
  /** Gbit/s samples by how many stand-in containers' ports were in place ('0 after' once they are gone again). */
  samples: Record<string, number[]>;
}

/** An iperf3 server on each driver's network, published on a port of its own (5301, 5302). */
async function iperfServers(): Promise<Record<Firewall, FwPackets>> {
  const out = {} as Record<Firewall, FwPackets>;
  for (const [i, fw] of FIREWALLS.entries()) out[fw] = { id: '', port: 5301 + i, samples: {} };
  if (cfg.iperfReps === 0) return out;
  await ensureIperfImage();
  for (const fw of FIREWALLS) {
    const r = await mc(['run', '-d', '--network', `bench-${fw}`, '-p', `${out[fw].port}:5201`, 'benchiperf3', 'iperf3', '-s', '-p', '5201']);
    if (r.code !== 0) {
      note(`firewall ${fw}: the iperf3 server did not start: ${firstLine(r.stderr)}`);
      continue;
    }
    out[fw].id = r.stdout.trim().split('\n').pop() ?? '';
    if (!(await waitListening(out[fw].id, 5201, 10_000))) note(`firewall ${fw}: the iperf3 server is not listening after 10 s`);
  }
  return out;
}

/** wan → HOST_IP:port of one driver, with `label` stand-ins' ports in place. */
async function measurePackets(p: FwPackets, fw: Firewall, label: string): Promise<void> {
  if (cfg.iperfReps === 0 || !p.id) return;
  const samples = (p.samples[label] ??= []);
  for (let rep = 0; rep < cfg.iperfReps; rep++) {
    try {
      samples.push(await iperfRun(inWan(['iperf3', '-c', HOST_IP, '-p', String(p.port), '-t', String(cfg.iperfSeconds), '-J'])));
    } catch (err) {
      note(`firewall ${fw}: iperf3 (${label}) failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The packets rows of one driver: each size, and the largest against the mean of the smallest and the after-drain. */
function packetRows(fw: Firewall, p: FwPackets, sizes: number[]): void {
  const [lo, hi] = [sizes[0] ?? 0, sizes[sizes.length - 1] ?? 0];
  for (const label of [...sizes.map(String), '0 after']) {
    const summary = summarize(p.samples[label] ?? []);
    if (summary) rows.push({ section: FW_SECTION, item: `${fw}: iperf3 wan → published port, ${label === '0 after' ? 'the stand-ins gone again' : `${label} stand-ins' ports in place`}`, unit: 'Gbit/s', summary });
  }
  const few = [...(p.samples[String(lo)] ?? []), ...(p.samples['0 after'] ?? [])];
  const many = summarize(p.samples[String(hi)] ?? []);
  const base = summarize(few);
  if (!many || !base) return;
  const keep = many.median / base.median;
  targets.push({
    target: `${fw}: packets through a published port with ${hi} ports published ${fw === 'nftables' ? 'stay within 10% of' : 'vs'} with ${lo} (and after)`,
    measured: `${many.median.toFixed(2)} vs ${base.median.toFixed(2)} Gbit/s = ${(keep * 100).toFixed(0)}%`,
    met: fw === 'nftables' ? keep >= 0.9 : undefined,
  });
}

/**
 * The parts of a traced start (phases, host commands, lock waits and holds) whose median grew by
 * more than 3 ms from the window at `first` to the window at `last`: where a start's time goes as
 * containers accumulate.
 */
function startGrowth(traced: Traced, first: number, last: number): { what: string; first: number; last: number }[] {
  const at = (p: number): Record<string, number>[] =>
    traced.filter((t) => inWindow(t.count, p)).map((t) => ({ ...t.analysed.phases, ...t.analysed.commands, ...t.analysed.locks }));
  const a = medianOfRecords(at(first));
  const b = medianOfRecords(at(last));
  return Object.keys(b)
    .filter((k) => !k.endsWith(': count'))
    .map((what) => ({ what, first: a[what]?.median ?? 0, last: b[what]?.median ?? 0 }))
    .filter((g) => g.last - g.first > 3)
    .sort((x, y) => (y.last - y.first) - (x.last - x.first));
}

/**
 * How much slower the machine ran in the last traced window than in the first, read from the two
 * phases of a start that do not depend on how many containers exist (node's bootstrap, and the
 * bundle's read and compile): other work on a shared machine shows here, not in the count.
 */
function loadDrift(traced: Traced, first: number, last: number): { first: number; last: number; ratio: number } | undefined {
  const fixed = (p: number): number | undefined => summarize(traced.filter((t) => inWindow(t.count, p))
    .map((t) => (t.analysed.phases[PHASE.boot] ?? 0) + (t.analysed.phases[PHASE.compile] ?? 0)))?.median;
  const a = fixed(first);
  const b = fixed(last);
  return a && b ? { first: a, last: b, ratio: b / a } : undefined;
}

/** Is a sample taken at `count` in the window of the scale point `point` (the last `cfg.window` counts up to it)? */
function inWindow(count: number, point: number): boolean {
  return count <= point && count > point - cfg.window;
}

/** Median of the window of samples at or just below `count`. */
function windowAt(samples: { count: number; ms: number }[], count: number): Summary | undefined {
  return summarize(samples.filter((s) => inWindow(s.count, count)).map((s) => s.ms));
}

async function firewalls(): Promise<void> {
  if (!(await firewallNetworks())) return;
  const packets = await iperfServers();
  progress('firewall: the firewall step alone, per driver, with 10 and many stand-in containers in place (and iperf3 through a published port at each)');
  const step = await firewallStep(packets);
  for (const fw of FIREWALLS) if (packets[fw].id) await mc(['rm', '-f', packets[fw].id]);
  progress(`firewall: ${cfg.reps} rounds of run --rm -p per driver, alternating`);
  const samples: Record<Firewall, number[]> = { iptables: [], nftables: [] };
  for (let rep = 0; rep < cfg.reps; rep++) {
    for (const fw of rep % 2 === 0 ? FIREWALLS : [...FIREWALLS].reverse()) {
      const r = await mc(['run', '--rm', '--network', `bench-${fw}`, '-p', '5005:5000', 'busybox', 'true']);
      if (r.code === 0) samples[fw].push(r.ms);
      else note(`firewall ${fw}: run --rm -p failed: ${firstLine(r.stderr)}`);
    }
  }
  const run = { iptables: summarize(samples.iptables), nftables: summarize(samples.nftables) };
  for (const fw of FIREWALLS) rows.push({ section: FW_SECTION, item: `run --rm -p 5005:5000 busybox true, ${fw}`, unit: 'ms', summary: run[fw] });
  const ratio = (run.nftables?.median ?? NaN) / (run.iptables?.median ?? NaN);
  const gain = (run.iptables?.median ?? NaN) - (run.nftables?.median ?? NaN);
  rows.push({ section: FW_SECTION, item: 'nftables / iptables', unit: 'x', value: ratio, ref: `nftables ${fmtMs(gain)} faster` });
  targets.push({ target: 'run --rm -p: nftables measurably faster than iptables (same run)', measured: `${fmtMs(run.nftables?.median)} vs ${fmtMs(run.iptables?.median)} = ${ratio.toFixed(2)}x, ${fmtMs(gain)} gained`, met: gain > 0 });
  const scaled: Record<string, unknown> = {};
  if (cfg.fwScaleN > 0) {
    progress(`firewall: ${cfg.fwScaleN} containers with a published port each, per driver, ${cfg.fwScaleLockstep ? 'in lockstep' : 'one driver at a time'}`);
    const both = await firewallScale();
    for (const fw of FIREWALLS) {
      const { starts, removals, alone, traced, kthreads, n } = both[fw];
      const points = cfg.fwPoints.filter((p) => p <= n);
      const table = points.map((p) => ({ count: p, start: windowAt(starts, p), removal: windowAt(removals, p) }));
      for (const row of table) {
        rows.push({ section: FW_SECTION, item: `${fw}: start of container #${row.count} (-p each)`, unit: 'ms', summary: row.start });
        rows.push({ section: FW_SECTION, item: `${fw}: rm -f while ${row.count} exist`, unit: 'ms', summary: row.removal });
      }
      const ten = table[0];
      const last = table[table.length - 1];
      if (ten && last && last !== ten) {
        const rs = (last.start?.median ?? NaN) / (ten.start?.median ?? NaN);
        const rr = (last.removal?.median ?? NaN) / (ten.removal?.median ?? NaN);
        const flat = fw === 'nftables';
        targets.push({ target: `${fw}: start #${last.count} ${flat ? 'within 1.1x of' : 'vs'} #${ten.count}`, measured: `${fmtMs(last.start?.median)} vs ${fmtMs(ten.start?.median)} = ${rs.toFixed(2)}x`, met: flat ? rs <= 1.1 : undefined });
        targets.push({ target: `${fw}: rm -f with ${last.count} ${flat ? 'within 1.1x of' : 'vs'} with ${ten.count}`, measured: `${fmtMs(last.removal?.median)} vs ${fmtMs(ten.removal?.median)} = ${rr.toFixed(2)}x`, met: flat ? rr <= 1.1 : undefined });
      }
      const first = cfg.fwPoints[0] ?? 0;
      const aloneFirst = windowAt(alone, first);
      const aloneLast = windowAt(alone, n);
      if (aloneFirst && aloneLast && n > first) {
        const host = aloneLast.median / aloneFirst.median;
        rows.push({ section: FW_SECTION, item: `${fw}: a start on a network of its own, beside #${first} vs beside #${n}`, unit: 'ms', summary: aloneLast, ref: `${fmtMs(aloneFirst.median)} beside #${first}: ${host.toFixed(2)}x, the host-wide share of the growth` });
        const last = table[table.length - 1]?.start?.median ?? NaN;
        const ten = table[0]?.start?.median ?? NaN;
        rows.push({ section: FW_SECTION, item: `${fw}: start #${n} vs #${first}, the host-wide share taken out`, unit: 'x', value: last / ten / host, ref: 'what the containers on the same bridge add' });
      }
      const kt = (p: number, key: 'all' | 'kdamond'): number | undefined => {
        const w = kthreads.filter((s) => inWindow(s.count, p));
        return w.length > 0 ? w.reduce((sum, s) => sum + s[key], 0) / w.length : undefined;
      };
      const [ktFirst, ktLast] = [kt(first, 'all'), kt(n, 'all')];
      if (ktFirst !== undefined && ktLast !== undefined && n > first) {
        rows.push({ section: FW_SECTION, item: `${fw}: kernel threads' CPU per traced start (with its twin's start and rm -f), beside #${n}`, unit: 'ms', value: ktLast, ref: `${fmtMs(ktFirst)} beside #${first}; DAMON's kdamond ${fmtMs(kt(n, 'kdamond'))} vs ${fmtMs(kt(first, 'kdamond'))} of it (CPU taken from a 2-core machine's starts)` });
      }
      const growth = startGrowth(traced, first, n);
      const load = loadDrift(traced, cfg.fwPoints[0] ?? 0, n);
      if (load) rows.push({ section: FW_SECTION, item: `${fw}: the machine at #${n} vs #${cfg.fwPoints[0] ?? 0}: node bootstrap + bundle compile (no count in them)`, unit: 'x', value: load.ratio, ref: `${fmtMs(load.last)} vs ${fmtMs(load.first)}: above 1, other work slowed the later window` });
      for (const g of growth) rows.push({ section: FW_SECTION, item: `${fw}: where start #${n} spends more than #${cfg.fwPoints[0] ?? 0}: ${g.what}`, unit: 'ms', value: g.last, ref: `${fmtMs(g.first)} at #${cfg.fwPoints[0] ?? 0}` });
      scaled[fw] = { n, points: table, starts, removals, alone, kthreads, growth };
    }
  }
  if (cfg.fwScaleN > 0) {
    progress(`firewall: a start on an empty network, with and without ${cfg.fwScaleN} empty network namespaces on the host`);
    const share = await emptyNamespacesShare(cfg.fwScaleN);
    if (share.none && share.many) {
      rows.push({ section: FW_SECTION, item: `nftables: a start on a network of its own, beside ${cfg.fwScaleN} empty network namespaces (no container)`, unit: 'ms', summary: share.many, ref: `${fmtMs(share.none.median)} beside none: ${(share.many.median / share.none.median).toFixed(2)}x, the kernel's share (one bind mount per namespace, copied by every container's mount namespace)` });
    }
    scaled['emptyNamespaces'] = share;
  }
  for (const fw of FIREWALLS) await mc(['network', 'rm', `bench-${fw}`, ...(cfg.fwScaleN > 0 ? [`bench-${fw}-alone`] : [])]);
  results['firewalls'] = { step, packets, runRm: run, samples, ratio, scale: scaled };
}

// ---- Docker / Podman

/**
 * Flags some machines need for podman: crun refuses a host in cgroup hybrid mode (runc does
 * not), and podman's default ulimits exceed what a sandboxed host allows. Tried when a plain
 * run fails; the table says when they were used.
 */
const PODMAN_WORKAROUND = ['--runtime', 'runc'];
const PODMAN_RUN_WORKAROUND = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

/**
 * docker and podman, when they work. podman is daemonless: it runs in the sandbox host's
 * network namespace like minictr, so its bridge rows touch only the sandbox. docker's daemon
 * lives in the real host's namespace, so its bridge rows are measured only on request.
 */
async function otherEngines(): Promise<void> {
  const found: string[] = [];
  for (const engine of ['docker', 'podman'] as const) {
    const bin = await which(engine);
    if (!bin) {
      found.push(`${engine}: not installed`);
      continue;
    }
    const info = await timed([bin, 'info'], { timeoutMs: 15_000 });
    if (info.code !== 0) {
      found.push(`${engine}: client only, no working engine (\`${engine} info\` failed): not measured`);
      continue;
    }
    const sandboxed = engine === 'podman';
    const wrap = (argv: string[]): string[] => (sandboxed ? inHost(argv) : argv);
    // The same busybox minictr runs, loaded from `minictr save` when the engine lacks it.
    let loaded = false;
    if ((await timed(wrap([bin, 'image', 'inspect', 'busybox']), { timeoutMs: 30_000 })).code !== 0) {
      const tar = join(sb.root, `busybox-for-${engine}.tar`);
      const saved = await mc(['save', '-o', tar, 'busybox']);
      const load = saved.code === 0 ? await timed(wrap([bin, 'load', '-i', tar]), { timeoutMs: 120_000 }) : saved;
      await rm(tar, { force: true });
      if (load.code !== 0) {
        found.push(`${engine}: could not load busybox (${firstLine(load.stderr)}): not measured`);
        continue;
      }
      loaded = true;
    }
    const withNetwork = sandboxed || cfg.dockerNetwork;
    const variants: [string, string[]][] = [['none', ['--network', 'none']]];
    if (withNetwork) {
      variants.push(['bridge', ['--network', 'bridge']]);
      variants.push(['bridge -p 5005:5000', ['--network', 'bridge', '-p', '5005:5000']]);
    }
    let global: string[] = [];
    let runFlags: string[] = [];
    const argv = (net: string[]): string[] => wrap([bin, ...global, 'run', '--rm', ...net, ...runFlags, 'busybox', 'true']);
    let warm = await timed(argv(['--network', 'none']), { timeoutMs: 300_000 });
    if (warm.code !== 0 && engine === 'podman') {
      global = PODMAN_WORKAROUND;
      runFlags = PODMAN_RUN_WORKAROUND;
      warm = await timed(argv(['--network', 'none']), { timeoutMs: 300_000 });
    }
    if (warm.code === 0) {
      for (const [label, net] of variants) {
        const xs: number[] = [];
        for (let i = 0; i < cfg.reps && timeLeft() > 0; i++) {
          const r = await timed(argv(net), { timeoutMs: 60_000 });
          if (r.code === 0) xs.push(r.ms);
          else note(`${engine} ${label}: exit ${r.code}: ${firstLine(r.stderr)}`);
        }
        const s = summarize(xs);
        rows.push({ section: 'start latency', item: `${engine} run --rm --network ${label} busybox true`, unit: 'ms', summary: s, ref: s ? `${(s.median / floorMs).toFixed(2)}x floor` : '-' });
      }
      const flags = [...global, ...runFlags].join(' ');
      found.push(
        `${engine}: measured${sandboxed ? ' in the sandbox host namespace' : ''}${flags ? ` (with ${flags}: this machine needs them)` : ''}` +
          (withNetwork ? '' : ' (--network none only; BENCH_DOCKER_NETWORK=1 adds bridge rows, which change the real host network)'),
      );
    } else {
      found.push(`${engine}: engine works but busybox did not run (${firstLine(warm.stderr)}): not measured`);
    }
    if (loaded) await timed(wrap([bin, 'rmi', 'busybox']), { timeoutMs: 60_000 });
  }
  results['otherEngines'] = found;
}

// ------------------------------------------------------------------ output

function printTable(): string {
  const head = ['figure', 'median', 'min', 'max', 'n', 'beside', 'target'];
  const body: string[][] = [];
  let section = '';
  const lines: string[] = [];
  for (const r of rows) {
    if (r.section !== section) {
      body.push([`[${r.section}]`, '', '', '', '', '', '']);
      section = r.section;
    }
    body.push([
      r.item,
      fmtVal(r.summary?.median ?? r.value, r.unit),
      fmtVal(r.summary?.min, r.unit),
      fmtVal(r.summary?.max, r.unit),
      r.summary ? String(r.summary.n) : '',
      r.ref ?? '',
      r.target ?? '',
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i >= 1 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  lines.push(line(head));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) lines.push(line(b));
  return lines.join('\n');
}

function report(): string {
  const out: string[] = [];
  out.push(`minictr benchmark — ${new Date().toISOString()} — ${hostname()}, ${cpus().length} CPUs, Linux ${release()}, node ${process.version}${cfg.quick ? ' — QUICK' : ''}`);
  out.push(`load average at start ${LOAD0.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine makes figures noisier)`);
  const b = results['build'] as Record<string, string> | undefined;
  if (b) out.push(`build: ${b['commit']} (uncommitted src changes: ${b['srcChanges']}); dist built ${b['distBuilt']}; measured: ${b['measured']}`);
  out.push(`all minictr commands run as: nsenter --net=<sandbox host ns> node bin/minictr --root <tmp> …; floors go through the same nsenter`);
  out.push(`environment: what sudo leaves (PATH, HOME, LANG, TERM), for minictr and the floors alike${CALLER_NODE_VARS.length ? `; the caller's ${CALLER_NODE_VARS.join(", ")} is left out` : ""}`);
  if (rootfsTrueNote) out.push(rootfsTrueNote);
  out.push('');
  out.push(printTable());
  const bd = results['breakdown'] as
    | { runs: number; wall?: Summary; phases: Record<string, Summary | undefined>; commands: Record<string, Summary | undefined>; counts: Record<string, Summary | undefined>; locks: Record<string, Summary | undefined>; explainSteps: { ms: number; why: string }[] }
    | undefined;
  if (bd && bd.runs > 0) {
    out.push('');
    out.push(`where the time goes: run --rm --network bridge -p 5005:5000 busybox true (median of ${bd.runs} traced runs, wall ${fmtMs(bd.wall?.median)})`);
    for (const [k, v] of Object.entries(bd.phases)) out.push(`  ${k.padEnd(64)} ${fmtMs(v?.median).padStart(9)}`);
    out.push('  child processes (median total per run, × count):');
    for (const [k, v] of Object.entries(bd.commands)) out.push(`    ${k.padEnd(62)} ${fmtMs(v?.median).padStart(9)}  ×${bd.counts[k]?.median ?? '?'}`);
    const lockKeys = Object.keys(bd.locks);
    if (lockKeys.length) {
      out.push('  state locks (median per run):');
      for (const k of lockKeys) out.push(`    ${k.padEnd(62)} ${k.endsWith('count') ? String(bd.locks[k]?.median ?? '').padStart(9) : fmtMs(bd.locks[k]?.median).padStart(9)}`);
    }
    if (bd.explainSteps.length) {
      out.push('  --explain step times (one run):');
      for (const s of bd.explainSteps) out.push(`    ${fmtMs(s.ms).padStart(9)}  ${s.why.slice(0, 100)}`);
    }
  }
  const sc = results['scale'] as
    | { points: { count: number; start?: Summary; removal?: Summary; settled?: Summary; iptablesSaveMs?: number; psMs?: number; tracedStartPhases: Record<string, Summary | undefined>; tracedLockWait?: Summary; tracedChildMs?: Summary }[] }
    | undefined;
  if (sc && sc.points.length > 0) {
    out.push('');
    out.push(`scale detail (traced starts in each window, medians): where a detached start spends its time as containers accumulate`);
    const ph = (p: (typeof sc.points)[number], k: string): string => fmtMs(p.tracedStartPhases[k]?.median).padStart(9);
    out.push(`  ${'count'.padStart(5)} ${'start'.padStart(9)} ${'evaluate'.padStart(9)} ${'prepare'.padStart(9)} ${'net setup'.padStart(9)} ${'children'.padStart(9)} ${'pid wait'.padStart(9)} ${'lockwait'.padStart(9)} ${'ipt-save'.padStart(9)} ${'ps -a'.padStart(9)} ${'rm -f'.padStart(9)} ${'settled'.padStart(9)}`);
    for (const p of sc.points) {
      out.push(
        `  ${String(p.count).padStart(5)} ${fmtMs(p.start?.median).padStart(9)} ${ph(p, PHASE.evaluate)} ${ph(p, PHASE.prepare)} ${ph(p, 'network setup (first host command → monitor spawned)')} ${ph(p, '  of which in child processes (setup)')} ${ph(p, 'container: monitor spawned → pid file seen, record updated')} ${fmtMs(p.tracedLockWait?.median).padStart(9)} ${fmtMs(p.iptablesSaveMs).padStart(9)} ${fmtMs(p.psMs).padStart(9)} ${fmtMs(p.removal?.median).padStart(9)} ${fmtMs(p.settled?.median).padStart(9)}`,
      );
    }
    out.push('  (settled = rm -f start → the monitor, which records the exit status and leaves the rest to rm -f, has exited)');
  }
  out.push('');
  out.push('targets (printed, not enforced):');
  for (const t of targets) out.push(`  [${t.met === undefined ? '?' : t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.measured}`);
  const engines = results['otherEngines'] as string[] | undefined;
  if (engines) for (const e of engines) out.push(`  other engines — ${e}`);
  if (notes.length) {
    out.push('');
    out.push('notes:');
    for (const n of notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}

// ------------------------------------------------------------------ main

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killLive();
    try {
      if (sb.root) {
        const ps = await mc(['ps', '-aq', '--no-trunc'], { timeoutMs: 30_000 });
        const left = ps.stdout.split('\n').filter((l) => /^[0-9a-f]{64}$/.test(l));
        if (left.length > 0) {
          process.stderr.write(`bench: cleanup removes ${left.length} containers\n`);
          await mc(['rm', '-f', ...left], { timeoutMs: 10 * 60_000 });
        }
      }
    } catch {
      // the sandbox cleanup below kills recorded pids and deletes namespaces anyway
    }
    // A namespace no record leads back to is a leak (issue #12): say so, and fail the bench.
    const leaked = sb.root ? await sb.leakedNamespaces().catch(() => [] as string[]) : [];
    if (leaked.length > 0) {
      process.stderr.write(`bench: LEAK: network namespaces with no record: ${leaked.join(' ')}\n`);
      process.exitCode = 1;
      for (const ns of leaked) await sb.host(['ip', 'netns', 'del', ns]).catch(() => undefined);
    }
    await removeEmptyNamespaces().catch(() => undefined);
    await sb.cleanup().catch((err) => process.stderr.write(`bench: sandbox cleanup: ${String(err)}\n`));
    for (const d of tempDirs) await rm(d, { recursive: true, force: true }).catch(() => undefined);
  })();
  return cleaning;
}

// ---- rootless (issue #13): a user made for the run, beside rootless podman

async function rootless(): Promise<void> {
  progress(`rootless: ${cfg.reps} rounds${cfg.iperfReps > 0 ? `, iperf3 ${cfg.iperfReps} x ${cfg.iperfSeconds} s a published port` : ''}`);
  const iperf = cfg.iperfReps > 0 ? { tarball: await buildIperfImage(), reps: cfg.iperfReps, seconds: cfg.iperfSeconds } : undefined;
  const found = await rootlessStarts(sb, cfg.reps, iperf);
  for (const r of found) {
    const ref = r.unit === 'ms' && floorMs && r.summary ? `${(r.summary.median / floorMs).toFixed(2)}x floor` : '-';
    rows.push({ section: 'rootless', item: r.item + (r.failure ? ' (FAILURES)' : ''), unit: r.unit, summary: r.summary, ref });
    if (r.failure) note(`rootless ${r.item}: ${r.failure}`);
  }
  results['rootless'] = found;
}

async function main(): Promise<number> {
  if (!isRoot) {
    process.stderr.write('bench: needs root (it creates network namespaces); run it with sudo\n');
    return 1;
  }
  if (!(await exists(MINICTR)) || !(await exists(join(REPO, 'dist', 'src', 'cli', 'main.js')))) {
    process.stderr.write('bench: build first (make build)\n');
    return 1;
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`bench: ${sig}, cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const started = new Date();
  const sections: [string, () => Promise<void>][] = [
    ['latency', latency],
    ['modules', modules],
    ['breakdown', breakdown],
    ['init', initScript],
    ['cgroup', cgroupCost],
    ['console', consoleCost],
    ['api', apiCost],
    ['dns', dnsCost],
    ['many', many],
    ['serving', serving],
    ['iperf', dataPath],
    ['relay', relayPath],
    ['scale', scale],
    ['cni', cniNode],
    ['firewall', firewalls],
    ['docker', otherEngines],
    ['rootless', rootless],
  ];
  let code = 0;
  try {
    await snapshotBuild();
    results['build'] = await buildInfo();
    await sb.setup();
    await warmUp();
    for (const [name, fn] of sections) {
      if (cfg.skip.has(name)) {
        note(`${name}: skipped (BENCH_SKIP)`);
        continue;
      }
      // The CNI simulation's size is fixed (110 and 250 pods), and the firewall comparison is the one figure
      // of issue #16: both run whatever the budget says, as the engines do.
      if (timeLeft() < 0 && name !== 'docker' && name !== 'cni' && name !== 'firewall') {
        note(`${name}: skipped, time budget of ${cfg.budgetS} s exhausted (BENCH_BUDGET_S)`);
        continue;
      }
      try {
        await fn();
      } catch (err) {
        code = 1;
        note(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } catch (err) {
    code = 1;
    note(`setup failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    progress('cleaning up the sandbox');
    await cleanup();
  }
  const text = report();
  process.stdout.write(`${text}\n`);
  await mkdir(RESULTS, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const svg = results['scaleSvg'] as string | undefined;
  delete results['scaleSvg'];
  const doc = {
    meta: {
      started: started.toISOString(),
      durationS: (Date.now() - T0) / 1000,
      host: hostname(),
      kernel: release(),
      node: process.version,
      cpus: cpus().length,
      loadavgStart: LOAD0,
      loadavgEnd: loadavg(),
      config: { ...cfg, skip: [...cfg.skip] },
    },
    rows,
    targets,
    notes,
    ...results,
    table: text,
  };
  const jsonPath = join(RESULTS, `bench-${stamp}.json`);
  await writeFile(jsonPath, JSON.stringify(doc, null, 2));
  await writeFile(join(RESULTS, 'latest.json'), JSON.stringify(doc, null, 2));
  const written = [jsonPath];
  if (svg) {
    const svgPath = join(RESULTS, `scale-${stamp}.svg`);
    await writeFile(svgPath, svg);
    await writeFile(join(RESULTS, 'scale-latest.svg'), svg);
    written.push(svgPath);
  }
  process.stdout.write(`\nwritten: ${written.map((p) => p.replace(`${REPO}/`, '')).join(', ')} (and latest.json${svg ? ', scale-latest.svg' : ''}); ${((Date.now() - T0) / 1000).toFixed(0)} s\n`);
  return code;
}

process.exitCode = await main();

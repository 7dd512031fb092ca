// Small helpers for the benchmark: timed child processes (tracked so they can be killed
// by pid), statistics, and reading memory figures from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface Timed {
  code: number;
  ms: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const live = new Set<ChildProcess>();

/** SIGKILL every child this benchmark started that is still running (by pid). */
export function killLive(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/**
 * Run argv, timing from just before spawn to the child's exit (hrtime). Output is
 * collected until the pipes close. Killed (by pid) after timeoutMs.
 */
export function timed(
  argv: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<Timed> {
  return new Promise((resolveTimed) => {
    const [file, ...args] = argv;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let exitAt: bigint | undefined;
    let code = 0;
    const started = process.hrtime.bigint();
    const child = spawn(file ?? 'false', args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    live.add(child);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }, options.timeoutMs ?? 60_000);
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.stdout?.on('data', (d: Buffer) => {
      if (stdout.length < 4 * 1024 * 1024) stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 1024 * 1024) stderr += d.toString();
    });
    child.once('exit', (c, signal) => {
      exitAt = process.hrtime.bigint();
      code = c ?? (signal ? 128 + 9 : 1);
    });
    child.once('error', (err) => {
      stderr += String(err);
      code = 127;
    });
    child.once('close', () => {
      clearTimeout(timer);
      live.delete(child);
      const end = exitAt ?? process.hrtime.bigint();
      resolveTimed({ code: timedOut ? 124 : code, ms: Number(end - started) / 1e6, stdout, stderr, timedOut });
    });
  });
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summarize(values: number[]): Summary | undefined {
  const ok = values.filter((v) => Number.isFinite(v));
  if (ok.length === 0) return undefined;
  return { median: median(ok), min: Math.min(...ok), max: Math.max(...ok), n: ok.length };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Rss and Pss of a process in kB (smaps_rollup), falling back to VmRSS; undefined when gone. */
export async function processMemory(pid: number): Promise<{ rssKb: number; pssKb: number | undefined } | undefined> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const field = (text: string, name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const rss = field(rollup, 'Rss');
  if (rss !== undefined) return { rssKb: rss, pssKb: field(rollup, 'Pss') };
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const vm = field(status, 'VmRSS');
  return vm === undefined ? undefined : { rssKb: vm, pssKb: undefined };
}

export async function processChildren(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean).map(Number);
}

export async function processName(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
}

/** Field 22 of /proc/<pid>/stat (start time), 0 when gone or a zombie. */
export async function processStartTime(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return 0;
  return Number(fields[19] ?? 0);
}

export function fmtMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  return `${v.toFixed(1)} ms`;
}

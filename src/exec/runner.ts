// The one place minictr changes the host: it starts host processes (ip, iptables, mount,
// unshare …), writes kernel settings and waits for the kernel. Everything else asks a Runner,
// so unit tests can swap in a recording fake (test/unit/fakes/recording-runner.ts) that sees
// every effect of a plan.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { CommandFailedError, MinictrError } from '../base/errors.js';
import type { Argv, PlanSignal } from '../base/plan.js';
import { waitFor } from '../base/proc.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  /** Return a non-zero exit as a result instead of throwing. */
  allowFailure?: boolean;
}

export interface Runner {
  run(argv: Argv, options?: RunOptions): Promise<RunResult>;
  /** Write a small file, a sysctl under /proc/sys: done in-process, no extra process. */
  write(path: string, content: string): Promise<void>;
  /**
   * Wait until the kernel has removed `path` by itself (a veth goes with its namespace);
   * false when it is still there after `timeoutMs`.
   */
  waitGone(path: string, timeoutMs: number): Promise<boolean>;
  /** Make one directory, not its parents (a cgroup): an existing one is an error (EEXIST). */
  mkdir(path: string): Promise<void>;
  /** Remove one empty directory (a cgroup): a missing one is an error (ENOENT). */
  rmdir(path: string): Promise<void>;
  /** Send `signal` to `pid`: a process gone already is an error (ESRCH, "No such process"). */
  signal(pid: number, signal: PlanSignal): Promise<void>;
}

/** How often a wait looks again: the kernel takes a few ms. */
const WAIT_POLL_MS = 1;

function splitArgv(argv: Argv): [string, string[]] {
  const [file, ...args] = argv;
  if (file === undefined) throw new MinictrError('E_INTERNAL', 'empty command');
  return [file, args];
}

export class HostRunner implements Runner {
  async run(argv: Argv, options: RunOptions = {}): Promise<RunResult> {
    const [file, args] = splitArgv(argv);
    // Loaded on first use: commands that run nothing (ps, inspect, --help) skip its start-up cost.
    const { execa } = await import('execa');
    const result = await execa(file, args, {
      reject: false,
      stripFinalNewline: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      ...(options.env ? { env: options.env, extendEnv: true } : {}),
    });
    if (result.failed && result.exitCode === undefined) {
      const missing = (result as { code?: string }).code === 'ENOENT';
      if (missing) {
        throw new MinictrError(
          'E_MISSING_TOOL',
          `"${file}" was not found on PATH; install it (sudo make install sets up every tool minictr needs)`,
        );
      }
    }
    const out: RunResult = {
      exitCode: result.exitCode ?? 128,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
    };
    if (out.exitCode !== 0 && !options.allowFailure) {
      throw new CommandFailedError(argv, result.exitCode, out.stderr);
    }
    return out;
  }

  async write(path: string, content: string): Promise<void> {
    // Blocking: a /proc/sys write takes microseconds, an asynchronous one a thread-pool round trip.
    writeFileSync(path, content);
  }

  async mkdir(path: string): Promise<void> {
    // Blocking, as write: a cgroup mkdir or rmdir takes microseconds.
    mkdirSync(path);
  }

  async rmdir(path: string): Promise<void> {
    rmdirSync(path);
  }

  async signal(pid: number, signal: PlanSignal): Promise<void> {
    try {
      process.kill(pid, `SIG${signal}`);
    } catch (err) {
      // Said as kill(1) says it, so a plan's tolerance reads the same either way.
      const gone = (err as NodeJS.ErrnoException).code === 'ESRCH';
      throw new Error(gone ? `kill: (${pid}) - No such process` : `kill -${signal} ${pid}: ${(err as Error).message}`);
    }
  }

  waitGone(path: string, timeoutMs: number): Promise<boolean> {
    return waitFor(async () => !existsSync(path), timeoutMs, WAIT_POLL_MS);
  }
}

export interface SpawnOptions {
  stdio: StdioOptions;
  detached?: boolean;
  env?: Record<string, string>;
}

/** Start a long-lived process (a container's monitor). */
export function spawnProcess(argv: Argv, options: SpawnOptions): ChildProcess {
  const [file, args] = splitArgv(argv);
  return spawn(file, args, {
    stdio: options.stdio,
    detached: options.detached ?? false,
    ...(options.env ? { env: options.env } : {}),
  });
}

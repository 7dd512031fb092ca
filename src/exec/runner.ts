// The one place minictr changes the host: it starts host processes (ip, iptables, mount,
// unshare …), writes kernel settings and waits for the kernel. Everything else asks a Runner,
// so unit tests can swap in a recording fake (test/unit/fakes/recording-runner.ts) that sees
// every effect of a plan.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { CommandFailedError, MinictrError } from '../base/errors.js';
import type { Argv } from '../base/plan.js';
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
}

/** How often a wait looks again: the kernel takes a few ms. */
const WAIT_POLL_MS = 1;

function splitArgv(argv: Argv): [string, string[]] {
  const [file, ...args] = argv;
  if (file === undefined) throw new MinictrError('E_INTERNAL', 'empty command');
  return [file, args];
}

export class HostRunner implements Runner {
  /**
   * node:child_process directly: execa's own start-up (its module graph, `figures` among it)
   * costs ~40 ms per process on an idle machine and over 100 ms on a busy one, more than most
   * of the commands it would start. A short-lived process pays it on every run: the CNI plugin
   * runs once per pod.
   */
  run(argv: Argv, options: RunOptions = {}): Promise<RunResult> {
    const [file, args] = splitArgv(argv);
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: options.env ? { ...process.env, ...options.env } : process.env,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout?.on('data', (d: Buffer) => stdout.push(d));
      child.stderr?.on('data', (d: Buffer) => stderr.push(d));
      // A child that exits before reading all its input closes the pipe: its exit status says why.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
      const settle = (code: number | undefined, said: string): void => {
        const out: RunResult = { exitCode: code ?? 128, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() + said };
        if (out.exitCode !== 0 && !options.allowFailure) reject(new CommandFailedError(argv, code, out.stderr));
        else resolve(out);
      };
      // A command that could not be started (too many processes, no memory) fails like one
      // killed by a signal, 128; only a missing tool is an error of its own.
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          reject(new MinictrError('E_MISSING_TOOL', `"${file}" was not found on PATH; install it (sudo make install sets up every tool minictr needs)`));
        } else settle(undefined, `could not be started: ${err.message}`);
      });
      // 'close', not 'exit': the output pipes are drained by then.
      child.once('close', (code: number | null) => settle(code ?? undefined, ''));
    });
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

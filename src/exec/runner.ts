// The one place minictr starts host processes (ip, iptables, mount, unshare …).
// Everything else asks a Runner, so tests can swap in the RecordingRunner.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { CommandFailedError, MinictrError } from '../base/errors.js';
import type { Argv } from '../base/plan.js';

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
}

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
}

export interface Recorded {
  argv: Argv;
  input?: string;
}

/** A fake for unit tests: records every command and answers from a script. */
export class RecordingRunner implements Runner {
  readonly calls: Recorded[] = [];
  private readonly answers: { match: (argv: Argv) => boolean; result: RunResult }[] = [];

  answer(match: (argv: Argv) => boolean, result: Partial<RunResult>): this {
    this.answers.push({ match, result: { exitCode: 0, stdout: '', stderr: '', ...result } });
    return this;
  }

  async run(argv: Argv, options: RunOptions = {}): Promise<RunResult> {
    this.calls.push(options.input === undefined ? { argv } : { argv, input: options.input });
    const found = this.answers.find((a) => a.match(argv));
    const result = found?.result ?? { exitCode: 0, stdout: '', stderr: '' };
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new CommandFailedError(argv, result.exitCode, result.stderr);
    }
    return result;
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

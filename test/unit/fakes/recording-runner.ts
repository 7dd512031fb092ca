// A Runner for unit tests: records every effect a plan has on the host, in order (commands,
// writes, waits, directories), and answers commands from a script. Nothing is run, written or waited for.
import { CommandFailedError } from '../../../src/base/errors.js';
import type { Argv, PlanSignal } from '../../../src/base/plan.js';
import type { Runner, RunOptions, RunResult } from '../../../src/exec/runner.js';

export interface Recorded {
  argv: Argv;
  input?: string;
}

export type Effect =
  | { kind: 'command'; argv: Argv; input?: string }
  | { kind: 'write'; path: string; content: string }
  | { kind: 'wait-gone'; path: string; timeoutMs: number }
  | { kind: 'mkdir'; path: string }
  | { kind: 'rmdir'; path: string }
  | { kind: 'signal'; pid: number; signal: PlanSignal };

export class RecordingRunner implements Runner {
  /** The commands, as before: argv and stdin. */
  readonly calls: Recorded[] = [];
  /** Every effect, commands included, in the order they happened. */
  readonly effects: Effect[] = [];
  private readonly answers: { match: (argv: Argv, input?: string) => boolean; result: RunResult }[] = [];
  private readonly dirErrors: { kind: 'mkdir' | 'rmdir'; path: string; message: string }[] = [];

  /** `gone(path)` answers a wait: by default everything the kernel should remove is gone at once. */
  constructor(private readonly gone: (path: string) => boolean | Promise<boolean> = () => true) {}

  /** Answer the first command `match` picks (by its argv, or its stdin) with `result`. */
  answer(match: (argv: Argv, input?: string) => boolean, result: Partial<RunResult>): this {
    this.answers.push({ match, result: { exitCode: 0, stdout: '', stderr: '', ...result } });
    return this;
  }

  async run(argv: Argv, options: RunOptions = {}): Promise<RunResult> {
    const call = options.input === undefined ? { argv } : { argv, input: options.input };
    this.calls.push(call);
    this.effects.push({ kind: 'command', ...call });
    const found = this.answers.find((a) => a.match(argv, options.input));
    const result = found?.result ?? { exitCode: 0, stdout: '', stderr: '' };
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new CommandFailedError(argv, result.exitCode, result.stderr);
    }
    return result;
  }

  async write(path: string, content: string): Promise<void> {
    this.effects.push({ kind: 'write', path, content });
  }

  async mkdir(path: string): Promise<void> {
    this.effects.push({ kind: 'mkdir', path });
    const error = this.dirErrors.find((e) => e.kind === 'mkdir' && e.path === path);
    if (error) throw new Error(error.message);
  }

  async rmdir(path: string): Promise<void> {
    this.effects.push({ kind: 'rmdir', path });
    const error = this.dirErrors.find((e) => e.kind === 'rmdir' && e.path === path);
    if (error) throw new Error(error.message);
  }

  /** Make a later mkdir or rmdir of `path` fail with `message`, as node:fs says it ("EEXIST: file already exists, mkdir '…'"). */
  failDir(kind: 'mkdir' | 'rmdir', path: string, message: string): this {
    this.dirErrors.push({ kind, path, message });
    return this;
  }

  async signal(pid: number, signal: PlanSignal): Promise<void> {
    this.effects.push({ kind: 'signal', pid, signal });
  }

  async waitGone(path: string, timeoutMs: number): Promise<boolean> {
    this.effects.push({ kind: 'wait-gone', path, timeoutMs });
    return this.gone(path);
  }
}

// What every command needs: a runtime over the state root the user chose, and how to talk to the user.
import type { Op } from '../base/plan.js';
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import { explainStep } from '../explain/render.js';
import { Runtime } from '../runtime/runtime.js';

export interface GlobalOptions {
  root?: string;
}

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new MinictrError('E_NOT_ROOT', 'minictr needs root to create namespaces and change the network; run it with sudo');
  }
}

function globalOptions(command: Command): GlobalOptions {
  let top: Command = command;
  while (top.parent) top = top.parent;
  return top.opts<GlobalOptions>();
}

/**
 * The runtime for the --root given on the top-level program (or MINICTR_ROOT, or the default).
 * `explain` prints each host change as it is made; `rootless` lets a command that can do
 * without root (doctor) run without it.
 */
export function runtimeFor(command: Command, options: { explain?: boolean; rootless?: boolean; beforeStep?: (op: Op) => Promise<void> } = {}): Runtime {
  if (!options.rootless) requireRoot();
  const { root } = globalOptions(command);
  return new Runtime({
    ...(root !== undefined ? { root } : {}),
    ...(options.explain ? { onStep: explainStep } : {}),
    ...(options.beforeStep ? { beforeStep: options.beforeStep } : {}),
  });
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Docker prints what it could not clean up as warnings; the command still succeeds. */
export function warn(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`minictr: warning: ${w}\n`);
}

/** Docker's way with several arguments: act on each, report each failure, exit 1 if any failed. */
export async function eachArgument(args: string[], fn: (arg: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const arg of args) {
    try {
      await fn(arg);
    } catch (err) {
      if (!(err instanceof MinictrError)) throw err;
      warn(err.warnings);
      process.stderr.write(`minictr: ${err.message}\n`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}

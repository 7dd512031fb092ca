// What every command needs: a runtime over the state root the user chose, and how to talk to the user.
import type { Op } from '../base/plan.js';
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import { explainStep } from '../explain/render.js';
import { Runtime } from '../runtime/runtime.js';
import { currentRootlessIds } from '../runtime/rootless.js';
import { fullyMapped, singleIdNote } from '../runtime/rootless-ids.js';
import { onSkippedDevices } from '../image/unpack-notes.js';

export interface GlobalOptions {
  root?: string;
}

/** A command rootless minictr cannot do (firewall switches, the Engine API server). */
export function requireRoot(what = 'this command'): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new MinictrError('E_NOT_ROOT', `${what} needs root (rootless minictr runs containers, images, volumes and networks as your own user, not this); run it with sudo`);
  }
}

function globalOptions(command: Command): GlobalOptions {
  let top: Command = command;
  while (top.parent) top = top.parent;
  return top.opts<GlobalOptions>();
}

/**
 * The runtime for the --root given on the top-level program (or MINICTR_ROOT, or the default:
 * root's, or a normal user's own, rootless). `explain` prints each host change as it is made;
 * `inspectOnly` (doctor) opens no state root.
 */
export function runtimeFor(command: Command, options: { explain?: boolean; inspectOnly?: boolean; beforeStep?: (op: Op) => Promise<void> } = {}): Runtime {
  const { root } = globalOptions(command);
  const rootless = currentRootlessIds();
  if (rootless) onSkippedDevices(sayDevicesSkipped);
  const rt = new Runtime({
    ...(root !== undefined ? { root } : {}),
    ...(options.explain ? { onStep: explainStep } : {}),
    ...(options.beforeStep ? { beforeStep: options.beforeStep } : {}),
    ...(rootless ? { rootless } : {}),
  });
  if (!options.inspectOnly) rt.claimStateRoot();
  return rt;
}

let noted = false;
let devicesNoted = false;

/** Rootless: device nodes skipped while unpacking, said once a command, in one line. */
function sayDevicesSkipped(label: string, paths: string[]): void {
  if (devicesNoted) return;
  devicesNoted = true;
  const more = paths.length > 1 ? ` (and ${paths.length - 1} more)` : '';
  warn([`${label}: device node ${paths[0] ?? ''}${more} skipped: a normal user cannot make device nodes; containers get the host's /dev/null, /dev/zero … bound instead`]);
}

/** What a rootless user should know once per command that makes a container: the single-id fallback. */
export function sayRootlessNotes(rt: Runtime): void {
  if (noted || !rt.rootless || fullyMapped(rt.rootless)) return;
  noted = true;
  warn([singleIdNote(rt.rootless)]);
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

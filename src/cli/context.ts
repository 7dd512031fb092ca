// What every command needs: where state lives, a runtime over it, and how to talk to the user.
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import { Store } from '../state/store.js';
import { resolveRoot } from '../state/paths.js';
import { Runtime, type RuntimeOptions } from '../runtime/runtime.js';

export interface GlobalOptions {
  root?: string;
}

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new MinictrError('E_NOT_ROOT', 'minictr needs root to create namespaces and change the network; run it with sudo');
  }
}

/** The store for the --root given on the top-level program (or MINICTR_ROOT, or the default). */
export function storeFor(command: Command): Store {
  requireRoot();
  let top: Command = command;
  while (top.parent) top = top.parent;
  const opts = top.opts<GlobalOptions>();
  return new Store(resolveRoot(opts.root));
}

export async function runtimeFor(command: Command, options: RuntimeOptions = {}): Promise<Runtime> {
  return new Runtime(storeFor(command), options);
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

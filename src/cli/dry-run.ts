// `run --dry-run`: everything a run would do to the host, as a script, with nothing changed.
import type { Command } from 'commander';
import { runtimeFor, print } from './context.js';
import { requestFromFlags, type RunFlags } from './run.js';
import { renderShell, shellLine, shellQuote } from '../explain/render.js';
import { initCommand } from '../runtime/init-script.js';
import { parseCompareEngine, renderCompare } from '../explain/compare.js';

export async function dryRun(cmd: Command, imageRef: string, args: string[], flags: RunFlags): Promise<number> {
  // A misspelled engine fails before anything else.
  const engine = flags.compare === undefined ? undefined : parseCompareEngine(flags.compare);
  const runtime = await runtimeFor(cmd);
  const request = await requestFromFlags(runtime, imageRef, args, flags);
  const record = await runtime.prepare(request);
  if (!record.name) record.name = '<generated>';
  const paths = runtime.store.paths;
  const out: string[] = [
    '#!/bin/sh',
    `# minictr run --dry-run: the host commands this run would execute (nothing was changed).`,
    'set -e',
  ];
  const planned = await runtime.network.planAttach(record, await runtime.store.listContainers());
  if (planned) out.push(renderShell(planned.plan));
  const fs = paths.containerRootfs(record.id);
  const mode = record.hostConfig.networkMode;
  const init = initCommand(await runtime.initSpec(record, planned?.attachment.netns));
  out.push(
    `# start the container's process in new pid, mount, ipc${mode === 'host' ? '' : ', uts'}${mode === 'none' ? ', net' : ''} namespaces` +
      (planned ? ` inside ${planned.attachment.netns}` : mode === 'host' ? " (sharing the host's network)" : '') +
      '; the script mounts an overlay root, /proc, /dev and a read-only /sys, then pivot_roots into it',
    `mkdir -p ${shellQuote(fs.upper)} ${shellQuote(fs.work)} ${shellQuote(fs.merged)}`,
    `env -i ${Object.entries(init.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' \\\n  ')} \\\n  ${shellLine(init.argv)}`,
  );
  if (engine !== undefined) out.push(renderCompare(planned, engine));
  print(out.join('\n'));
  return 0;
}

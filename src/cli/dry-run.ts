// `run --dry-run`: everything a run would do to the host, as a script, with nothing changed.
import type { Command } from 'commander';
import { runtimeFor, print } from './context.js';
import { specFromFlags, type RunFlags } from './run.js';
import { renderShell, shellLine, shellQuote } from '../explain/render.js';
import { parseCompareEngine, renderCompare } from '../explain/compare.js';
import { isNftablesCompare, renderNftCompare } from '../explain/compare-nft.js';
import { describeMounts } from '../explain/mounts.js';
import { relayLines } from '../explain/relay.js';
import { helperLines, rootlessNetnsLines, userNamespaceLines, withPid } from '../explain/rootless.js';

export async function dryRun(cmd: Command, image: string, args: string[], flags: RunFlags): Promise<number> {
  // A misspelled engine fails before anything else.
  const nftables = flags.compare !== undefined && isNftablesCompare(flags.compare);
  const engine = flags.compare === undefined || nftables ? undefined : parseCompareEngine(flags.compare);
  const planned = await runtimeFor(cmd).planRun(await specFromFlags(image, args, flags));
  const { record, network, init } = planned;
  const mode = record.hostConfig.networkMode;
  const out: string[] = [
    '#!/bin/sh',
    `# minictr run --dry-run: the host commands this run would execute (nothing was changed).`,
    'set -e',
  ];
  if (network) out.push(renderShell(network.plan));
  if (planned.relay) out.push(...relayLines(planned.relay, shellLine(planned.relay.argv)));
  if (planned.cgroup) out.push(renderShell(planned.cgroup));
  if (planned.devTemplate) out.push(renderShell(planned.devTemplate));
  out.push(...describeMounts(record.mounts ?? [], record.hostConfig.readonlyRootfs === true));
  const rootless = planned.rootless;
  if (rootless) out.push(...userNamespaceLines(rootless), ...rootlessNetnsLines(rootless));
  const ownNet = rootless?.helper !== undefined || rootless?.bridge !== undefined;
  out.push(
    `# start the container's process in new ${rootless && !rootless.bridge ? 'user, ' : ''}pid, mount, ipc${mode === 'host' ? '' : ', uts'}${mode === 'none' || ownNet ? ', net' : ''} namespaces` +
      (network ? ` inside ${network.attachment.netns}` : mode === 'host' ? " (sharing the host's network)" : rootless?.bridge ? " inside the rootless namespace's user namespace ($HOLDER)" : '') +
      '; the script mounts an overlay root, /proc, /dev and a read-only /sys, then pivot_roots into it',
    `mkdir -p ${planned.dirs.map(shellQuote).join(' ')}`,
    renderShell(planned.etc).trimEnd(),
    ...(planned.resolver ? [renderShell(planned.resolver).trimEnd()] : []),
    `env -i ${Object.entries(init.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' \\\n  ')} \\\n  ${rootless?.bridge ? withPid(shellLine(init.argv)) : shellLine(init.argv)}${ownNet ? ' &' : ''}`,
  );
  if (rootless) out.push(...helperLines(rootless));
  if (nftables) out.push(renderNftCompare(network));
  else if (engine !== undefined) out.push(renderCompare(network, engine));
  print(out.join('\n'));
  return 0;
}

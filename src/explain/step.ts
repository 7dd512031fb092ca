// `run --step`: each host step shown before it runs, with its why and a command the learner can
// type in another terminal to see what the step changed. Pure.
import type { Op } from '../base/plan.js';
import { opCommands } from './render.js';

/** A read-only command that shows what `op` changes, or undefined when there is nothing to look at. */
export function seeCommand(op: Op): string | undefined {
  if (op.kind === 'write') return `cat ${op.path}`;
  if (op.kind === 'mkdir') return `ls ${op.path}`;
  if (op.kind === 'rmdir' || op.kind === 'wait-gone') return `ls -d ${op.path}`;
  // The only process a plan signals is the resolver.
  if (op.kind === 'signal') return 'ss -ulnp | grep minictr-dns';
  const argv = op.argv;
  const shown = (op.shown ?? [argv]).map((a) => a.join(' ')).join('\n');
  const ns = /^ip -n (\S+)/m.exec(shown)?.[1] ?? /--net=\/run\/netns\/(\S+)/.exec(shown)?.[1];
  // The container's links are shown with ip -n, the shorter command to type by hand.
  if ((argv[0] === 'ip' || / ip (link|addr|route) /.test(shown)) && ns) return `ip -n ${ns} addr; ip -n ${ns} route`;
  if (argv[0] === 'nsenter' && ns) return `nsenter --net=/run/netns/${ns} iptables -t nat -S`;
  if (argv[0] === 'ip') {
    const veth = /link add (\S+) .*type veth/.exec(shown)?.[1];
    if (veth) return `ip netns list; ip -br link show ${veth}`;
    const bridge = /link add (\S+) type bridge/.exec(shown)?.[1];
    if (bridge) return `ip -br addr show ${bridge}`;
    return 'ip -br link';
  }
  if (argv[0] === 'iptables-restore') {
    const tables = [...new Set((op.stdin ?? '').split('\n').filter((l) => l.startsWith('*')).map((l) => l.slice(1)))];
    return tables.map((t) => `iptables -t ${t} -S`).join('; ');
  }
  if (/minictr-dns$/.test(argv[0] ?? '')) return 'ss -ulnp | grep minictr-dns';
  return undefined;
}

/** What --step prints before a step: its why, the commands, and how to see the change. */
export function stepText(op: Op, n: number): string {
  const lines = [`step ${n}: ${op.why}`, ...opCommands(op).map((c) => `  $ ${c.split('\n').join('\n    ')}`)];
  const see = seeCommand(op);
  if (see) lines.push(`  see it (another terminal): ${see}`);
  return lines.join('\n');
}


// `minictr trace`: the path one packet takes through the host's rules, and why each rule is there.
import type { Command } from 'commander';
import { MinictrError } from '../base/errors.js';
import { print, runtimeFor } from './context.js';

/** `10s`, `500ms`, `2m` or plain seconds. */
function parseTimeout(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new MinictrError('E_BAD_FLAG', `invalid --timeout "${text}": e.g. 10s, 500ms or 2m`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

export function registerTraceCommand(program: Command): void {
  program
    .command('trace')
    .description("follow a packet through the host's rules: each hook, table, chain and rule, and why it is there")
    .argument('[container]', "trace to this container's own address (with --port)")
    .option('--to <addr:port[/proto]>', 'the destination as the client addresses it, e.g. 10.0.0.1:5005/tcp')
    .option('--port <port>', "with a container: the container's port")
    .option('--from <addr|container>', 'only packets from this address (or container)')
    .option('--count <n>', 'how many request/reply exchanges to show', '1')
    .option('--timeout <duration>', 'how long to wait for a packet', '10s')
    .option('--explain', 'print each host command as it runs')
    .action(async function (this: Command, container: string | undefined, opts: { to?: string; port?: string; from?: string; count: string; timeout: string; explain?: boolean }) {
      const rt = runtimeFor(this, { explain: opts.explain ?? false });
      const result = await rt.trace({
        ...(container !== undefined ? { container } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.from !== undefined ? { from: opts.from } : {}),
        count: Number(opts.count),
        timeoutMs: parseTimeout(opts.timeout),
        onArmed: (text) => print(text),
      });
      print(result.text);
    });
}

// `run --step[=auto:DURATION]`: pause before each host step, print it (explain/step.ts), and go
// on at Enter, or by itself after DURATION.
import { createInterface } from 'node:readline';
import type { Op } from '../base/plan.js';
import { MinictrError } from '../base/errors.js';
import { stepText } from '../explain/step.js';

/** `--step` alone (Enter), or `auto:2s` / `auto:500ms`. */
export function parseStepMode(value: string | boolean): { autoMs?: number } {
  if (value === true || value === '') return {};
  const m = /^auto:(\d+(?:\.\d+)?)(ms|s)$/.exec(String(value));
  if (!m) throw new MinictrError('E_BAD_FLAG', `invalid --step "${String(value)}": use --step, or --step=auto:2s`);
  return { autoMs: m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000 };
}

/** The stepper: prints to stderr (stdout stays the container's) and waits. */
export function stepper(mode: { autoMs?: number }): (op: Op) => Promise<void> {
  let n = 0;
  let lines: AsyncIterableIterator<string> | undefined;
  // Once stopped, the clean-up that follows (removing what was made) runs without pausing.
  let stopped = false;
  return async (op: Op) => {
    if (stopped) return;
    n++;
    process.stderr.write(`\n${stepText(op, n)}\n`);
    if (mode.autoMs !== undefined) {
      process.stderr.write(`  (going on in ${mode.autoMs / 1000} s)\n`);
      await new Promise((r) => setTimeout(r, mode.autoMs));
      return;
    }
    process.stderr.write('  press Enter to run it\n');
    lines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
    const next = await lines.next();
    if (next.done) stopped = true;
    if (next.done) throw new MinictrError('E_STEP_STOPPED', 'stopped at a step: standard input ended (use --step=auto:2s to go on by itself)');
  };
}

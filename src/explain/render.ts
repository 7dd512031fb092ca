// Renders plans for people: a shell script for --dry-run, a live step log for --explain.
import type { Argv, Op, Plan, StepReport } from '../base/plan.js';

/** Quote one word for a POSIX shell, only when it needs it. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellLine(argv: Argv): string {
  return argv.map(shellQuote).join(' ');
}

/** A wait for the kernel as one shell line, with what is done by hand when it times out. */
function waitLine(op: Extract<Op, { kind: 'wait-gone' }>): string {
  const wait = `timeout ${op.timeoutMs / 1000} sh -c 'while [ -e ${op.path} ]; do sleep 0.001; done'`;
  const byHand = (op.fallback ?? []).flatMap((alt) => opCommands(alt));
  return byHand.length > 0 ? `${wait} || ${byHand.join(' && ')}` : wait;
}

/** A file write as one shell line: echo for a one-line value (a sysctl), printf for a whole file, byte for byte. */
function writeLine(op: Extract<Op, { kind: 'write' }>): string {
  if (!op.content.includes('\n')) return `echo ${shellQuote(op.content)} > ${shellQuote(op.path)}`;
  return `printf '%s' ${shellQuote(op.content)} > ${shellQuote(op.path)}`;
}

/** A signal as kill(1) sends it (TERM is kill's default). */
function killLine(op: Extract<Op, { kind: 'signal' }>): string {
  return op.signal === 'TERM' ? `kill ${op.pid}` : `kill -${op.signal} ${op.pid}`;
}

/** The commands a person would type for one op (a batch shows its one-per-line form). */
export function opCommands(op: Op): string[] {
  if (op.kind === 'signal') return [killLine(op)];
  if (op.kind === 'write') return [writeLine(op)];
  if (op.kind === 'mkdir' || op.kind === 'rmdir') return [`${op.kind} ${shellQuote(op.path)}`];
  if (op.kind === 'wait-gone') return [waitLine(op)];
  if (op.shown && op.shown.length > 0) return op.shown.map(shellLine);
  const line = shellLine(op.argv);
  return op.stdin === undefined ? [line] : [`${line} <<'EOF'\n${op.stdin.replace(/\n$/, '')}\nEOF`];
}

/** A plan as a script: each step under a comment saying why. */
export function renderShell(plan: Plan): string {
  const lines = [`# ${plan.title}`];
  for (const op of plan.ops) {
    lines.push(`# ${op.why}`);
    for (const cmd of opCommands(op)) {
      // Idempotent steps are allowed to find their work already done, as the real run allows.
      lines.push(op.tolerate || op.fallback ? `${cmd} || true` : cmd);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The exact command an op ran (a batch with its input), for --explain. */
export function executedText(op: Op): string {
  if (op.kind === 'signal') return killLine(op);
  if (op.kind === 'write') return writeLine(op);
  if (op.kind === 'mkdir' || op.kind === 'rmdir') return `${op.kind} ${op.path}`;
  if (op.kind === 'wait-gone') return waitLine(op);
  const line = shellLine(op.argv);
  if (op.stdin === undefined) return line;
  return `${line} <<'EOF'\n${op.stdin.replace(/\n$/, '')}\nEOF`;
}

export function formatStep(report: StepReport): string {
  const ms = report.ms.toFixed(1).padStart(7);
  const body = executedText(report.op).split('\n').map((l, i) => (i === 0 ? l : `            ${l}`)).join('\n');
  return `[${ms} ms] # ${report.op.why}\n            ${body}`;
}

/** --explain: each step as it is executed, with its time, on stderr (stdout stays the container's). */
export function explainStep(report: StepReport): void {
  process.stderr.write(`${formatStep(report)}\n`);
}

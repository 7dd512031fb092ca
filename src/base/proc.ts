// What the kernel says about a process: is it alive, and is it still the one we started.
import { readFileSync } from 'node:fs';

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; 0 if gone. */
export async function processStartTime(pid: number): Promise<number> {
  return startTimeOf(pid);
}

/** The same, blocking (it takes microseconds). */
export function startTimeOf(pid: number): number {
  if (!Number.isInteger(pid) || pid <= 0) return 0;
  try {
    // Blocking: a /proc read takes microseconds, an asynchronous one several thread-pool round trips.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return 0; // a zombie has finished
    return Number(fields[19] ?? 0);
  } catch {
    return 0;
  }
}

/** True when pid runs and (if known) started at the recorded time: a recycled pid is not ours. */
export async function isAlive(pid: number, startTime = 0): Promise<boolean> {
  const now = await processStartTime(pid);
  if (now === 0) return false;
  return startTime === 0 || now === startTime;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Poll a condition until it holds or the deadline passes; returns whether it held. The pause
 * starts at 1 ms and doubles up to `intervalMs`: what is awaited (a killed process gone, a
 * file its monitor writes) usually takes a millisecond or two, and a fixed 10 ms pause made
 * `rm -f` wait for nothing.
 */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = Math.min(1, intervalMs); ; pause = Math.min(pause * 2, intervalMs)) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pause);
  }
}

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11,
  USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20,
  TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

/** Accepts KILL, SIGKILL, sigkill or 9; returns the signal name Node understands, or undefined. */
export function parseSignal(input: string): NodeJS.Signals | undefined {
  const upper = input.trim().toUpperCase();
  if (/^\d+$/.test(upper)) {
    const n = Number(upper);
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === n);
    return name ? (`SIG${name}` as NodeJS.Signals) : undefined;
  }
  const bare = upper.startsWith('SIG') ? upper.slice(3) : upper;
  return bare in SIGNALS ? (`SIG${bare}` as NodeJS.Signals) : undefined;
}

export function signalNumber(signal: NodeJS.Signals): number {
  return SIGNALS[signal.slice(3)] ?? 0;
}

/** A process's exit status as a shell reports it: its code, or 128 + the signal that ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + signalNumber(signal ?? 'SIGKILL');
}

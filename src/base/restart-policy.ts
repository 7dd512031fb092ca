// Docker's restart policies (`--restart no|on-failure[:N]|always|unless-stopped`): parsing with
// Docker's messages, and its restart manager's decision and back-off. Pure.
import { MinictrError } from './errors.js';

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

/** Docker's HostConfig.RestartPolicy. */
export interface RestartPolicy {
  name: RestartPolicyName;
  maximumRetryCount: number;
}

const NAMES: readonly string[] = ['no', 'on-failure', 'always', 'unless-stopped'];

/** Docker's restart manager: 100 ms, doubled on each restart, at most a minute, reset after 10 s up. */
export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

/** `--restart` as Docker's CLI (format) and daemon (names, counts) check it; errors exit 125. */
export function parseRestartPolicy(text: string): RestartPolicy {
  if (text === '') return { name: 'no', maximumRetryCount: 0 };
  const parts = text.split(':');
  if (parts.length > 2) throw bad('invalid restart policy format');
  const [name = '', count] = parts;
  let maximumRetryCount = 0;
  if (count !== undefined) {
    // Go's strconv.Atoi: an optional sign and decimal digits.
    if (!/^[+-]?\d+$/.test(count)) throw bad('maximum retry count must be an integer');
    maximumRetryCount = Number(count);
  }
  if (!NAMES.includes(name)) throw bad(`invalid restart policy '${name}'`);
  if (name !== 'on-failure' && maximumRetryCount !== 0) throw bad(`maximum retry count cannot be used with restart policy '${name}'`);
  if (maximumRetryCount < 0) throw bad('maximum retry count cannot be negative');
  return { name: name as RestartPolicyName, maximumRetryCount };
}

function bad(message: string): MinictrError {
  return new MinictrError('E_BAD_RESTART', message);
}

export interface ExitFacts {
  exitCode: number;
  /** Restarts so far (Docker's RestartCount). */
  restartCount: number;
  /** The back-off of the previous restart, 0 when none yet. */
  previousDelayMs: number;
  /** How long the process ran. */
  ranMs: number;
  /** Stopped, killed or removed by hand (Docker's HasBeenManuallyStopped). */
  manuallyStopped: boolean;
}

export type RestartDecision = { restart: false } | { restart: true; delayMs: number };

/** Whether the exited container is restarted, and after what delay (Docker's restartmanager.ShouldRestart). */
export function decideRestart(policy: RestartPolicy | undefined, facts: ExitFacts): RestartDecision {
  if (!policy || policy.name === 'no' || facts.manuallyStopped) return { restart: false };
  if (policy.name === 'on-failure') {
    if (facts.exitCode === 0) return { restart: false };
    if (policy.maximumRetryCount > 0 && facts.restartCount >= policy.maximumRetryCount) return { restart: false };
  }
  return { restart: true, delayMs: nextDelay(facts.previousDelayMs, facts.ranMs) };
}

/** The back-off schedule: 100, 200, 400 … 60000 ms; back to 100 ms after a run of 10 s or more. */
export function nextDelay(previousMs: number, ranMs: number): number {
  const previous = ranMs >= BACKOFF_RESET_AFTER_MS ? 0 : previousMs;
  return previous <= 0 ? BACKOFF_FIRST_MS : Math.min(previous * 2, BACKOFF_MAX_MS);
}

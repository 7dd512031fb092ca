// A plan is what minictr will do to the host, as data: ordered operations, each with
// the exact command, a reason a learner can read, and (where it applies) what undoes it.
// Planning is pure; src/exec/apply.ts runs a plan (every op through the Runner), src/explain/ renders it.

export type Argv = readonly string[];

interface OpBase {
  /** One line, in the article's terms: why this step exists. */
  why: string;
  /**
   * Equivalent one-command-per-line form shown by --dry-run and --explain when the op
   * itself is a batch (ip -batch, iptables-restore): running these by hand does the same.
   */
  shown?: Argv[];
  /** Failures whose stderr matches are success: the op is idempotent (e.g. "File exists"). */
  tolerate?: RegExp;
  /**
   * Said as a warning when a teardown op is tolerated this way: what the records said was
   * there and someone else removed first (a rule deleted by hand, a firewall reload).
   */
  goneNote?: string;
  /**
   * Run instead when this op fails: a batch that failed as a whole (one rule already
   * gone) is retried as separate, individually tolerant ops.
   */
  fallback?: Op[];
}

/** Run a command; stdin is fed to it (for `ip -batch -` and `iptables-restore`). */
export interface CommandOp extends OpBase {
  kind: 'command';
  argv: Argv;
  stdin?: string;
}

/** Write a small file (a sysctl under /proc/sys). Done in-process: no extra process. */
export interface WriteOp extends OpBase {
  kind: 'write';
  path: string;
  content: string;
}

/**
 * Wait for the kernel to remove something by itself (a veth goes with its namespace): done
 * once `path` is gone. Still there after `timeoutMs`, the op fails and its fallback removes
 * the thing by hand.
 */
export interface WaitGoneOp extends OpBase {
  kind: 'wait-gone';
  path: string;
  timeoutMs: number;
}

/** Make one directory (not its parents): a cgroup, which the kernel fills with its files. */
export interface MkdirOp extends OpBase {
  kind: 'mkdir';
  path: string;
}

/** Remove one empty directory: a cgroup, which the kernel removes once no process is in it. */
export interface RmdirOp extends OpBase {
  kind: 'rmdir';
  path: string;
}

/** The signals a plan sends, by the names `kill` takes. */
export type PlanSignal = 'HUP' | 'TERM' | 'KILL';

/** Send a signal to a process minictr started (its resolver). Done in-process: no `kill` process. */
export interface SignalOp extends OpBase {
  kind: 'signal';
  pid: number;
  signal: PlanSignal;
}

export type Op = CommandOp | WriteOp | WaitGoneOp | MkdirOp | RmdirOp | SignalOp;

/** One op done, with how long it took (what --explain prints). */
export interface StepReport {
  op: Op;
  ms: number;
}

export interface Plan {
  /** What the plan does, e.g. "set up network for container 3f2a…". */
  title: string;
  ops: Op[];
}

export function command(argv: Argv, why: string, extra: Partial<Omit<CommandOp, 'kind' | 'argv' | 'why'>> = {}): CommandOp {
  return { kind: 'command', argv, why, ...extra };
}

/** The optional fields of a file op (tolerate, goneNote, fallback …). */
type Extra<T extends Op> = Partial<Omit<T, 'kind' | 'path' | 'content' | 'why'>>;

export function write(path: string, content: string, why: string, extra: Extra<WriteOp> = {}): WriteOp {
  return { kind: 'write', path, content, why, ...extra };
}

export function mkdirOp(path: string, why: string, extra: Extra<MkdirOp> = {}): MkdirOp {
  return { kind: 'mkdir', path, why, ...extra };
}

export function rmdirOp(path: string, why: string, extra: Extra<RmdirOp> = {}): RmdirOp {
  return { kind: 'rmdir', path, why, ...extra };
}

export function signalOp(pid: number, signal: PlanSignal, why: string, extra: Partial<Omit<SignalOp, 'kind' | 'pid' | 'signal' | 'why'>> = {}): SignalOp {
  return { kind: 'signal', pid, signal, why, ...extra };
}

export function waitGone(path: string, timeoutMs: number, why: string, fallback: Op[]): WaitGoneOp {
  return { kind: 'wait-gone', path, timeoutMs, why, fallback };
}

export function concatPlans(title: string, ...plans: Plan[]): Plan {
  return { title, ops: plans.flatMap((p) => p.ops) };
}

/** One owner's part of a batch (the owner is a container id). */
export interface OwnedPlan {
  owner: string;
  plan: Plan;
}

/**
 * Many owners' teardown done together: each shared op does several owners' work in one process
 * (one iptables-restore per table, one ip -batch). When a shared op fails, each owner's share of
 * it is applied instead, so what is left or already gone is said of its owner. Then each owner's
 * own ops (waits on the kernel, flow flushes), side by side.
 */
export interface BatchPlan {
  title: string;
  shared: { op: Op; shares: OwnedPlan[] }[];
  own: OwnedPlan[];
}

export function concatBatches(title: string, ...batches: BatchPlan[]): BatchPlan {
  return { title, shared: batches.flatMap((b) => b.shared), own: batches.flatMap((b) => b.own) };
}

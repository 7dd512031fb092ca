// `minictr trace` per firewall driver, as data: how a trace is armed for one flow, disarmed, read
// back, and its leftovers recognised. iptables arms TRACE rules and reads `xtables-monitor
// --trace`; nftables arms `meta nftrace set 1` in a table of the trace's own and reads
// `nft monitor trace`. Both parse into the same events, which explain/trace.ts renders.
import type { Argv } from '../../base/plan.js';

/** The flow to follow: its original direction, and where its replies come from (after DNAT). */
export interface TraceMatch {
  proto: 'tcp' | 'udp';
  /** Destination as the client addresses it. */
  addr: string;
  port: number;
  from?: string;
  /** Where replies come from: the DNAT target when the port is published, else addr:port. */
  reply: { addr: string; port: number };
}

/** One packet as a hook saw it, or a rule (or policy) it met. */
export type TraceEvent =
  | { kind: 'packet'; id: string; fields: Record<string, string>; flags: string[] }
  | {
    kind: 'rule'; id: string; table: string; chain: string; type: 'rule' | 'return' | 'policy'; verdict: string; line: string;
    /** The netfilter hook, when the chain is a base chain the tracer knows (nftables names its chains freely). */
    hook?: string;
  };

/** A command with its input, as the runner takes it. */
export interface TraceCommand {
  argv: Argv;
  stdin: string;
  why: string;
  /** Errors that mean "already gone". */
  tolerate?: RegExp;
}

export interface Tracer {
  /** The firewall driver's name. */
  readonly name: string;
  arm(match: TraceMatch, pid: number): TraceCommand;
  disarm(match: TraceMatch, pid: number): TraceCommand;
  /** The monitor that prints one line per traced event. */
  readonly monitorArgv: Argv;
  parseLine(line: string): TraceEvent | undefined;
  /** The read-only command listing what traces armed, and the pids of those in its output. */
  readonly listArgv: Argv;
  tracePids(listing: string): number[];
  /** Removing the leftovers of a trace whose process is gone. */
  removeStale(pid: number, listing: string): TraceCommand | undefined;
}

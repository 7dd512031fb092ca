// Loaded with `node --import <this> bin/minictr …` by the benchmark only. It changes no
// behaviour: it timestamps every child process minictr spawns (execa and the monitor both go
// through node:child_process.spawn), the moment the CLI starts parsing (all modules loaded),
// and every state lock (wait and hold), then writes them as JSON to $MINICTR_BENCH_TRACE
// when the process exits. Without that variable it installs nothing.
import './trace-t0.js';
import childProcess, { type ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import lockfile from 'proper-lockfile';

export interface TraceSpawn {
  argv: string[];
  start: number;
  end: number;
}

export interface TraceLock {
  name: string;
  requested: number;
  acquired: number;
  released: number;
}

export interface Trace {
  /** All times in ms since this process started (performance.timeOrigin). */
  hookLoaded: number;
  parseStarted: number;
  exit: number;
  spawns: TraceSpawn[];
  locks: TraceLock[];
}

const out = process.env['MINICTR_BENCH_TRACE'];
if (out) {
  const trace: Trace = { hookLoaded: (globalThis as { __minictrBenchT0?: number }).__minictrBenchT0 ?? performance.now(), parseStarted: -1, exit: -1, spawns: [], locks: [] };

  const originalSpawn = childProcess.spawn;
  const tracedSpawn = function (this: unknown, ...args: unknown[]): ChildProcess {
    const start = performance.now();
    const child = (originalSpawn as (...a: unknown[]) => ChildProcess).apply(this, args);
    const file = typeof args[0] === 'string' ? args[0] : '?';
    const rest = Array.isArray(args[1]) ? (args[1] as unknown[]).map(String) : [];
    const entry: TraceSpawn = { argv: [file, ...rest.slice(0, 6).map((a) => (a.length > 60 ? `${a.slice(0, 57)}...` : a))], start, end: -1 };
    trace.spawns.push(entry);
    child.once('exit', () => {
      entry.end = performance.now();
    });
    return child;
  };
  (childProcess as { spawn: unknown }).spawn = tracedSpawn;
  syncBuiltinESMExports();

  const originalParse = Command.prototype.parseAsync;
  Command.prototype.parseAsync = function (this: Command, ...args: Parameters<Command['parseAsync']>) {
    if (trace.parseStarted < 0) trace.parseStarted = performance.now();
    return originalParse.apply(this, args);
  };

  type LockFn = (file: string, options?: unknown) => Promise<() => Promise<void>>;
  const lockModule = lockfile as unknown as { lock: LockFn };
  const originalLock = lockModule.lock;
  lockModule.lock = async (file: string, options?: unknown) => {
    const entry: TraceLock = { name: file.split('/').pop() ?? file, requested: performance.now(), acquired: -1, released: -1 };
    trace.locks.push(entry);
    const release = await originalLock(file, options);
    entry.acquired = performance.now();
    return async () => {
      entry.released = performance.now();
      return release();
    };
  };

  process.once('exit', () => {
    trace.exit = performance.now();
    try {
      writeFileSync(out, JSON.stringify(trace));
    } catch {
      // the benchmark reports a missing trace
    }
  });
}

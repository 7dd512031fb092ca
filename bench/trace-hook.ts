// Loaded with `node --import <this> bin/minictr …` by the benchmark only. It changes no
// behaviour: it timestamps the compile and evaluation of the bundle (bin/minictr runs it through
// node:vm), every child process minictr spawns (execa and the monitor both go through
// node:child_process.spawn) and every state lock (a mkdir or mkdirSync of `*.lock`, by proper-lockfile),
// then writes them as JSON to $MINICTR_BENCH_TRACE when the process exits. Without that
// variable it installs nothing. It imports only Node's own modules, so it adds no load time.
import childProcess, { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import vm from 'node:vm';

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
  /** The bundle compiled (with or without the code cache). */
  compiled: number;
  /** Its modules evaluated and main() run up to its first await. */
  evaluated: number;
  exit: number;
  spawns: TraceSpawn[];
  locks: TraceLock[];
}

const out = process.env['MINICTR_BENCH_TRACE'];
if (out) {
  const trace: Trace = { hookLoaded: performance.now(), compiled: -1, evaluated: -1, exit: -1, spawns: [], locks: [] };

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

  const OriginalScript = vm.Script;
  class TracedScript extends OriginalScript {
    constructor(...args: ConstructorParameters<typeof vm.Script>) {
      super(...args);
      trace.compiled = performance.now();
    }
    override runInThisContext(...args: Parameters<vm.Script['runInThisContext']>): unknown {
      const fn = super.runInThisContext(...args) as (...a: unknown[]) => unknown;
      return function (this: unknown, ...a: unknown[]) {
        const result = fn.apply(this, a);
        trace.evaluated = performance.now();
        return result;
      };
    }
  }
  (vm as { Script: unknown }).Script = TracedScript;

  type Callback = (err: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;
  const open = new Map<string, TraceLock>();
  const wrapDirCall = (name: 'mkdir' | 'rmdir', onDone: (path: string, ok: boolean) => void): void => {
    const original = fs[name] as unknown as (...a: unknown[]) => void;
    (fs as unknown as Record<string, unknown>)[name] = function (this: unknown, ...a: unknown[]) {
      const path = String(a[0]);
      const callback = a[a.length - 1];
      if (!path.endsWith('.lock') || typeof callback !== 'function') return original.apply(this, a);
      if (name === 'mkdir' && !open.has(path)) {
        const entry: TraceLock = { name: path.split('/').pop() ?? path, requested: performance.now(), acquired: -1, released: -1 };
        open.set(path, entry);
        trace.locks.push(entry);
      }
      a[a.length - 1] = (err: NodeJS.ErrnoException | null, ...rest: unknown[]) => {
        onDone(path, !err);
        (callback as Callback)(err, ...rest);
      };
      return original.apply(this, a);
    };
  };
  const acquired = (path: string, ok: boolean): void => {
    const entry = open.get(path);
    if (ok && entry) entry.acquired = performance.now();
  };
  const released = (path: string): void => {
    const entry = open.get(path);
    if (entry) entry.released = performance.now();
    open.delete(path);
  };
  wrapDirCall('mkdir', acquired);
  wrapDirCall('rmdir', released);
  // A free lock is taken with proper-lockfile's lockSync (mkdirSync / rmdirSync).
  const wrapDirCallSync = (name: 'mkdirSync' | 'rmdirSync', onDone: (path: string, ok: boolean) => void): void => {
    const original = fs[name] as unknown as (...a: unknown[]) => unknown;
    (fs as unknown as Record<string, unknown>)[name] = function (this: unknown, ...a: unknown[]) {
      const path = String(a[0]);
      if (!path.endsWith('.lock')) return original.apply(this, a);
      if (name === 'mkdirSync' && !open.has(path)) {
        const entry: TraceLock = { name: path.split('/').pop() ?? path, requested: performance.now(), acquired: -1, released: -1 };
        open.set(path, entry);
        trace.locks.push(entry);
      }
      try {
        const result = original.apply(this, a);
        onDone(path, true);
        return result;
      } catch (err) {
        onDone(path, false);
        throw err;
      }
    };
  };
  wrapDirCallSync('mkdirSync', acquired);
  wrapDirCallSync('rmdirSync', released);

  process.once('exit', () => {
    trace.exit = performance.now();
    try {
      fs.writeFileSync(out, JSON.stringify(trace));
    } catch {
      // the benchmark reports a missing trace
    }
  });
}

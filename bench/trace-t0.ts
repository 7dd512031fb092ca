// Imported first by trace-hook.ts, so its time is taken before any other module of the hook
// (commander, proper-lockfile) is loaded: the end of Node's own bootstrap.
(globalThis as { __minictrBenchT0?: number }).__minictrBenchT0 = performance.now();
export {};

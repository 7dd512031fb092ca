// Restart policies at run time. The monitor shell stays as it is: when nobody waits for the exit
// it execs `minictr _on-exit`, which finalizes the exit (network and cgroup released as for any
// exit) and then asks the policy (base/restart-policy.ts). A restart is not done by that Node
// process: it records the container as restarting and leaves a tiny shell (its own process
// group, ~1 MB) to sleep the back-off and exec `minictr _restart`, which starts the container
// through `start`, so each run gets its network and cgroup exactly as a first start does.
// `stop`, `kill` and `rm` mark the container manually stopped and kill that shell.
import { decideRestart, type RestartPolicy } from '../base/restart-policy.js';
import { CLI_PATH } from '../base/install-paths.js';
import type { ContainerRecord } from '../base/records.js';
import { spawnProcess } from '../exec/runner.js';
import type { RuntimeContext } from './context.js';
import { signalPid, start, update } from './lifecycle.js';

const WAITER_SCRIPT = 'sleep "$1" && exec "$2" -- "$3" --root "$4" _restart "$5"';

/** After an exit was finalized: restart per the policy, after its back-off. True when a restart is scheduled. */
export async function afterExit(ctx: RuntimeContext, id: string): Promise<boolean> {
  let delayMs = 0;
  const scheduled = await update(ctx, id, (r) => {
    const policy = r.hostConfig.restartPolicy;
    if (!policy || r.state.status !== 'exited' || r.state.restarting || r.hostConfig.autoRemove) return;
    const decision = decideRestart(policy, {
      exitCode: r.state.exitCode,
      restartCount: r.restartCount ?? 0,
      previousDelayMs: r.state.restartDelayMs ?? 0,
      ranMs: Math.max(0, Date.parse(r.state.finishedAt) - Date.parse(r.state.startedAt)),
      manuallyStopped: r.state.manuallyStopped === true,
    });
    if (!decision.restart) return;
    delayMs = decision.delayMs;
    r.restartCount = (r.restartCount ?? 0) + 1;
    r.state.restarting = true;
    r.state.restartDelayMs = delayMs;
  });
  if (!scheduled?.state.restarting || delayMs === 0) return false;
  const waiter = spawnProcess(
    ['/bin/sh', '-c', WAITER_SCRIPT, 'minictr-restart', (delayMs / 1000).toFixed(3), process.execPath, CLI_PATH, ctx.store.paths.root, id],
    { stdio: ['ignore', 'ignore', 'ignore'], detached: true },
  );
  waiter.unref();
  const pid = waiter.pid ?? 0;
  const kept = await update(ctx, id, (r) => {
    if (r.state.restarting && !r.state.manuallyStopped) r.state.restartWaiterPid = pid;
  });
  // Stopped or removed meanwhile: the waiter must not start it.
  if (!kept || kept.state.restartWaiterPid !== pid) {
    if (pid > 0) signalPid(-pid, 'SIGKILL');
    return false;
  }
  return true;
}

/** The waiter's end of the back-off: start again, unless it was stopped meanwhile. */
export async function restartNow(ctx: RuntimeContext, id: string): Promise<void> {
  const go = await update(ctx, id, (r) => {
    if (!r.state.restarting || r.state.manuallyStopped) return;
    delete r.state.restarting;
    delete r.state.restartWaiterPid;
  });
  if (!go || go.state.restarting !== undefined || go.state.manuallyStopped) return;
  await start(ctx, id, { foreground: false, restart: true });
}

/** What Docker's daemon starts when it starts: `always`, `unless-stopped` not stopped by hand, `on-failure` after a failure. */
export function startsAtBoot(policy: RestartPolicy | undefined, record: ContainerRecord): boolean {
  if (!policy || record.state.status === 'running') return false;
  if (policy.name === 'always') return true;
  if (policy.name === 'unless-stopped') return record.state.manuallyStopped !== true;
  if (policy.name === 'on-failure') {
    const max = policy.maximumRetryCount;
    return record.state.exitCode !== 0 && record.state.manuallyStopped !== true && (max === 0 || (record.restartCount ?? 0) < max);
  }
  return false;
}

/** `system boot`: after a reboot, start what the policies say (refresh has finalized the dead first). Returns the ids started. */
export async function boot(ctx: RuntimeContext, records: ContainerRecord[]): Promise<{ started: string[]; failed: { id: string; error: unknown }[] }> {
  const started: string[] = [];
  const failed: { id: string; error: unknown }[] = [];
  for (const record of records) {
    if (!startsAtBoot(record.hostConfig.restartPolicy, record)) continue;
    try {
      await start(ctx, record.id, { foreground: false });
      started.push(record.id);
    } catch (error) {
      failed.push({ id: record.id, error });
    }
  }
  return { started, failed };
}

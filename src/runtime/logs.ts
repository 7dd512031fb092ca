// `logs [-f]`: the container's stdout and stderr, as its monitor recorded them.
import { open, stat } from 'node:fs/promises';
import { sleep } from '../base/proc.js';
import type { RuntimeContext } from './context.js';
import { find, refresh } from './lifecycle.js';

export interface LogTargets {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Copy what was appended to `path` since `offset` into `out`; returns the new offset. */
async function copyFrom(path: string, offset: number, out: NodeJS.WritableStream): Promise<number> {
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size <= offset) return offset;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    if (bytesRead > 0) await new Promise<void>((resolve) => out.write(buffer.subarray(0, bytesRead), () => resolve()));
    return offset + bytesRead;
  } finally {
    await handle.close();
  }
}

/** Write the logs into `to`; with `follow`, keep writing until the container stops. */
export async function streamLogs(ctx: RuntimeContext, ref: string, follow: boolean, to: LogTargets): Promise<void> {
  const record = await find(ctx, ref);
  const paths = ctx.store.paths;
  const out = paths.containerLog(record.id, 'stdout');
  const err = paths.containerLog(record.id, 'stderr');
  let outOffset = await copyFrom(out, 0, to.stdout);
  let errOffset = await copyFrom(err, 0, to.stderr);
  if (!follow) return;
  for (;;) {
    const current = await ctx.store.loadContainer(record.id);
    const running = current ? (await refresh(ctx, current)).state.status === 'running' : false;
    outOffset = await copyFrom(out, outOffset, to.stdout);
    errOffset = await copyFrom(err, errOffset, to.stderr);
    if (!running) return;
    await sleep(100);
  }
}

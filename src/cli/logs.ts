// `logs [-f]`: the detached container's stdout and stderr, as the monitor recorded them.
import { open, stat } from 'node:fs/promises';
import type { Runtime } from '../runtime/runtime.js';
import { sleep } from '../base/proc.js';

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

export async function showLogs(runtime: Runtime, ref: string, follow: boolean): Promise<void> {
  const record = await runtime.find(ref);
  const paths = runtime.store.paths;
  const out = paths.containerLog(record.id, 'stdout');
  const err = paths.containerLog(record.id, 'stderr');
  let outOffset = await copyFrom(out, 0, process.stdout);
  let errOffset = await copyFrom(err, 0, process.stderr);
  if (!follow) return;
  for (;;) {
    const current = await runtime.store.loadContainer(record.id);
    const running = current ? (await runtime.refresh(current)).state.status === 'running' : false;
    outOffset = await copyFrom(out, outOffset, process.stdout);
    errOffset = await copyFrom(err, errOffset, process.stderr);
    if (!running) return;
    await sleep(100);
  }
}

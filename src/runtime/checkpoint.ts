// TEST SEAM, for the crash tests only: with MINICTR_PAUSE_AT=<step>, minictr announces that it
// reached the step (a file under the state root) and stops there until it is killed. Unset (always,
// outside tests), each call is one environment lookup.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function checkpoint(root: string, step: string): Promise<void> {
  if (process.env['MINICTR_PAUSE_AT'] !== step) return;
  await writeFile(join(root, `paused-at-${step}`), `${process.pid}\n`);
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}

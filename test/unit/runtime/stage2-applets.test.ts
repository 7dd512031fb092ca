// Stage 2 runs after pivot_root, where PATH leads into the image: the mkdir and rmdir it calls
// without $B must still be the host busybox's own applets, never the image's binaries (which
// would run as root with every capability, before setpriv drops them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hostTools } from '../../../src/runtime/host-tools.js';

test('the static busybox runs mkdir and rmdir as its own applets whatever PATH says', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'minictr-applets-'));
  try {
    const made = join(dir, 'made');
    const gone = join(dir, 'gone');
    await promisify(execFile)(hostTools().busybox, ['sh', '-c', `mkdir -p "${made}" "${gone}" && rmdir "${gone}"`], {
      env: { PATH: join(dir, 'no-such-dir') },
    });
    assert.ok((await stat(made)).isDirectory(), 'mkdir did not run with a PATH that has no mkdir');
    await assert.rejects(stat(gone), { code: 'ENOENT' }, 'rmdir did not run with a PATH that has no rmdir');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

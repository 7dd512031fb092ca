// The compatibility table, run: every docker command of docker-compat.ts against minictr serve in
// one sandbox and, when dockerd is installed, against dockerd in another (its own data-root,
// exec-root, socket and managed containerd; bench/engines.ts). Each row must succeed against
// minictr, rows marked `same` must give Docker's output, and docs/docker-api.md must be the
// table this run makes (MINICTR_WRITE_COMPAT=1, as `make docs-api` sets it, rewrites it).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, MINICTR_BIN, eventually, isRoot, sh } from './sandbox.js';
import { COMPAT_ROWS, maskNoise, renderTable, type RowRun } from './docker-compat.js';
import { sandboxedDocker, type Engine } from '../../bench/engines.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const DOC = join(REPO, 'docs', 'docker-api.md');
const hasDocker = (await sh(['sh', '-c', 'command -v docker'])).code === 0;

/** Run every row against one daemon, in order (rows share the image store, not their containers). */
async function runRows(dockerHost: string, hostNs: string, work: string): Promise<RowRun[]> {
  const runs: RowRun[] = [];
  for (const row of COMPAT_ROWS) {
    const dir = await mkdtemp(join(work, 'row-'));
    const r = await sh(['sh', '-c', row.script], {
      timeoutMs: 60_000,
      env: { ...process.env, DOCKER_HOST: dockerHost, H: `nsenter --net=/run/netns/${hostNs} --`, W: dir },
    });
    runs.push({ output: r.stdout + r.stderr, code: r.code });
  }
  return runs;
}

describe('the docker commands of docs/docker-api.md, against minictr serve and dockerd', { skip: (!isRoot && 'needs root') || (!hasDocker && 'needs the docker CLI (docker.io)') }, () => {
  const box = new Sandbox();
  const dockerBox = new Sandbox();
  let work = '';
  let dockerd: Engine | undefined;
  let minictrRuns: RowRun[] = [];
  let dockerRuns: RowRun[] | undefined;
  let dockerVersion = '';

  before(async () => {
    await box.setup();
    await dockerBox.setup();
    work = await mkdtemp(join(tmpdir(), `${box.prefix}-compat-`));
    const socket = join(box.root, 'docker.sock');
    box.background('host', [process.execPath, '--', MINICTR_BIN, '--root', box.root, 'serve', '--host', `unix://${socket}`]);
    const host = `unix://${socket}`;
    await eventually(async () => (await sh(['docker', '-H', host, 'version'])).code === 0, 20_000, 'minictr serve to answer');
    const started = await sandboxedDocker((argv) => ['nsenter', `--net=/run/netns/${dockerBox.hostNs}`, '--', ...argv], work, process.env);
    if (typeof started !== 'string') {
      dockerd = started;
      // dockerd gets the very image minictr runs: saved by minictr, loaded by docker.
      const archive = join(work, 'busybox.tar');
      assert.equal((await box.minictr(['save', '-o', archive, 'busybox'])).code, 0);
      const [file = 'docker', ...args] = dockerd.argv(['load', '-i', archive]);
      assert.equal((await sh([file, ...args])).code, 0);
      const [vf = 'docker', ...vargs] = dockerd.argv(['version', '--format', '{{.Server.Version}}']);
      dockerVersion = `Docker ${(await sh([vf, ...vargs])).stdout.trim()}`;
    }
    minictrRuns = await runRows(host, box.hostNs, work);
    if (dockerd) {
      const dockerHost = dockerd.argv([])[2] ?? '';
      dockerRuns = await runRows(dockerHost, dockerBox.hostNs, work);
    }
  });

  after(async () => {
    await dockerd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    await box.cleanup();
    await dockerBox.cleanup();
  });

  it('every row succeeds against minictr: the script exits 0 and prints something', () => {
    COMPAT_ROWS.forEach((row, i) => {
      const run = minictrRuns[i];
      assert.equal(run?.code, 0, `${row.command}: exit ${run?.code}: ${run?.output}`);
      assert.notEqual(run?.output.trim(), '', `${row.command}: no output`);
    });
  });

  it('the rows marked same give Docker\'s output', { skip: !hasDocker }, (t) => {
    if (!dockerRuns) {
      t.skip('dockerd did not start in the sandbox');
      return;
    }
    COMPAT_ROWS.forEach((row, i) => {
      if (!row.same) return;
      assert.equal(maskNoise(minictrRuns[i]?.output ?? ''), maskNoise(dockerRuns?.[i]?.output ?? ''), `${row.command}: ${row.what}`);
    });
  });

  it('docs/docker-api.md is the table this run makes', async () => {
    const table = renderTable(COMPAT_ROWS, minictrRuns, dockerRuns, dockerVersion);
    if (process.env['MINICTR_WRITE_COMPAT'] === '1') await writeFile(DOC, table);
    const committed = await readFile(DOC, 'utf8').catch(() => '');
    // The table's rows with their verdicts; without dockerd the verdicts cannot be checked, only the rows.
    const rowsOf = (text: string) => text.split('\n').filter((l) => l.startsWith('| `')).map((l) => (dockerRuns ? l : l.split(' | ')[0]));
    assert.deepEqual(rowsOf(committed), rowsOf(table), 'docs/docker-api.md is the table of docker-compat.ts, verdicts included (make docs-api)');
  });
});

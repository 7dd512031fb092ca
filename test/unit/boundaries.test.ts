// DESIGN.md "Edges in one place each", held as a test: each outside package is imported by
// one module only, and the network planner imports nothing that runs commands or touches files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Module specifiers a file loads at run time (type-only imports excluded). */
function runtimeImports(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) specs.push(m[1] ?? '');
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) specs.push(m[1] ?? '');
  return specs;
}

describe('module boundaries', () => {
  const owners: Record<string, string> = {
    execa: 'exec/runner.ts',
    'node:child_process': 'exec/runner.ts',
    'proper-lockfile': 'state/lock.ts',
    'ip-cidr': 'network/ipam.ts',
    tar: 'image/archive.ts',
  };

  it('each outside package is imported by its one owner', async () => {
    for (const file of await sources(SRC)) {
      const rel = relative(SRC, file);
      for (const spec of runtimeImports(await readFile(file, 'utf8'))) {
        const owner = owners[spec];
        if (owner) assert.equal(rel, owner, `${rel} imports ${spec}; only ${owner} may`);
      }
    }
  });

  it('src/network is pure: no fs, no processes, no state store', async () => {
    const forbidden = /^(node:fs|node:fs\/promises|node:child_process|execa|.*\/exec\/|.*\/state\/(store|files|lock)\.js)/;
    for (const file of await sources(join(SRC, 'network'))) {
      for (const spec of runtimeImports(await readFile(file, 'utf8'))) {
        assert.doesNotMatch(spec, forbidden, `${relative(SRC, file)} imports ${spec}`);
      }
    }
  });
});

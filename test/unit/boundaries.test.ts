// The floors of the house, held as a test (docs/ARCHITECTURE.md draws them). Every import
// counts, type-only ones included: a planner that names a state type depends on state as much
// as one that calls it. Each outside package has one owner; each floor imports only the floors
// below it, and the faces nothing that runs commands.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Every module a file names: static imports and re-exports (type-only too), and dynamic import(). */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^'";]*?from\s+'([^']+)'/gm)) specs.push(m[1] ?? '');
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) specs.push(m[1] ?? '');
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) specs.push(m[1] ?? '');
  return specs;
}

/** The src-relative path a relative specifier names ("runtime/proc.ts"), or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
}

/** The floor a src-relative path stands on: its top folder. */
function floor(path: string): string {
  return path.includes('/') ? (path.split('/')[0] ?? '') : path;
}

interface Rule {
  floor: string;
  /** Floors of src it may import (its own always). */
  may: string[];
  /** Outside modules it must not import. */
  never?: RegExp;
  why: string;
}

const PROCESSES = /^(node:child_process|execa)$/;
const FILES = /^node:fs(\/promises)?$/;

/** The layering: each floor and what it may stand on. */
export const RULES: Rule[] = [
  { floor: 'base', may: [], never: PROCESSES, why: 'base is importable from any floor, so it imports none' },
  { floor: 'exec', may: ['base'], why: 'the runner executes any plan; it knows no network, state or lifecycle' },
  { floor: 'state', may: ['base'], never: PROCESSES, why: 'state stores records; it knows no lifecycle and plans nothing' },
  { floor: 'network', may: ['base'], never: new RegExp(`${PROCESSES.source}|${FILES.source}`), why: 'planners are pure: facts and records come in, plans go out' },
  { floor: 'image', may: ['base', 'state', 'exec'], why: 'the image store stands on state and the runner' },
  { floor: 'cgroup', may: ['base'], never: new RegExp(`${PROCESSES.source}|${FILES.source}`), why: 'cgroup planners are pure: mounts and records come in, plans and parsed counters go out' },
  { floor: 'explain', may: ['base', 'network'], never: new RegExp(`${PROCESSES.source}|${FILES.source}`), why: 'renderers are pure: they show plans and facts, they gather nothing' },
  { floor: 'runtime', may: ['base', 'exec', 'state', 'network', 'cgroup', 'image', 'explain'], why: 'the library stands on everything below the faces, and never on a face' },
  { floor: 'cni', may: ['base', 'runtime', 'explain', 'network', 'exec', 'state'], never: PROCESSES, why: 'the CNI face plans with network/ and applies with exec/ (its runner), keeping its own records with state/; it runs nothing itself' },
  { floor: 'cli', may: ['base', 'runtime', 'explain', 'network', 'cgroup', 'image', 'api'], never: PROCESSES, why: 'a face parses, calls the library and prints: it runs no host command and touches no state' },
  { floor: 'api', may: ['base', 'runtime', 'explain', 'network', 'cgroup', 'image'], never: PROCESSES, why: 'the Engine API is a second face over the library, beside the CLI: it runs no host command and touches no state' },
];

export interface Breach {
  file: string;
  imports: string;
  why: string;
}

/** Every import in `files` (src-relative path → text) that breaks a rule. */
export function breaches(files: Map<string, string>, rules: Rule[] = RULES): Breach[] {
  const out: Breach[] = [];
  for (const [rel, text] of files) {
    const rule = rules.find((r) => r.floor === floor(rel));
    if (!rule) {
      out.push({ file: rel, imports: '', why: `${floor(rel)} is on no floor of the layering: add it to RULES and docs/ARCHITECTURE.md` });
      continue;
    }
    for (const spec of importsOf(text)) {
      const to = target(join(SRC, rel), spec);
      if (!spec.startsWith('.')) {
        if (rule.never?.test(to)) out.push({ file: rel, imports: to, why: rule.why });
        continue;
      }
      const f = floor(to);
      if (f !== rule.floor && !rule.may.includes(f)) out.push({ file: rel, imports: to, why: rule.why });
    }
  }
  return out;
}

async function allSources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const file of await sources(SRC)) files.set(relative(SRC, file), await readFile(file, 'utf8'));
  return files;
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
    for (const [rel, text] of await allSources()) {
      for (const spec of importsOf(text)) {
        const owner = owners[spec];
        // A type-only import of child_process (ChildProcess) runs nothing.
        if (owner && !(spec === 'node:child_process' && /^import type [^;]*'node:child_process'/m.test(text))) {
          assert.equal(rel, owner, `${rel} imports ${spec}; only ${owner} may`);
        }
      }
    }
  });

  it('every floor imports only the floors below it, type imports included', async () => {
    const found = breaches(await allSources());
    assert.deepEqual(found, [], found.map((b) => `${b.file} imports ${b.imports}: ${b.why}`).join('\n'));
  });

  it('the check sees a breach, type-only or dynamic', () => {
    const files = new Map([
      ['network/x.ts', "import type { Store } from '../state/store.js';\n"],
      ['state/y.ts', "const p = await import('../runtime/lifecycle.js');\n"],
      ['cli/z.ts', "import { execa } from 'execa';\nimport { HostRunner } from '../exec/runner.js';\n"],
      ['exec/w.ts', "export { planAttach } from '../network/plan.js';\n"],
    ]);
    assert.deepEqual(
      breaches(files).map((b) => `${b.file} -> ${b.imports}`),
      ['network/x.ts -> state/store.ts', 'state/y.ts -> runtime/lifecycle.ts', 'cli/z.ts -> execa', 'cli/z.ts -> exec/runner.ts', 'exec/w.ts -> network/plan.ts'],
    );
  });
});

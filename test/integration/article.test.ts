// docs/article.md sets each of the article's commands beside the line minictr's --dry-run prints
// for it: every such line must still be in a dry run on a fresh host.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Sandbox, isRoot } from './sandbox.js';

const ARTICLE = fileURLToPath(new URL('../../../docs/article.md', import.meta.url));

/** The third column's code of every row of the "step by step" table. */
export function articleLines(markdown: string): string[] {
  const section = markdown.split('## The article, step by step')[1]?.split('\n## ')[0] ?? '';
  return section.split('\n')
    .filter((l) => /^\| \d+ \|/.test(l))
    .map((l) => l.split(' | ')[2]?.trim() ?? '')
    .map((cell) => /^`(.*)`$/.exec(cell)?.[1] ?? '');
}

function pattern(line: string): RegExp {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replaceAll('<id>', '[0-9a-f]{12}').replaceAll('<veth>', 'veth[0-9a-f]{7}').replaceAll('<mac>', '[0-9a-f:]{17}')}( \\|\\| true)?$`, 'm');
}

describe('docs/article.md', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  before(() => box.setup());
  after(() => box.cleanup());

  it("every article command it lists still appears in a --dry-run", async () => {
    const lines = articleLines(await readFile(ARTICLE, 'utf8'));
    assert.ok(lines.length >= 15, `the table lists the article's commands (${lines.length})`);
    assert.ok(lines.every((l) => l !== ''), 'each row names its --dry-run line in code');
    const r = await box.minictr(['run', '--dry-run', '-p', '5005:5000', 'busybox', 'httpd', '-f', '-p', '5000']);
    assert.equal(r.code, 0, r.stderr);
    const missing = lines.filter((l) => !pattern(l).test(r.stdout));
    assert.deepEqual(missing, [], 'lines of docs/article.md no longer in the dry run');
  });
});

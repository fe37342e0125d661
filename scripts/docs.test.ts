import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lineCount, stalePages } from './docs.ts';

describe('lineCount', () => {
  it.each([
    ['', 0],
    ['one', 1],
    ['one\n', 1],
    ['one\ntwo\n', 2],
    ['one\n\n', 2],
  ])('%j has %i lines', (text, lines) => {
    expect(lineCount(text)).toBe(lines);
  });
});

describe('stalePages', () => {
  let root = '';
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('names the pages that are missing or differ, and no page that is current', async () => {
    root = await mkdtemp(join(tmpdir(), 'perfpilot-docs-'));
    await mkdir(join(root, 'docs/reference'), { recursive: true });
    await writeFile(join(root, 'docs/reference/current.md'), 'same\n');
    await writeFile(join(root, 'docs/reference/edited.md'), 'edited by hand\n');
    const pages = [
      { path: 'docs/reference/current.md', content: 'same\n' },
      { path: 'docs/reference/edited.md', content: 'generated\n' },
      { path: 'docs/reference/new.md', content: 'generated\n' },
    ];
    expect(await stalePages(root, pages)).toEqual(['docs/reference/edited.md', 'docs/reference/new.md']);
  });
});

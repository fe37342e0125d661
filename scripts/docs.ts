/**
 * `npm run docs` writes the generated references (docs/reference/). `npm run docs:check` writes
 * nothing and fails when the docs are broken: a stale reference (named, with the command that
 * regenerates it), a relative link or #anchor that does not resolve in any Markdown file
 * (remark-validate-links; settings in package.json's remarkConfig), or a README over its limit.
 * Every check runs, so one run shows every problem.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Page, referencePages } from './reference/reference-pages.ts';

/** README_MAX_LINES keeps the front page a front page (issue 28): details belong in docs/. */
export const README_MAX_LINES = 200;

/** REGENERATE is the command a stale page's message names. */
const REGENERATE = 'npm run docs';

/** stalePages returns the pages whose file is missing or differs from what the definitions give. */
export async function stalePages(root: string, pages: readonly Page[]): Promise<string[]> {
  const stale: string[] = [];
  for (const page of pages) {
    const current = await readFile(join(root, page.path), 'utf8').catch(() => undefined);
    if (current !== page.content) stale.push(page.path);
  }
  return stale;
}

/** lineCount counts lines as an editor shows them: a final newline does not start another. */
export function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** checkLinks runs remark-validate-links over every Markdown file; true when all resolve. */
function checkLinks(root: string): boolean {
  // remark-cli exports no module path; its CLI file is where npm installs it.
  const cli = join(root, 'node_modules', 'remark-cli', 'cli.js');
  const run = spawnSync(
    process.execPath,
    [cli, '.', '--quiet', '--frail', '--no-stdout', '--ignore-path', '.gitignore'],
    { cwd: root, stdio: 'inherit' },
  );
  if (run.error) throw new Error('remark did not run', { cause: run.error });
  return run.status === 0;
}

/** check runs every docs check, prints one line per problem, and returns the exit code. */
async function check(root: string): Promise<number> {
  let failed = false;
  const stale = await stalePages(root, await referencePages(root));
  for (const path of stale) console.error(`docs: ${path} is stale: run \`${REGENERATE}\` and commit it`);
  failed ||= stale.length > 0;
  const readme = lineCount(await readFile(join(root, 'README.md'), 'utf8'));
  if (readme > README_MAX_LINES) {
    console.error(
      `docs: README.md has ${readme} lines, more than ${README_MAX_LINES}: move details into docs/`,
    );
    failed = true;
  }
  if (!checkLinks(root)) {
    console.error('docs: links or #anchors above do not resolve');
    failed = true;
  }
  if (failed) {
    console.error('docs: check failed');
    return 1;
  }
  console.log('docs: references current, links resolve, README within its limit');
  return 0;
}

/** write writes every page and says which changed. */
async function write(root: string): Promise<number> {
  const pages = await referencePages(root);
  const stale = new Set(await stalePages(root, pages));
  for (const page of pages) {
    if (!stale.has(page.path)) continue;
    await mkdir(dirname(join(root, page.path)), { recursive: true });
    await writeFile(join(root, page.path), page.content);
    console.log(`docs: wrote ${page.path}`);
  }
  if (stale.size === 0) console.log('docs: references already current');
  return 0;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (import.meta.main) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`docs: unknown argument ${unknown.join(' ')}; usage: node scripts/docs.ts [--check]`);
    process.exitCode = 2;
  } else {
    process.exitCode = args.includes('--check') ? await check(root) : await write(root);
  }
}

/**
 * `npm run bench`: runs every benchmark suite in bench/ (files named `*.bench.ts`, each exporting
 * `run(options)` that prints its own table of medians and ratios). Pass names to run only some:
 * `npm run bench -- synth simulate`. With `--json`, every table goes to stderr and stdout gets one
 * JSON object: the result of the one suite selected, or `{suite: result}` for several; suites
 * without a JSON result are left out.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchSettingError } from './setting-error.ts';

/** Options every suite receives. */
export interface BenchOptions {
  /** json asks the suite to return its measures as a JSON-ready object. */
  readonly json?: boolean;
}

interface BenchSuite {
  /** run prints the suite's results (it must measure side by side within one run) and may return them. */
  run(options: BenchOptions): Promise<unknown>;
  /** options: the suite's own flags (e.g. calibration's `--cache`), read from process.argv by the suite. */
  readonly options?: readonly string[];
}

const usage = `usage: npm run bench [-- SUITE...] [--json]

runs bench/*.bench.ts; SUITE is a file name without .bench.ts
  a suite may take its own options (calibration: --cache or --latency runs one half)
  --json   print one JSON object with the suites' measures on stdout, tables on stderr
           (use \`npm run -s bench -- ...\`: npm prints its own banner on stdout otherwise)`;

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(usage);
  process.exit(0);
}
const json = args.includes('--json');
const wanted = args.filter((a) => !a.startsWith('-'));
const suites = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const selected = suites.filter((f) => wanted.length === 0 || wanted.includes(basename(f, '.bench.ts')));
if (selected.length === 0) {
  console.error(
    `bench: no suite matches ${wanted.join(', ')}; have: ${suites.map((f) => basename(f, '.bench.ts')).join(', ') || 'none'}`,
  );
  process.exit(1);
}
const loaded = new Map<string, BenchSuite>();
for (const file of selected) {
  loaded.set(file, (await import(pathToFileURL(join(here, file)).href)) as BenchSuite);
}
// Options a selected suite declares are its own; anything else is a mistake.
const known = new Set(['--json', ...[...loaded.values()].flatMap((s) => s.options ?? [])]);
const unknown = args.filter((a) => a.startsWith('-') && !known.has(a));
if (unknown.length > 0) {
  console.error(`bench: unknown option ${unknown.join(', ')}\n\n${usage}`);
  process.exit(2);
}
// With --json, stdout carries only the object: what the suites print goes to stderr.
const print = json ? console.error : console.log;
if (json) console.log = console.error;
const results: Record<string, unknown> = {};
for (const file of selected) {
  const name = basename(file, '.bench.ts');
  print(`\n## ${name}\n`);
  const suite = loaded.get(file) as BenchSuite;
  let result: unknown;
  try {
    result = await suite.run({ json });
  } catch (error) {
    // A setting out of range is the user's to fix: its message, without a stack.
    if (!(error instanceof BenchSettingError)) throw error;
    console.error(`bench ${name}: ${error.message}`);
    process.exit(2);
  }
  if (result !== undefined) results[name] = result;
}
if (json) {
  const only = selected.length === 1 ? results[basename(selected[0] ?? '', '.bench.ts')] : undefined;
  process.stdout.write(`${JSON.stringify(only ?? results)}\n`);
}

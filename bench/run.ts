/**
 * `npm run bench`: runs every benchmark suite in bench/ (files named `*.bench.ts`, each exporting
 * `run(): Promise<void>` that prints its own table of medians and ratios). Pass names to run
 * only some: `npm run bench -- synth simulate`.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchSuite {
  /** run prints the suite's results; it must measure side by side within one run. */
  run(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'usage: npm run bench [-- SUITE...]\n\nruns bench/*.bench.ts; SUITE is a file name without .bench.ts',
  );
  process.exit(0);
}
const suites = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const selected = suites.filter((f) => wanted.length === 0 || wanted.includes(basename(f, '.bench.ts')));
if (selected.length === 0) {
  console.error(
    `bench: no suite matches ${wanted.join(', ')}; have: ${suites.map((f) => basename(f, '.bench.ts')).join(', ') || 'none'}`,
  );
  process.exit(1);
}
for (const file of selected) {
  console.log(`\n## ${basename(file, '.bench.ts')}\n`);
  const suite = (await import(pathToFileURL(join(here, file)).href)) as BenchSuite;
  await suite.run();
}

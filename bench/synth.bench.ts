/**
 * `npm run bench -- synth`: whole-process time of `perfpilot synth` for the default stack, from
 * process start to exit (Node startup, module loading, validation, synthesis, writing), median of
 * several runs into a temporary directory. Goal: under 1 s.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 9;
const GOAL_MS = 1000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function run_(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'perfpilot-bench-synth-'));
  try {
    const times: number[] = [];
    // One warm-up run fills the file system cache, as in CI after checkout and npm ci.
    for (let i = 0; i <= RUNS; i++) {
      const started = performance.now();
      await run(process.execPath, [join(root, 'bin/perfpilot.js'), 'synth', '--out', dir]);
      if (i > 0) times.push(performance.now() - started);
    }
    const m = median(times);
    console.log('| measure | value |');
    console.log('| --- | --- |');
    console.log(`| perfpilot synth, whole process, median of ${RUNS} | ${m.toFixed(0)} ms |`);
    console.log(`| min / max | ${Math.min(...times).toFixed(0)} ms / ${Math.max(...times).toFixed(0)} ms |`);
    console.log(`| goal | < ${GOAL_MS} ms: ${m < GOAL_MS ? 'met' : 'NOT met'} |`);
    // Other work on the machine slows every run alike; say how busy it was.
    console.log(`| load average (1 min) / cores | ${loadavg()[0]?.toFixed(1)} / ${availableParallelism()} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export { run_ as run };

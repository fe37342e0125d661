/**
 * `npm run bench -- synth`: whole-process time of `perfpilot synth` for the default stack, from
 * process start to exit (Node startup, module loading, validation, synthesis, writing), median of
 * several runs into a temporary directory. Goal: under 1 s. Measured side by side, to show where
 * the time goes: the CLI starting up alone (`perfpilot --version`), and synth's own work once its
 * modules are loaded (in this process).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median } from './median.ts';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 9;
const GOAL_MS = 1000;

/** timeRuns runs `once` RUNS times after one warm-up and returns the durations in ms. */
async function timeRuns(once: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    await once();
    if (i > 0) times.push(performance.now() - started);
  }
  return times;
}

export async function run_(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'perfpilot-bench-synth-'));
  const cli = join(root, 'bin/perfpilot.js');
  try {
    const whole = await timeRuns(() => run(process.execPath, [cli, 'synth', '--out', dir]));
    const startup = await timeRuns(() => run(process.execPath, [cli, '--version']));
    const { runSynth } = await import('../charts-ts/src/synth-run.ts');
    const inProcess = await timeRuns(() => runSynth({ out: dir }, () => {}));
    const m = median(whole);
    const row = (what: string, times: number[]) =>
      console.log(
        `| ${what} | ${median(times).toFixed(0)} ms | ${Math.min(...times).toFixed(0)} / ${Math.max(...times).toFixed(0)} ms |`,
      );
    console.log(`| measure (median of ${RUNS}) | median | min / max |`);
    console.log('| --- | --- | --- |');
    row('perfpilot synth, whole process', whole);
    row('perfpilot --version (CLI start-up alone)', startup);
    row('synth in-process, modules loaded (validate, render, write)', inProcess);
    console.log(`\ngoal: whole process < ${GOAL_MS} ms: ${m < GOAL_MS ? 'met' : 'NOT met'}`);
    // Other work on the machine slows every run alike; say how busy it was.
    console.log(`load average (1 min) / cores: ${loadavg()[0]?.toFixed(1)} / ${availableParallelism()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export { run_ as run };

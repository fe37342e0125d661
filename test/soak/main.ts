/**
 * `npm run soak -- --duration SECONDS [--seed N] [--json] [--report-dir DIR]`: the demo's stack
 * under a seeded fault schedule, checked by the observer; prints the report (a table, or one JSON
 * object with --json) and exits 1 when an invariant was breached or a change lost or duplicated.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS } from './fault-schedule.ts';
import { renderReport } from './observer/soak-report.ts';
import { runSoak, type SoakResult } from './run-soak.ts';

/** The seed when none is given. */
export const DEFAULT_SOAK_SEED = 1;

const wholeNumber = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
};

/** soakVerdict is the exit code: 0 when every invariant held and no change was lost or duplicated. */
export const soakVerdict = (r: SoakResult) =>
  r.breaches.length === 0 && r.lost === 0 && r.duplicated === 0 && r.notInjected.length === 0 ? 0 : 1;

/** soakCommand is the soak's command line. */
export function soakCommand(): Command {
  return new Command('soak')
    .description(
      'Runs the demo’s stack (control plane with controllers and kwok, a 6-node Redis Cluster, PostgreSQL, ' +
        'Prometheus, the risk API under a varying load, two operator replicas behind the Lease, the profile ' +
        'in Auto) under a fault schedule drawn from the seed, with every fault type at least once; an ' +
        'observer in its own process checks the invariants every second. Prints the report and exits 1 ' +
        'on any breach, lost or duplicated change.',
    )
    .requiredOption(
      '--duration <seconds>',
      `length of the run, ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS} (the stack's start comes on top)`,
      wholeNumber('--duration', MIN_DURATION_SECONDS, MAX_DURATION_SECONDS),
    )
    .option(
      '--seed <n>',
      'seed of the fault schedule and the load',
      wholeNumber('--seed', 0, 2 ** 31),
      DEFAULT_SOAK_SEED,
    )
    .option('--json', 'print one JSON object at the end (progress goes to standard error)')
    .option(
      '--report-dir <dir>',
      'where report.md, report.json, samples and logs go',
      'perfpilot-soak-report',
    )
    .action(async (flags: { duration: number; seed: number; json?: boolean; reportDir: string }) => {
      const reportDir = resolve(flags.reportDir);
      const started = new Date();
      const result = await runSoak({
        durationSeconds: flags.duration,
        seed: flags.seed,
        reportDir,
        onLine: (line) => process.stderr.write(`${line}\n`),
      });
      const table = renderReport(result);
      const notes = [
        ...result.notInjected.map((n) => `- not injected: ${n.type}: ${n.error}`),
        ...result.operatorExits.map((e) => `- operator replica ${e.identity} exited on its own (${e.code})`),
      ];
      const text = [table, ...(notes.length ? ['', ...notes] : [])].join('\n');
      writeFileSync(
        join(reportDir, 'report.md'),
        `# Soak report\n\n\`npm run soak -- --duration ${flags.duration} --seed ${flags.seed}\`, started ${started.toISOString()}\n\n${text}\n\n## Faults\n\n${result.faultList.map((f) => `- ${f.type} at ${Math.round((f.start - result.startedAt) / 1000)} s: ${f.detail}`).join('\n')}\n`,
      );
      if (flags.json) console.log(JSON.stringify(result, null, 2));
      else console.log(text);
      process.exitCode = soakVerdict(result);
    });
}

if (import.meta.main) await soakCommand().parseAsync(process.argv);

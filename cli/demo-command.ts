import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';

interface DemoFlags {
  duration?: string;
  phases?: string;
  json?: boolean;
  reportDir: string;
  setup: boolean;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * demoCommand is `perfpilot demo` (and `npm run demo`): the whole loop on real processes on this
 * machine, with a live table and a report. The orchestration lives in demo/src/.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .summary(
      'run the whole loop on this machine: cluster, Redis, PostgreSQL, Prometheus, the API under load, the operator',
    )
    .description(
      'Starts on loopback a Kubernetes control plane with its controllers (Pods are kwok objects), a ' +
        '6-node Redis Cluster, PostgreSQL with the seed data, Prometheus and prometheus-adapter, the stack ' +
        'synthesized by the toolkit, the risk API process and the operator in Auto mode; drives load ' +
        'phases that make the initial knobs wrong, prints a live table, writes a report with charts and ' +
        'stops everything it started (also on Ctrl-C). Missing prerequisites are installed by ' +
        'scripts/setup.sh first, as for the tests.',
    )
    .option('--duration <seconds>', 'stretch or shrink the phases to this many seconds of load in all')
    .option('--phases <file>', 'YAML/JSON list of {name, duration, rate, connections, mix, zipf, symbols}')
    .option('--json', 'print one JSON object at the end (the table goes to standard error)')
    .option('--report-dir <dir>', 'where report.md and its SVG charts go', 'perfpilot-demo-report')
    .option('--no-setup', 'skip scripts/setup.sh (prerequisites known to be there)')
    .action(async (flags: DemoFlags) => {
      const { DEFAULT_DEMO_PHASES, parseDemoPhases, scalePhases } = await import('../demo/src/phases.ts');
      let phases = flags.phases
        ? parseDemoPhases(await readFile(flags.phases, 'utf8'))
        : [...DEFAULT_DEMO_PHASES];
      if (flags.duration !== undefined) {
        const seconds = Number(flags.duration);
        if (!Number.isInteger(seconds) || seconds < phases.length || seconds > 3600) {
          throw new Error(
            `--duration must be a whole number of seconds from ${phases.length} to 3600, got "${flags.duration}"`,
          );
        }
        phases = scalePhases(phases, seconds);
      }
      if (flags.setup) {
        // The same setup as the tests: Debian packages, Node 24, the Go-built cluster, with progress.
        const setup = spawnSync('bash', [join(root, 'scripts/setup.sh')], { stdio: ['ignore', 2, 2] });
        if (setup.status !== 0) throw new CommanderError(1, 'perfpilot.demo', 'setup failed (see above)');
      }
      const { runDemo } = await import('../demo/src/run-demo.ts');
      const controller = new AbortController();
      const interrupt = () => {
        process.stderr.write('\ndemo: stopping everything it started…\n');
        controller.abort();
      };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const out = (line: string) => (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
      const started = performance.now();
      try {
        const result = await runDemo({
          phases,
          reportDir: resolve(flags.reportDir),
          signal: controller.signal,
          onStep: (step) => process.stderr.write(`demo: starting ${step}\n`),
          onRow: out,
        });
        const wall = Math.round((performance.now() - started) / 1000);
        out(
          `\ndemo: ${result.requests} requests, ${result.failedRequests} failed; ${result.decisions.length} decisions`,
        );
        out(`demo: finished in ${wall} s (startup ${result.startupSeconds} s); everything stopped`);
        out(`demo: report ${result.report}`);
        if (flags.json) {
          const { phases: p, decisions, report } = result;
          const slim = decisions.map(({ atSeconds, knob, from, to, reason }) => ({
            atSeconds,
            knob,
            from,
            to,
            reason,
          }));
          console.log(JSON.stringify({ phases: p, decisions: slim, report }, null, 2));
        }
      } catch (err) {
        // Everything is stopped by now; the interrupted phase's load generator has nothing left to reach.
        if (controller.signal.aborted) process.exit(130);
        throw err;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
}

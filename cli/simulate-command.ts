import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  comparePolicies,
  DEFAULT_SEED_COUNT,
  MAX_SEED_COUNT,
  POLICY_NAMES,
  type PolicyName,
  parseSeedCount,
  SEED_COUNT_RULE,
} from '../bench/sim/benchmark.ts';
import { formatVerdict, judgeGoal } from '../bench/sim/goal.ts';
import { formatSeedSpread, formatTable, rowsFor } from '../bench/sim/table.ts';
import { loadScenarioFile } from '../operator/src/sim/scenario.ts';

const POLICY_CHOICES = [...POLICY_NAMES, 'all'] as const;

function parsePolicy(value: string): PolicyName | 'all' {
  if (!(POLICY_CHOICES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${POLICY_CHOICES.join(', ')}`);
  }
  return value as PolicyName | 'all';
}

function seedCountArgument(value: string): number {
  const n = parseSeedCount(value);
  if (n === undefined) throw new InvalidArgumentError(SEED_COUNT_RULE);
  return n;
}

/**
 * `perfpilot simulate`: runs a scenario file through the simulator with the tuning engine and/or
 * the seed's baselines and prints their totals; `--report DIR` adds SVG charts and a summary.
 */
export function simulateCommand(): Command {
  return (
    new Command('simulate')
      .summary('replay a load scenario against the tuning engine and the seed baselines')
      .description(
        'Replays a scenario (environment + load over time, see bench/scenarios/README.md)\n' +
          'in a simulator of the API, its HPA, PostgreSQL and Redis, with one or all knob\n' +
          'policies:\n' +
          '  ours         the tuning engine behind its safety gate (the operator’s code)\n' +
          '  seed-static  the guide’s fixed values: pool 20 + overflow 30, maxmemory 512mb\n' +
          '  seed-rules   seed-static plus the guide’s DynamicConnectionPool rule\n' +
          '  best-static  the best fixed configuration for this scenario, by grid search\n' +
          '               in hindsight\n' +
          'and prints per policy: SLO-violation minutes, failed requests, pod-hours, Redis\n' +
          'GB-hours, DB connection-hours, their priced cost (prices per scenario, see\n' +
          'bench/scenarios/README.md), knob changes and direction reversals, and whether\n' +
          'the engine meets its goal. Scenarios with load noise run three seeds (--seeds),\n' +
          'report medians, and show how the seeds spread: a median of three can hide a\n' +
          'failure two seeds escaped by luck.',
      )
      // addCommand() does not pass the program's settings down; report errors and help the same way.
      .exitOverride()
      .showHelpAfterError()
      .requiredOption('--scenario <file>', 'scenario file (YAML or JSON)')
      .addOption(
        new Option('--policy <name>', `policy to run: ${POLICY_CHOICES.join(' | ')}`)
          .default('all')
          .argParser(parsePolicy),
      )
      .addOption(
        new Option(
          '--seeds <n>',
          `seeds a scenario with load noise runs, from its own seed up (1 to ${MAX_SEED_COUNT}); one without noise runs one`,
        )
          .default(DEFAULT_SEED_COUNT)
          .argParser(seedCountArgument),
      )
      .option('--json', 'print the totals as JSON instead of a table')
      .option('--report <dir>', 'write SVG charts and summary.md into this directory')
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  perfpilot simulate --scenario bench/scenarios/flash-spike.yaml\n' +
          '  perfpilot simulate --scenario my.yaml --policy ours --json\n' +
          '  perfpilot simulate --scenario bench/scenarios/early-peak.yaml --policy ours --seeds 14\n' +
          '  perfpilot simulate --scenario bench/scenarios/cache-bound.yaml --report out/cache-bound',
      )
      .action(
        async (options: {
          scenario: string;
          policy: PolicyName | 'all';
          seeds: number;
          json?: boolean;
          report?: string;
        }) => {
          const scenario = loadScenarioFile(resolve(options.scenario));
          const policies = options.policy === 'all' ? POLICY_NAMES : [options.policy];
          // Progress on stderr, one line a run: a noisy scenario on many seeds takes minutes.
          const summaries = comparePolicies(scenario, policies, {
            seedCount: options.seeds,
            onRun: (run, done, total) =>
              console.error(`simulated ${run.policy} on seed ${run.seed} (${done} of ${total})`),
          });
          const seeds = summaries[0]?.runs.map((r) => r.seed) ?? [];
          if (options.json) {
            const verdict = judgeGoal(scenario, summaries);
            console.log(
              JSON.stringify(
                {
                  scenario: scenario.name,
                  seeds,
                  policies: summaries.map((s) => ({
                    policy: s.policy,
                    totals: s.totals,
                    runs: s.runs.map((r) => ({ seed: r.seed, totals: r.totals })),
                    ...(s.knobs ? { knobs: s.knobs } : {}),
                  })),
                  ...(verdict ? { goal: verdict } : {}),
                },
                null,
                2,
              ),
            );
          } else {
            console.log(formatTable(rowsFor(scenario, summaries)));
            if (seeds.length > 1) {
              console.log(`\nMedians over ${seeds.length} seeds. Per seed:\n`);
              console.log(formatSeedSpread(summaries));
            }
            const verdict = judgeGoal(scenario, summaries);
            if (verdict) {
              console.log(`\nGoal of the tuning engine on this scenario: ${verdict.met ? 'met' : 'missed'}`);
              console.log(formatVerdict(verdict).join('\n'));
            }
          }
          if (options.report) {
            // Loaded on use: the chart renderer (Vega) is large, and only --report needs it.
            const { writeReport } = await import('../bench/sim/report.ts');
            const files = await writeReport(resolve(options.report), scenario, summaries);
            console.error(`wrote ${files.length} files to ${resolve(options.report)}`);
          }
        },
      )
  );
}

/**
 * `npm run bench -- simulate`: every standard scenario in bench/scenarios/ with every policy
 * (ours, seed-static, seed-rules, best-static), one table of medians over seeds (scenarios with
 * noise run three seeds, or `PERFPILOT_BENCH_SEEDS`) with the priced cost, and per scenario
 * whether the tuning engine meets the goal of issue 30 (bench/sim/goal.ts), check by check, with
 * BUNGEE's elasticity metrics.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile } from '../operator/src/sim/scenario.ts';
import { BenchSettingError } from './setting-error.ts';
import {
  comparePolicies,
  DEFAULT_SEED_COUNT,
  POLICY_NAMES,
  parseSeedCount,
  SEED_COUNT_RULE,
  seedsFor,
} from './sim/benchmark.ts';
import { formatVerdict, judgeGoal } from './sim/goal.ts';
import { formatTable, rowsFor, type TableRow } from './sim/table.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

/** PERFPILOT_BENCH_SEEDS: how many seeds each noisy scenario runs (default 3), to judge the goal on more. */
function seedCount(): number {
  const raw = process.env.PERFPILOT_BENCH_SEEDS;
  if (raw === undefined || raw === '') return DEFAULT_SEED_COUNT;
  const n = parseSeedCount(raw);
  if (n === undefined) throw new BenchSettingError(`PERFPILOT_BENCH_SEEDS ${SEED_COUNT_RULE}, got "${raw}"`);
  return n;
}

/** Runs the benchmark and prints its table and verdicts. */
export async function run(): Promise<void> {
  const seeds = seedCount();
  const files = (await readdir(scenarioDir)).filter((f) => f.endsWith('.yaml')).sort();
  const rows: TableRow[] = [];
  const verdicts: string[] = [];
  let met = 0;
  for (const file of files) {
    const scenario = loadScenarioFile(join(scenarioDir, file));
    const summaries = comparePolicies(scenario, POLICY_NAMES, { seedCount: seeds });
    rows.push(...rowsFor(scenario, summaries));
    const verdict = judgeGoal(scenario, summaries);
    const best = summaries.find((s) => s.policy === 'best-static')?.knobs;
    const ran = seedsFor(scenario, seeds);
    verdicts.push(
      `**${scenario.name}** (${ran.length === 1 ? 'one seed, no noise' : `median of seeds ${ran.join(', ')}`}): ` +
        `${verdict?.met ? 'goal met' : 'goal MISSED'}` +
        (best
          ? `; best-static: pool ${best.poolSize}+${best.maxOverflow}, maxmemory ${best.redisMaxmemoryMiB} MiB, replicas ${best.minReplicas}..${best.maxReplicas}, HPA target ${best.hpaTargetCpuPercent} %${best.hpaTargetRequestsPerPod > 0 ? ` and ${best.hpaTargetRequestsPerPod} rps a pod` : ''}`
          : ''),
      ...(verdict ? formatVerdict(verdict) : []),
      '',
    );
    if (verdict?.met) met++;
  }
  console.log(formatTable(rows));
  console.log(
    '\nθU/θO: under-/over-provisioning accuracy, τU/τO: under-/over-provisioning timeshare of the pods (BUNGEE, in percent; demand: the fewest pods within the p95 objective).',
  );
  console.log(
    "\nGoal per scenario (issue 30: SLO-violation minutes, every declared objective counted, ≤ best-static's + 0.5 min; failed requests ≤ the better seed baseline's; no reversal inside the 1800 s stabilization window; where load changes, priced cost ≤ best-static's):\n",
  );
  console.log(verdicts.join('\n'));
  console.log(`${met} of ${files.length} scenarios meet the goal.`);
}

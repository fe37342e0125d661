/**
 * `npm run bench -- simulate`: every standard scenario in bench/scenarios/ with every policy
 * (ours, seed-static, seed-rules, best-static), one table of medians over seeds (scenarios with
 * noise run three seeds, `perfpilot simulate --seeds` runs more) with the priced cost, and per scenario whether the tuning engine meets
 * the goal of issue 30 (bench/sim/goal.ts), check by check, with BUNGEE's elasticity metrics.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile } from '../operator/src/sim/scenario.ts';
import { comparePolicies, POLICY_NAMES, seedsFor } from './sim/benchmark.ts';
import { formatVerdict, judgeGoal } from './sim/goal.ts';
import { formatTable, rowsFor, type TableRow } from './sim/table.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

/** Runs the benchmark and prints its table and verdicts. */
export async function run(): Promise<void> {
  const files = (await readdir(scenarioDir)).filter((f) => f.endsWith('.yaml')).sort();
  const rows: TableRow[] = [];
  const verdicts: string[] = [];
  let met = 0;
  for (const file of files) {
    const scenario = loadScenarioFile(join(scenarioDir, file));
    const summaries = comparePolicies(scenario, POLICY_NAMES);
    rows.push(...rowsFor(scenario, summaries));
    const verdict = judgeGoal(scenario, summaries);
    const best = summaries.find((s) => s.policy === 'best-static')?.knobs;
    const seeds = seedsFor(scenario);
    verdicts.push(
      `**${scenario.name}** (${seeds.length === 1 ? 'one seed, no noise' : `median of seeds ${seeds.join(', ')}`}): ` +
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

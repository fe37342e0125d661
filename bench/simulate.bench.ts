/**
 * `npm run bench -- simulate`: every standard scenario in bench/scenarios/ with every policy
 * (ours, seed-static, seed-rules, best-static), one table of medians over seeds (scenarios with
 * noise run three seeds), and per scenario whether the tuning engine meets the goal of issue 5.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  comparePolicies,
  formatTable,
  judgeGoal,
  POLICY_NAMES,
  rowsFor,
  seedsFor,
  type TableRow,
} from '../operator/src/sim/benchmark.ts';
import { loadScenarioFile } from '../operator/src/sim/scenario.ts';

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
    const verdict = judgeGoal(summaries);
    const best = summaries.find((s) => s.policy === 'best-static')?.knobs;
    const seeds = seedsFor(scenario);
    verdicts.push(
      `- **${scenario.name}** (${seeds.length === 1 ? 'one seed, no noise' : `median of seeds ${seeds.join(', ')}`}): ` +
        `${verdict?.met ? 'goal met' : 'goal MISSED'}` +
        (verdict && !verdict.met
          ? ` — ${verdict.checks
              .filter((c) => !c.held)
              .map((c) => `${c.name}: ${c.detail}`)
              .join('; ')}`
          : '') +
        (best
          ? `. best-static: pool ${best.poolSize}+${best.maxOverflow}, maxmemory ${best.redisMaxmemoryMiB} MiB, replicas ${best.minReplicas}..${best.maxReplicas}`
          : ''),
    );
    if (verdict?.met) met++;
  }
  console.log(formatTable(rows));
  console.log(
    "\nGoal per scenario (issue 5: ours ≤ 20 % of the better seed baseline's SLO-violation minutes, each resource ≤ seed-static, no reversal inside the 1800 s stabilization window, within 10 % of best-static on violations and each resource):\n",
  );
  console.log(verdicts.join('\n'));
  console.log(`\n${met} of ${files.length} scenarios meet the goal.`);
}

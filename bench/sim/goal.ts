/**
 * The tuning engine's goal on a scenario (issue 30), judged on medians over seeds against the
 * seed's baselines and the best static configuration in hindsight, on every declared objective.
 */

import type { RunTotals } from '../../operator/src/sim/run-result.ts';
import type { Scenario } from '../../operator/src/sim/scenario.ts';
import type { PolicyName, PolicySummary } from './benchmark.ts';

/** The verdict on the engine's goal for one scenario. */
export interface GoalVerdict {
  readonly met: boolean;
  /** checks: each part of the goal with whether it held and the numbers. */
  readonly checks: readonly { readonly name: string; readonly held: boolean; readonly detail: string }[];
}

/** Load "changes over the scenario" when its curve's highest point is at least this many times its lowest. */
export const LOAD_CHANGE_RATIO = 1.5;

/** Whether the scenario's load changes enough that a tuner that follows it should beat any fixed choice. */
export function loadChanges(scenario: Scenario): boolean {
  const rates = scenario.load.points.map((p) => p.rps);
  const lowest = Math.min(...rates);
  const highest = Math.max(...rates);
  return highest >= LOAD_CHANGE_RATIO * Math.max(lowest, 1e-9);
}

/** The engine may have best-static's SLO-violation minutes plus this many (issue 30). */
export const VIOLATION_MINUTES_OVER_BEST = 0.5;

const money = (x: number) => `$${x.toFixed(2)}`;
const minutes = (x: number) => `${x.toFixed(2)} min`;

/**
 * Judges issue 30's goal: SLO-violation minutes (every declared objective) ≤ best-static's +
 * {@link VIOLATION_MINUTES_OVER_BEST}; failed requests ≤ the better seed baseline's (whole
 * requests); no direction reversal inside the stabilization window; and where the load changes
 * ({@link loadChanges}), priced cost ≤ best-static's.
 */
export function judgeGoal(scenario: Scenario, summaries: readonly PolicySummary[]): GoalVerdict | undefined {
  const get = (p: PolicyName): RunTotals | undefined => summaries.find((s) => s.policy === p)?.totals;
  const ours = get('ours');
  const seedStatic = get('seed-static');
  const seedRules = get('seed-rules');
  const best = get('best-static');
  if (!ours || !seedStatic || !seedRules || !best) return undefined;
  const checks: { name: string; held: boolean; detail: string }[] = [];
  const allowed = best.sloViolationMinutes + VIOLATION_MINUTES_OVER_BEST;
  checks.push({
    name: 'violations ≤ best-static + 0.5 min',
    held: ours.sloViolationMinutes <= allowed + 1e-9,
    detail: `${minutes(ours.sloViolationMinutes)} vs ${minutes(allowed)}`,
  });
  const fewestSeedFailures = Math.min(seedStatic.failedRequests, seedRules.failedRequests);
  checks.push({
    name: 'failed requests ≤ the better seed baseline',
    held: Math.round(ours.failedRequests) <= Math.round(fewestSeedFailures),
    detail: `${Math.round(ours.failedRequests)} vs ${Math.round(fewestSeedFailures)}`,
  });
  checks.push({
    name: 'no reversal inside the window',
    held: ours.reversalsInWindow === 0,
    detail: `${ours.reversalsInWindow} reversals`,
  });
  if (loadChanges(scenario)) {
    checks.push({
      name: 'cost ≤ best-static',
      held: ours.pricedCost <= best.pricedCost + 1e-9,
      detail: `${money(ours.pricedCost)} vs ${money(best.pricedCost)}`,
    });
  }
  return { met: checks.every((c) => c.held), checks };
}

/** The goal verdict as Markdown list lines: one per check, ✓ or ✗ with its numbers. */
export function formatVerdict(verdict: GoalVerdict): string[] {
  return verdict.checks.map((c) => `- ${c.held ? '✓' : '✗'} ${c.name}: ${c.detail}`);
}

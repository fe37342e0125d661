/**
 * Runs policies on a scenario over its seeds, shared by `perfpilot simulate` and
 * `npm run bench -- simulate`. The goal lives in goal.ts, the hindsight search in best-static.ts,
 * the result table in table.ts.
 */

import {
  engineController,
  type KnobController,
  SEED_RULES,
  SEED_STATIC,
  startingKnobs,
} from '../../operator/src/sim/controllers.ts';
import type { RunResult, RunTotals } from '../../operator/src/sim/run-result.ts';
import type { Scenario } from '../../operator/src/sim/scenario.ts';
import { simulate } from '../../operator/src/sim/simulate.ts';
import type { KnobValues } from '../../operator/src/tuning/types.ts';
import { median } from '../median.ts';
import { findBestStatic } from './best-static.ts';

/** The policies a run can compare. */
export const POLICY_NAMES = ['ours', 'seed-static', 'seed-rules', 'best-static'] as const;
/** One policy name. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The controller for a named policy; best-static runs the grid search first. */
export function controllerFor(scenario: Scenario, policy: PolicyName): KnobController {
  switch (policy) {
    case 'ours':
      return engineController(scenario);
    case 'seed-static':
      return SEED_STATIC;
    case 'seed-rules':
      return SEED_RULES;
    case 'best-static':
      return { kind: 'static', label: 'best-static', knobs: findBestStatic(scenario).knobs };
  }
}

/** Totals of one policy on one scenario: the median over seeds of every field. */
export interface PolicySummary {
  readonly policy: PolicyName;
  readonly totals: RunTotals;
  /** runs: every seed's run, the first one's series is used for charts. */
  readonly runs: readonly RunResult[];
  /** knobs: the fixed configuration, for static policies (the scenario's HPA target where it sets none). */
  readonly knobs?: KnobValues;
}

/** The seeds a scenario runs with: one when it has no noise, three otherwise (medians reported). */
export function seedsFor(scenario: Scenario): number[] {
  return scenario.load.noise > 0 ? [scenario.seed, scenario.seed + 1, scenario.seed + 2] : [scenario.seed];
}

/** Runs the policies on a scenario over its seeds and summarizes each by medians. */
export function comparePolicies(scenario: Scenario, policies: readonly PolicyName[]): PolicySummary[] {
  const seeds = seedsFor(scenario);
  return policies.map((policy) => {
    const controller = controllerFor(scenario, policy);
    const runs = seeds.map((seed) => simulate(scenario, controller, { seed }));
    const keys = Object.keys(runs[0]?.totals ?? {}) as (keyof RunTotals)[];
    const totals = Object.fromEntries(
      keys.map((k) => [k, median(runs.map((r) => r.totals[k]))]),
    ) as unknown as RunTotals;
    return {
      policy,
      totals,
      runs,
      ...(controller.kind === 'static' ? { knobs: startingKnobs(controller, scenario) } : {}),
    };
  });
}

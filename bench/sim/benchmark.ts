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

/** How many seeds a scenario with noise runs by default (the benchmark's medians). */
export const DEFAULT_SEED_COUNT = 3;
/** The most seeds `perfpilot simulate --seeds` and `PERFPILOT_BENCH_SEEDS` accept. */
export const MAX_SEED_COUNT = 100;

/** What a seed count must be, for the message of a refused one. */
export const SEED_COUNT_RULE = `must be an integer from 1 to ${MAX_SEED_COUNT}`;

/**
 * A seed count as a user wrote it (`--seeds`, `PERFPILOT_BENCH_SEEDS`): a whole number from 1 to
 * {@link MAX_SEED_COUNT}, else undefined (the caller names the setting and {@link SEED_COUNT_RULE}).
 */
export function parseSeedCount(text: string): number | undefined {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  return Number.isInteger(n) && n >= 1 && n <= MAX_SEED_COUNT ? n : undefined;
}

/**
 * The seeds a scenario runs with: one when it has no noise (every seed gives the same run),
 * otherwise `count` from the scenario's own seed up (medians reported).
 */
export function seedsFor(scenario: Scenario, count = DEFAULT_SEED_COUNT): number[] {
  return scenario.load.noise > 0
    ? Array.from({ length: count }, (_, i) => scenario.seed + i)
    : [scenario.seed];
}

/** How {@link comparePolicies} runs: how many seeds, and what to call after each run (progress). */
export interface CompareOptions {
  readonly seedCount?: number;
  readonly onRun?: (run: RunResult, done: number, total: number) => void;
}

/** Runs the policies on a scenario over its seeds and summarizes each by medians. */
export function comparePolicies(
  scenario: Scenario,
  policies: readonly PolicyName[],
  options: CompareOptions = {},
): PolicySummary[] {
  const seeds = seedsFor(scenario, options.seedCount);
  const total = seeds.length * policies.length;
  let done = 0;
  return policies.map((policy) => {
    const controller = controllerFor(scenario, policy);
    const runs = seeds.map((seed) => {
      const run = simulate(scenario, controller, { seed });
      options.onRun?.(run, ++done, total);
      return run;
    });
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

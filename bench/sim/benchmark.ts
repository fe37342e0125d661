/**
 * Runs policies on a scenario over its seeds and formats the result tables shared by
 * `perfpilot simulate` and `npm run bench -- simulate`. The goal lives in goal.ts, the hindsight
 * search in best-static.ts.
 */
import type { Scenario } from '../../operator/src/sim/scenario.ts';
import {
  engineController,
  type KnobController,
  type RunResult,
  type RunTotals,
  SEED_RULES,
  SEED_STATIC,
  simulate,
} from '../../operator/src/sim/simulate.ts';
import type { KnobValues } from '../../operator/src/tuning/types.ts';
import { median } from '../median.ts';
import { findBestStatic } from './best-static.ts';
import { judgeGoal } from './goal.ts';

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
  /** knobs: the fixed configuration, for static policies. */
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
    return { policy, totals, runs, ...(controller.kind === 'static' ? { knobs: controller.knobs } : {}) };
  });
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return `| ${cells.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
}

/** One table row of a policy on a scenario. */
export interface TableRow {
  readonly scenario: string;
  readonly policy: string;
  readonly totals: RunTotals;
  readonly note?: string;
}

/** A Markdown table of totals: violation minutes, failures, resources, priced cost, changes and reversals. */
export function formatTable(rows: readonly TableRow[]): string {
  const header = [
    'scenario',
    'policy',
    'SLO-viol min',
    'failed req',
    'pod-h',
    'Redis GB-h',
    'DB conn-h',
    'cost $',
    'knob changes',
    'reversals (in window)',
    'goal',
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.policy,
    r.totals.sloViolationMinutes.toFixed(2),
    Math.round(r.totals.failedRequests).toString(),
    r.totals.podHours.toFixed(1),
    r.totals.redisGbHours.toFixed(1),
    r.totals.dbConnectionHours.toFixed(0),
    r.totals.pricedCost.toFixed(2),
    Math.round(r.totals.knobChanges).toString(),
    `${Math.round(r.totals.reversals)} (${Math.round(r.totals.reversalsInWindow)})`,
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  return [
    pad(header, widths),
    `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map((b) => pad(b, widths)),
  ].join('\n');
}

/** Rows for one scenario's summaries, the goal verdict on `ours`' row. */
export function rowsFor(scenario: Scenario, summaries: readonly PolicySummary[]): TableRow[] {
  const verdict = judgeGoal(scenario, summaries);
  return summaries.map((s) => ({
    scenario: scenario.name,
    policy: s.policy,
    totals: s.totals,
    ...(s.policy === 'ours' && verdict
      ? {
          note: verdict.met
            ? 'met'
            : `MISSED ${verdict.checks.filter((c) => !c.held).length} of ${verdict.checks.length}`,
        }
      : {}),
  }));
}

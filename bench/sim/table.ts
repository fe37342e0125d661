/**
 * The result table of a policy comparison, shared by `perfpilot simulate` and
 * `npm run bench -- simulate`: one Markdown row per policy and scenario, with the goal's verdict
 * (goal.ts) on the engine's row.
 */

import type { RunTotals } from '../../operator/src/sim/run-result.ts';
import type { Scenario } from '../../operator/src/sim/scenario.ts';
import type { PolicySummary } from './benchmark.ts';
import { judgeGoal } from './goal.ts';

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

/** A Markdown table of totals: violation minutes (and those that missed the hit-rate objective, and p95 or errors), failures, resources, priced cost, changes and reversals, and BUNGEE's elasticity metrics of the pods (θU/θO: under-/over-provisioning accuracy, τU/τO: timeshare, in percent). */
export function formatTable(rows: readonly TableRow[]): string {
  const header = [
    'scenario',
    'policy',
    'SLO-viol min',
    'of which hit rate',
    'of which p95/errors',
    'failed req',
    'pod-h',
    'Redis GB-h',
    'DB conn-h',
    'cost $',
    'knob changes',
    'reversals (in window)',
    'θU %',
    'θO %',
    'τU %',
    'τO %',
    'goal',
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.policy,
    r.totals.sloViolationMinutes.toFixed(2),
    r.totals.hitRateViolationMinutes.toFixed(2),
    r.totals.p95OrErrorViolationMinutes.toFixed(2),
    Math.round(r.totals.failedRequests).toString(),
    r.totals.podHours.toFixed(1),
    r.totals.redisGbHours.toFixed(1),
    r.totals.dbConnectionHours.toFixed(0),
    r.totals.pricedCost.toFixed(2),
    Math.round(r.totals.knobChanges).toString(),
    `${Math.round(r.totals.reversals)} (${Math.round(r.totals.reversalsInWindow)})`,
    r.totals.underAccuracy.toFixed(1),
    r.totals.overAccuracy.toFixed(1),
    r.totals.underTimeshare.toFixed(1),
    r.totals.overTimeshare.toFixed(1),
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

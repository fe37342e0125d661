/**
 * The result table of a policy comparison, shared by `perfpilot simulate` and
 * `npm run bench -- simulate`: one Markdown row per policy and scenario, with the goal's verdict
 * (goal.ts) on the engine's row.
 */

import type { RunTotals } from '../../operator/src/sim/run-result.ts';
import type { Scenario } from '../../operator/src/sim/scenario.ts';
import type { PolicySummary } from './benchmark.ts';
import { judgeGoal } from './goal.ts';

/** A Markdown table, its columns padded to their widest cell: the first two left, the rest right. */
function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const pad = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [
    pad(header),
    `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map((b) => pad(b)),
  ].join('\n');
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
  return markdownTable(header, body);
}

/**
 * How each policy's runs spread over the seeds behind the medians: on how many seeds any request
 * failed (a whole request or more), and the lowest and highest violation minutes, failed requests
 * and priced cost. A median of three can hide a failure two seeds escaped by luck.
 */
export function formatSeedSpread(summaries: readonly PolicySummary[]): string {
  const range = (values: readonly number[], digits: number) => {
    const lo = Math.min(...values).toFixed(digits);
    const hi = Math.max(...values).toFixed(digits);
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const body = summaries.map((s) => {
    const totals = s.runs.map((r) => r.totals);
    const seeds = s.runs.map((r) => r.seed);
    const failing = totals.filter((t) => Math.round(t.failedRequests) > 0).length;
    return [
      s.policy,
      seeds.length === 1 ? String(seeds[0]) : `${seeds[0]}–${seeds[seeds.length - 1]}`,
      `${failing} of ${seeds.length}`,
      range(
        totals.map((t) => t.sloViolationMinutes),
        2,
      ),
      range(
        totals.map((t) => Math.round(t.failedRequests)),
        0,
      ),
      range(
        totals.map((t) => t.pricedCost),
        3,
      ),
    ];
  });
  return markdownTable(
    ['policy', 'seeds', 'seeds with failed requests', 'SLO-viol min', 'failed req', 'cost $'],
    body,
  );
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

/**
 * Runs policies on a scenario, finds the best static configuration in hindsight, judges the
 * goal of the tuning engine and formats the result tables shared by `perfpilot simulate` and
 * `npm run bench`.
 */
import { maxmemoryCeilingForLimitMiB } from '../api/v1alpha1/redis-maxmemory-ceiling.ts';
import { SEED_STATIC_KNOBS } from '../tuning/seed-baselines.ts';
import type { KnobName, KnobValues } from '../tuning/types.ts';
import type { Scenario } from './scenario.ts';
import {
  engineController,
  type KnobController,
  type RunResult,
  type RunTotals,
  SEED_RULES,
  SEED_STATIC,
  simulate,
} from './simulate.ts';

/** The policies a run can compare. */
export const POLICY_NAMES = ['ours', 'seed-static', 'seed-rules', 'best-static'] as const;
/** One policy name. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The grid the best-static search walks, per knob. Memory values above the scenario's 0.75 × limit are skipped. */
export const BEST_STATIC_GRID: Readonly<Record<KnobName, readonly number[]>> = {
  poolSize: [5, 10, 20, 30],
  maxOverflow: [0, 10, 30],
  redisMaxmemoryMiB: [256, 512, 1024, 2048, 3072, 4096, 6144],
  minReplicas: [2, 3, 4, 6, 8],
  maxReplicas: [6, 10, 15, 20],
};

/**
 * Orders runs for the best-static search: fewer SLO-violation minutes (rounded to whole minutes)
 * first, then fewer pod-hours, Redis GB-hours and DB connection-hours, in that order, each
 * compared with a 0.5 % tolerance of the seed-static reference so noise-sized differences fall
 * through to the next resource. Pods come first because they are the dominant cost.
 */
function isBetterStatic(a: RunTotals, b: RunTotals, reference: RunTotals): boolean {
  const va = Math.round(a.sloViolationMinutes);
  const vb = Math.round(b.sloViolationMinutes);
  if (va !== vb) return va < vb;
  for (const key of ['podHours', 'redisGbHours', 'dbConnectionHours'] as const) {
    const tolerance = 0.005 * Math.max(reference[key], 1e-9);
    if (Math.abs(a[key] - b[key]) > tolerance) return a[key] < b[key];
  }
  return false;
}

/**
 * The static configuration that does best on a scenario in hindsight: coordinate descent over
 * {@link BEST_STATIC_GRID}, two passes, from the seed's values. Only configurations the safety
 * gate would allow are candidates (DB budget `maxReplicas × (pool + overflow) ≤ maxConnections −
 * reserved`, `minReplicas ≥ 2`, `maxmemory ≤ 0.75 × limit`); since the seed's own values break
 * the DB budget, each descent starts from the seed's memory and replica bounds with one of the
 * grid's pools and no overflow. Runs are ordered by {@link isBetterStatic}.
 */
export function findBestStatic(scenario: Scenario): { knobs: KnobValues; evaluated: number } {
  const reference = simulate(scenario, SEED_STATIC).totals;
  const memoryCeiling = maxmemoryCeilingForLimitMiB(scenario.redis.memoryLimitMiB);
  const budget = scenario.db.maxConnections - scenario.db.reservedConnections;
  let overall: { knobs: KnobValues; totals: RunTotals } | undefined;
  let evaluated = 1;
  // Coordinate descent finds local optima, so it starts from the seed's values with each grid
  // pool (no overflow, replica ceiling cut to the DB budget) and keeps the best finish.
  for (const startPool of BEST_STATIC_GRID.poolSize) {
    let best: KnobValues = {
      ...SEED_STATIC_KNOBS,
      poolSize: startPool,
      maxOverflow: 0,
      maxReplicas: Math.max(2, Math.min(SEED_STATIC_KNOBS.maxReplicas, Math.floor(budget / startPool))),
    };
    if (best.maxReplicas * best.poolSize > budget) continue;
    let bestTotals = simulate(scenario, { kind: 'static', label: 'best-static', knobs: best }).totals;
    evaluated++;
    for (let pass = 0; pass < 2; pass++) {
      for (const knob of Object.keys(BEST_STATIC_GRID) as KnobName[]) {
        for (const value of BEST_STATIC_GRID[knob]) {
          if (value === best[knob]) continue;
          if (knob === 'redisMaxmemoryMiB' && value > memoryCeiling) continue;
          const candidate = { ...best, [knob]: value };
          if (candidate.minReplicas > candidate.maxReplicas) continue;
          if (candidate.maxReplicas * (candidate.poolSize + candidate.maxOverflow) > budget) continue;
          const totals = simulate(scenario, {
            kind: 'static',
            label: 'best-static',
            knobs: candidate,
          }).totals;
          evaluated++;
          if (isBetterStatic(totals, bestTotals, reference)) {
            best = candidate;
            bestTotals = totals;
          }
        }
      }
    }
    if (!overall || isBetterStatic(bestTotals, overall.totals, reference))
      overall = { knobs: best, totals: bestTotals };
  }
  const best = overall?.knobs ?? SEED_STATIC_KNOBS;
  return { knobs: best, evaluated };
}

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
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

/** The verdict on the engine's goal for one scenario. */
export interface GoalVerdict {
  readonly met: boolean;
  /** checks: each part of the goal with whether it held and the numbers. */
  readonly checks: readonly { readonly name: string; readonly held: boolean; readonly detail: string }[];
}

const RESOURCES = [
  ['podHours', 'pod-hours'],
  ['redisGbHours', 'Redis GB-hours'],
  ['dbConnectionHours', 'DB connection-hours'],
] as const;

/**
 * Judges issue 5's goal, strictly and per resource: `ours` has at most 20 % of the SLO-violation
 * minutes of the better seed baseline; no more pod-hours, GB-hours or connection-hours than
 * seed-static; no direction reversal inside the stabilization window; and within 10 % of
 * best-static on violations and on each resource, or better. Zero allows zero.
 */
export function judgeGoal(summaries: readonly PolicySummary[]): GoalVerdict | undefined {
  const get = (p: PolicyName) => summaries.find((s) => s.policy === p)?.totals;
  const ours = get('ours');
  const seedStatic = get('seed-static');
  const seedRules = get('seed-rules');
  const best = get('best-static');
  if (!ours || !seedStatic || !seedRules || !best) return undefined;
  // Two decimals, so a difference the verdict counts is visible in the numbers it prints.
  const fmt = (x: number) => (Math.abs(x) >= 1000 ? x.toFixed(1) : x.toFixed(2));
  const checks: { name: string; held: boolean; detail: string }[] = [];
  const bestSeed = Math.min(seedStatic.sloViolationMinutes, seedRules.sloViolationMinutes);
  checks.push({
    name: 'violations ≤ 20 % of best seed',
    held: ours.sloViolationMinutes <= 0.2 * bestSeed + 1e-9,
    detail: `${fmt(ours.sloViolationMinutes)} vs ${fmt(bestSeed)} min`,
  });
  for (const [key, label] of RESOURCES) {
    checks.push({
      name: `${label} ≤ seed-static`,
      held: ours[key] <= seedStatic[key] + 1e-9,
      detail: `${fmt(ours[key])} vs ${fmt(seedStatic[key])}`,
    });
  }
  checks.push({
    name: 'no reversal inside the window',
    held: ours.reversalsInWindow === 0,
    detail: `${ours.reversalsInWindow} reversals`,
  });
  checks.push({
    name: 'violations within 10 % of best-static',
    held: ours.sloViolationMinutes <= 1.1 * best.sloViolationMinutes + 1e-9,
    detail: `${fmt(ours.sloViolationMinutes)} vs ${fmt(best.sloViolationMinutes)} min`,
  });
  for (const [key, label] of RESOURCES) {
    checks.push({
      name: `${label} within 10 % of best-static`,
      held: ours[key] <= 1.1 * best[key] + 1e-9,
      detail: `${fmt(ours[key])} vs ${fmt(best[key])}`,
    });
  }
  return { met: checks.every((c) => c.held), checks };
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

/** A Markdown table of totals: violation minutes, failures, costs, changes and reversals. */
export function formatTable(rows: readonly TableRow[]): string {
  const header = [
    'scenario',
    'policy',
    'SLO-viol min',
    'failed req',
    'pod-h',
    'Redis GB-h',
    'DB conn-h',
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
  const verdict = judgeGoal(summaries);
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

/** The goal verdict as Markdown list lines: one per check, ✓ or ✗ with its numbers. */
export function formatVerdict(verdict: GoalVerdict): string[] {
  return verdict.checks.map((c) => `- ${c.held ? '✓' : '✗'} ${c.name}: ${c.detail}`);
}

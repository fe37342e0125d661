/**
 * The demo's report: a Markdown page with four SVG charts (load, p95 against the SLO, hit rate
 * against the SLO, the knobs over time with each decision marked), the per-phase table and every
 * decision with its reason, and what each maxmemory change did to the cache. Rendered headless by
 * Vega-Lite, as the simulator's report is.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLiteSvg } from '../../bench/sim/report.ts';
import type { DecisionResult, PhaseResult } from './demo-result.ts';
import type { DemoSample } from './demo-sample.ts';
import type { CacheWindow, MaxmemoryEffect } from './knob-effect.ts';

/** What the report is written from. */
export interface ReportInput {
  readonly samples: readonly DemoSample[];
  readonly phases: readonly PhaseResult[];
  readonly decisions: readonly DecisionResult[];
  /** maxmemoryEffects: each maxmemory raise with the cache before and after it. */
  readonly maxmemoryEffects: readonly MaxmemoryEffect[];
  /** events are the Events about the profile (`kubectl describe pp`). */
  readonly events: readonly {
    readonly atSeconds: number;
    readonly type: string;
    readonly reason: string;
    readonly note: string;
  }[];
  readonly slo: { readonly p95LatencyMs: number; readonly cacheHitRatePercent: number };
  /** notes are lines shown under the title (what ran, what is a kwok object). */
  readonly notes: readonly string[];
}

/** The chart files of a report. */
export const DEMO_CHARTS = ['load.svg', 'p95.svg', 'hit-rate.svg', 'knobs.svg'] as const;

type Row = Record<string, unknown>;

function phaseRules(phases: readonly PhaseResult[]) {
  return {
    data: { values: phases.slice(1).map((p) => ({ atSeconds: p.fromSeconds, phase: p.name })) as Row[] },
    layer: [
      {
        mark: { type: 'rule', strokeDash: [2, 3], color: '#888' },
        encoding: { x: { field: 'atSeconds', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, dy: -4, color: '#555', fontSize: 10 },
        encoding: {
          x: { field: 'atSeconds', type: 'quantitative' },
          y: { value: 8 },
          text: { field: 'phase' },
        },
      },
    ],
  };
}

function lineChart(
  title: string,
  axis: string,
  rows: readonly Row[],
  phases: readonly PhaseResult[],
  slo?: { value: number; label: string },
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 720,
    height: 200,
    layer: [
      {
        data: { values: rows as Row[] },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'atSeconds', type: 'quantitative', title: 'seconds since the load started' },
          y: { field: 'value', type: 'quantitative', title: axis },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      ...(slo
        ? [
            {
              data: { values: [{ value: slo.value, label: slo.label }] as Row[] },
              layer: [
                {
                  mark: { type: 'rule', color: '#d62728', strokeDash: [6, 3] },
                  encoding: { y: { field: 'value', type: 'quantitative' } },
                },
                {
                  mark: { type: 'text', align: 'right', dy: -5, color: '#d62728', fontSize: 10 },
                  encoding: {
                    y: { field: 'value', type: 'quantitative' },
                    x: { value: 720 },
                    text: { field: 'label' },
                  },
                },
              ],
            },
          ]
        : []),
      phaseRules(phases),
    ],
  } as TopLevelSpec;
}

function knobsChart(
  samples: readonly DemoSample[],
  decisions: readonly DecisionResult[],
  phases: readonly PhaseResult[],
): TopLevelSpec {
  const panel = (
    title: string,
    axis: string,
    series: Record<string, (s: DemoSample) => number | null>,
    knobs: readonly string[],
  ) => ({
    title,
    width: 720,
    height: 120,
    layer: [
      {
        data: {
          values: samples.flatMap((s) =>
            Object.entries(series)
              .map(([name, read]) => ({ atSeconds: s.atSeconds, value: read(s), series: name }))
              .filter((r) => r.value !== null),
          ) as Row[],
        },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'atSeconds', type: 'quantitative', title: 'seconds since the load started' },
          y: { field: 'value', type: 'quantitative', title: axis },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        data: {
          values: decisions
            .filter((d) => knobs.includes(d.knob))
            .map((d) => ({
              atSeconds: d.atSeconds,
              label: `${d.knob} ${d.from}→${d.to} (${d.outcome})`,
            })) as Row[],
        },
        layer: [
          {
            mark: { type: 'rule', color: '#9467bd' },
            encoding: { x: { field: 'atSeconds', type: 'quantitative' } },
          },
          {
            mark: { type: 'point', shape: 'triangle-down', filled: true, color: '#9467bd', size: 60 },
            encoding: {
              x: { field: 'atSeconds', type: 'quantitative' },
              y: { value: 0 },
              tooltip: { field: 'label' },
            },
          },
        ],
      },
      phaseRules(phases),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Knobs over time (▼ = a decision of the operator)',
    vconcat: [
      panel(
        'DB pool per replica',
        'connections',
        { 'pool size': (s) => s.poolSize, 'max overflow': (s) => s.maxOverflow },
        ['poolSize', 'maxOverflow'],
      ),
      panel('Redis maxmemory per node', 'MiB', { maxmemory: (s) => s.maxmemoryMiB }, ['redisMaxmemoryMiB']),
      panel(
        'HPA (Pods are kwok objects)',
        'replicas',
        {
          minReplicas: (s) => s.minReplicas,
          maxReplicas: (s) => s.maxReplicas,
          desired: (s) => s.desiredReplicas,
        },
        ['minReplicas', 'maxReplicas'],
      ),
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined ? '–' : v.toFixed(digits);

const cacheLine = (w: CacheWindow | null, none: string) =>
  w === null
    ? none
    : `${w.fromSeconds}–${w.toSeconds} s: Redis hit rate ${fmt(w.redisHitRatePercent, 1)} %, ${fmt(w.evictedKeysPerSecond, 1)} evictions/s, the API's hit rate ${fmt(w.apiHitRatePercent, 1)} %`;

/** effectLines describe each maxmemory raise: the cache under the same load before and after it. */
function effectLines(effects: readonly MaxmemoryEffect[]): string[] {
  if (effects.length === 0) return ['The operator did not raise maxmemory during the run.'];
  return [
    "Each raise with the cache in the same phase, under the same load: before it, over the rate window (30 s) the operator judged; after it, from one rate window after the change to the phase's end. The Redis hit rate is keyspace hits over lookups between 2 s samples on all six nodes; the API's is its own 30 s window, as the SLO is judged.",
    '',
    ...effects.map(
      (e) =>
        `- ${e.atSeconds} s, ${e.phase}: **maxmemory ${e.fromMiB} → ${e.toMiB} MiB**; before ${cacheLine(e.before, 'no sample at the old maxmemory')}; after ${cacheLine(e.after, 'too little of the phase was left')}`,
    ),
  ];
}

/** writeDemoReport writes report.md and its charts into `dir` and returns the path of report.md. */
export async function writeDemoReport(dir: string, input: ReportInput): Promise<string> {
  await mkdir(dir, { recursive: true });
  const { samples, phases, decisions, slo } = input;
  const series = (name: string, read: (s: DemoSample) => number | null) =>
    samples
      .map((s) => ({ atSeconds: s.atSeconds, value: read(s), series: name }))
      .filter((r) => r.value !== null);
  const charts: Record<(typeof DEMO_CHARTS)[number], TopLevelSpec> = {
    'load.svg': lineChart(
      'Load',
      'requests/s',
      series('RPS (Prometheus)', (s) => s.rps),
      phases,
    ),
    'p95.svg': lineChart(
      'p95 latency against the SLO',
      'ms',
      series('p95', (s) => s.p95Ms),
      phases,
      {
        value: slo.p95LatencyMs,
        label: `SLO ${slo.p95LatencyMs} ms`,
      },
    ),
    'hit-rate.svg': lineChart(
      'Cache hit rate against the SLO',
      'percent',
      [
        ...series("the API's (30 s window)", (s) => s.hitRatePercent),
        ...series('Redis (2 s samples)', (s) => s.redisHitRatePercent),
      ],
      phases,
      { value: slo.cacheHitRatePercent, label: `SLO ${slo.cacheHitRatePercent} %` },
    ),
    'knobs.svg': knobsChart(samples, decisions, phases),
  };
  for (const [file, spec] of Object.entries(charts))
    await writeFile(join(dir, file), await renderVegaLiteSvg(spec));
  const lines = [
    '# PerfPilot demo',
    '',
    ...input.notes.map((n) => `- ${n}`),
    '',
    '## Phases',
    '',
    '| phase | seconds | RPS | p95 ms | errors % | hit rate % | pool usage % | pool | maxmemory MiB | HPA min-max → desired |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...phases.map(
      (p) =>
        `| ${p.name} | ${p.fromSeconds}–${p.toSeconds} | ${fmt(p.rps)} | ${fmt(p.p95Ms)} | ${fmt(p.errorRate, 2)} | ${fmt(p.hitRate, 1)} | ${fmt(p.poolUsage)} | ${fmt(p.knobs.poolSize)}+${fmt(p.knobs.maxOverflow)} | ${fmt(p.knobs.redisMaxmemoryMiB)} | ${fmt(p.knobs.minReplicas)}-${fmt(p.knobs.maxReplicas)} → ${fmt(p.knobs.desiredReplicas)} |`,
    ),
    '',
    'RPS, p95 and errors are measured by the load generator per phase; hit rate and pool usage by the API itself (its /metrics); knobs are read at the end of each phase.',
    '',
    '## Decisions',
    '',
    ...(decisions.length === 0
      ? ['The operator made no decision during the run.']
      : decisions.map(
          (d) => `- ${d.atSeconds} s: **${d.knob}** ${d.from} → ${d.to} (${d.outcome}): ${d.reason}`,
        )),
    '',
    '## What each maxmemory change did',
    '',
    ...effectLines(input.maxmemoryEffects),
    '',
    '## Events on the profile',
    '',
    ...(input.events.length === 0
      ? ['None.']
      : input.events.map((e) => `- ${e.atSeconds} s: ${e.type} **${e.reason}**: ${e.note}`)),
    '',
    '## Charts',
    '',
    ...DEMO_CHARTS.map((file) => `![${file.replace('.svg', '')}](${file})`),
    '',
  ];
  const path = join(dir, 'report.md');
  await writeFile(path, lines.join('\n'));
  return path;
}

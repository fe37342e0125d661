/**
 * `perfpilot simulate --report DIR`: SVG charts of a run (load, replicas, p95, hit rate, pool
 * size, maxmemory over time, one line per policy), rendered headless by Vega-Lite, and a
 * Markdown summary with the totals table and the goal verdict.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { SeriesPoint } from '../../operator/src/sim/run-result.ts';
import type { Scenario } from '../../operator/src/sim/scenario.ts';
import type { PolicySummary } from './benchmark.ts';
import { formatVerdict, judgeGoal } from './goal.ts';
import { formatTable, rowsFor } from './table.ts';

/** One chart of the report: which series field, its title and unit. */
interface ChartSpec {
  readonly file: string;
  readonly field: keyof SeriesPoint;
  readonly title: string;
  readonly axis: string;
}

/** The charts every report holds. */
export const REPORT_CHARTS: readonly ChartSpec[] = [
  { file: 'load.svg', field: 'rps', title: 'Load', axis: 'requests/s' },
  { file: 'replicas.svg', field: 'replicas', title: 'Ready replicas', axis: 'replicas' },
  { file: 'p95.svg', field: 'p95Ms', title: 'p95 latency', axis: 'ms (log)' },
  { file: 'hit-rate.svg', field: 'hitRate', title: 'Cache hit rate', axis: 'hit rate' },
  { file: 'pool-size.svg', field: 'poolSize', title: 'DB pool size per replica', axis: 'connections' },
  { file: 'maxmemory.svg', field: 'maxMemoryMiB', title: 'Redis maxmemory', axis: 'MiB' },
];

/** Renders one line chart to SVG without a browser. */
export async function renderLineChart(
  title: string,
  axis: string,
  rows: readonly { minute: number; value: number; policy: string }[],
  logScale = false,
): Promise<string> {
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 720,
    height: 220,
    data: { values: rows as unknown as Record<string, unknown>[] },
    mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after' },
    encoding: {
      x: { field: 'minute', type: 'quantitative', title: 'minute' },
      y: {
        field: 'value',
        type: 'quantitative',
        title: axis,
        ...(logScale ? { scale: { type: 'log' } } : {}),
      },
      color: { field: 'policy', type: 'nominal', title: 'policy' },
      strokeDash: { field: 'policy', type: 'nominal' },
    },
  };
  return await renderVegaLiteSvg(spec);
}

/** Renders a Vega-Lite spec to SVG headless (no browser, no canvas); the demo's report uses it too. */
export async function renderVegaLiteSvg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return await view.toSVG();
}

/** Writes the charts and summary.md for one scenario's policies into `dir`; returns the files written. */
export async function writeReport(
  dir: string,
  scenario: Scenario,
  summaries: readonly PolicySummary[],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const chart of REPORT_CHARTS) {
    const rows = summaries.flatMap((s) =>
      (s.runs[0]?.series ?? []).map((p) => ({
        minute: p.minute,
        value: chart.field === 'p95Ms' ? Math.max(1, p.p95Ms) : (p[chart.field] as number),
        policy: s.policy,
      })),
    );
    const svg = await renderLineChart(
      `${scenario.name}: ${chart.title}`,
      chart.axis,
      rows,
      chart.field === 'p95Ms',
    );
    const file = join(dir, chart.file);
    await writeFile(file, svg);
    written.push(file);
  }
  const verdict = judgeGoal(scenario, summaries);
  const lines = [
    `# Simulation: ${scenario.name}`,
    '',
    scenario.description,
    '',
    `${scenario.durationMinutes} minutes in 15 s ticks; medians over ${summaries[0]?.runs.length ?? 1} seed(s).`,
    '',
    formatTable(rowsFor(scenario, summaries)),
    '',
    ...(verdict
      ? [
          `Goal of the tuning engine: **${verdict.met ? 'met' : 'missed'}**`,
          '',
          ...formatVerdict(verdict),
          '',
        ]
      : []),
    ...summaries
      .filter((s) => s.knobs)
      .map(
        (s) =>
          `- ${s.policy}: pool ${s.knobs?.poolSize} + overflow ${s.knobs?.maxOverflow}, maxmemory ${s.knobs?.redisMaxmemoryMiB} MiB, replicas ${s.knobs?.minReplicas}..${s.knobs?.maxReplicas}, HPA target ${s.knobs?.hpaTargetCpuPercent} %${(s.knobs?.hpaTargetRequestsPerPod ?? 0) > 0 ? ` and ${s.knobs?.hpaTargetRequestsPerPod} rps a pod` : ''}`,
      ),
    '',
    ...REPORT_CHARTS.map((c) => `![${c.title}](${c.file})`),
    '',
  ];
  const summary = join(dir, 'summary.md');
  await writeFile(summary, lines.join('\n'));
  written.push(summary);
  return written;
}

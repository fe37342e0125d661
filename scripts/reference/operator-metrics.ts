/**
 * The metrics reference: every metric in the operator's registry (the one `/metrics` serves),
 * read from the registry `createOperatorMetrics()` fills, with the names of `OperatorMetric`
 * marked as the contract dashboards and alerts rely on.
 */
import { cell, code, generatedNote, table } from './markdown.ts';

/** MetricLike is what the page reads of a prom-client metric. */
export interface MetricLike {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly labelNames?: readonly string[];
  /** upperBounds are a histogram's buckets. */
  readonly upperBounds?: readonly number[];
}

/** PREFIX marks PerfPilot's own metrics; the rest are the Node.js process metrics prom-client adds. */
const PREFIX = 'perfpilot_';

/** typeText names the type; a histogram lists its buckets, since a query's `le` must match one. */
export function typeText(metric: MetricLike): string {
  if (metric.type !== 'histogram' || !metric.upperBounds) return metric.type;
  return `histogram<br>buckets ${metric.upperBounds.filter(Number.isFinite).join(', ')}`;
}

/** metricRow is one metric: name, type, labels, help, and whether dashboards and alerts rely on it. */
export function metricRow(metric: MetricLike, contract: ReadonlySet<string>): string[] {
  return [
    code(metric.name),
    typeText(metric),
    (metric.labelNames ?? []).map((l) => code(l)).join(', '),
    cell(metric.help),
    contract.has(metric.name) ? 'yes' : '',
  ];
}

/** metricsReference renders docs/reference/metrics.md; `contract` is the values of OperatorMetric. */
export function metricsReference(metrics: readonly MetricLike[], contract: readonly string[]): string {
  const stable = new Set(contract);
  const missing = contract.filter((name) => !metrics.some((m) => m.name === name));
  if (missing.length > 0) throw new Error(`OperatorMetric names no registered metric: ${missing.join(', ')}`);
  const byName = (a: MetricLike, b: MetricLike) => a.name.localeCompare(b.name);
  const own = metrics.filter((m) => m.name.startsWith(PREFIX)).sort(byName);
  const process = metrics.filter((m) => !m.name.startsWith(PREFIX));
  const headers = ['Metric', 'Type', 'Labels', 'Help', 'Contract'];
  return `${[
    generatedNote(
      "the operator's metric registry (`createOperatorMetrics()` in operator/src/telemetry/, `OperatorMetric` in operator/src/api/v1alpha1/)",
    ),
    '# Operator metrics reference',
    'Every operator replica serves these on `/metrics`, leader or not. ' +
      'A histogram is exported as `_bucket`, `_sum` and `_count` series; a counter ends in `_total`.',
    'Metrics marked **Contract** are read by the Grafana dashboard and the alerts the toolkit synthesizes: ' +
      'renaming one, or a label of one, is a breaking change.',
    '## PerfPilot metrics',
    table(
      headers,
      own.map((m) => metricRow(m, stable)),
    ),
    '## Process metrics',
    "prom-client's default metrics of the Node.js process, as the operator's image (Linux) exports them.",
    table(
      headers.slice(0, 4),
      process.map((m) => metricRow(m, stable).slice(0, 4)),
    ),
  ].join('\n\n')}\n`;
}

/**
 * What a load test measured and how it is reported: per endpoint and in total, latencies from due
 * time and from send, hits and misses apart, the API's own cache and pool metrics, and the seed's
 * "Load Test Results" text.
 */
import type { LoadPhase } from './load-plan.ts';
import { METRIC } from './metrics.ts';
import { type parsePrometheusText, sumSamples } from './prometheus-text.ts';

/** A send lag (p99) above this is reported: the generator, not the API, is then adding latency. */
export const SEND_LAG_WARN_MS = 5;

/** What one endpoint saw. */
export interface EndpointResult {
  readonly endpoint: string;
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly errorPercent: number;
  readonly statusCounts: Record<string, number>;
  readonly latencyMs: {
    readonly mean: number;
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
  };
  /**
   * latencyFromSendMs: the same latencies counted from when the generator sent each request
   * rather than from when it was due, so without the generator's own lag (a wait for one of the
   * connections still counts). Equal to `latencyMs` in a closed loop.
   */
  readonly latencyFromSendMs: EndpointResult['latencyMs'];
  /**
   * latencyFromSendByCacheMs: `latencyFromSendMs` of the answers the API marked `x-cache: HIT`
   * and of those it marked `MISS`, each null when none was (answers without the header count in
   * neither), with how many answers each counts.
   */
  readonly latencyFromSendByCacheMs: {
    readonly hit: CacheLatency | null;
    readonly miss: CacheLatency | null;
  };
}

/** The latencies of one kind of answer (hits or misses) and their number. */
export type CacheLatency = EndpointResult['latencyMs'] & { readonly answers: number };

/** The API's own view, from its /metrics before and after the run. */
export interface ApiMetricsResult {
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** cacheHitRatePercent during the run, or null when no lookups happened. */
  readonly cacheHitRatePercent: number | null;
  readonly poolCapacity: number;
  readonly poolActivePeak: number;
  readonly poolUsagePeakPercent: number;
  readonly poolUsageMeanPercent: number;
  readonly poolWaitMeanMs: number | null;
}

/** The whole report; `--json` prints it as is. */
export interface LoadTestResult {
  readonly url: string;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly phases: readonly LoadPhase[];
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly errorPercent: number;
  readonly latencyMs: EndpointResult['latencyMs'];
  /** latencyFromSendMs: latency from each request's send, without the generator's lag (see EndpointResult). */
  readonly latencyFromSendMs: EndpointResult['latencyMs'];
  readonly endpoints: readonly EndpointResult[];
  /** api is null when /metrics could not be read. */
  readonly api: ApiMetricsResult | null;
  /**
   * sendLagMs: how late the load generator sent its Poisson arrivals (p99 and max of send time −
   * due time), null when no phase had a rate. Latency counts from the due time, so a generator
   * that falls behind adds its lag to every latency.
   */
  readonly sendLagMs: { readonly p99: number; readonly max: number } | null;
}

/** percentile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The mean and percentiles of some latencies, rounded to 0.01 ms. */
export function latencySummary(values: number[]): EndpointResult['latencyMs'] {
  const sorted = values.sort((a, b) => a - b);
  const mean = sorted.length ? sorted.reduce((s, x) => s + x, 0) / sorted.length : 0;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    mean: r(mean),
    p50: r(percentile(sorted, 50)),
    p95: r(percentile(sorted, 95)),
    p99: r(percentile(sorted, 99)),
  };
}

/** The latencies of one kind of answer and their number; null when there was none. */
export function cacheLatency(values: number[]): CacheLatency | null {
  return values.length > 0 ? { ...latencySummary(values), answers: values.length } : null;
}

/** How late an open loop sent its requests (p99 and max), or null for a closed loop. */
export function sendLagSummary(lags: number[]): LoadTestResult['sendLagMs'] {
  if (lags.length === 0) return null;
  const sorted = lags.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p99: r(percentile(sorted, 99)), max: r(sorted.at(-1) as number) };
}

/** The API's cache hit rate, pool usage and pool wait over the run, from its /metrics before and after. */
export function apiMetrics(
  before: ReturnType<typeof parsePrometheusText>,
  after: ReturnType<typeof parsePrometheusText>,
  poolSamples: readonly { active: number; capacity: number }[],
): ApiMetricsResult {
  const delta = (name: string) => sumSamples(after, name) - sumSamples(before, name);
  const hits = delta(METRIC.cacheHits);
  const misses = delta(METRIC.cacheMisses);
  const capacity = sumSamples(after, METRIC.poolSize) + sumSamples(after, METRIC.poolMaxOverflow);
  const usage = poolSamples.map((s) => (s.capacity > 0 ? (100 * s.active) / s.capacity : 0));
  const waits = delta(`${METRIC.poolWait}_count`);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    cacheHits: hits,
    cacheMisses: misses,
    cacheHitRatePercent: hits + misses > 0 ? r((100 * hits) / (hits + misses)) : null,
    poolCapacity: capacity,
    poolActivePeak: Math.max(0, ...poolSamples.map((s) => s.active)),
    poolUsagePeakPercent: r(Math.max(0, ...usage)),
    poolUsageMeanPercent: r(usage.length ? usage.reduce((s, x) => s + x, 0) / usage.length : 0),
    poolWaitMeanMs: waits > 0 ? Math.round((1e5 * delta(`${METRIC.poolWait}_sum`)) / waits) / 100 : null,
  };
}

/** formatReport renders the seed's closing report, then latency per endpoint and the API's metrics. */
export function formatReport(r: LoadTestResult): string {
  const n = (x: number, digits = 1) =>
    x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const lines = [
    `Load Test Results (${r.url}, ${n(r.durationSeconds)} s, ${r.connections} connections, ${r.requests.toLocaleString('en-US')} requests):`,
    ...r.endpoints.map((e) => `  ${e.endpoint}: ${n(e.rps)} RPS, ${n(e.errorPercent)}% errors`),
    `  Total: ${n(r.rps)} RPS, ${n(r.errorPercent)}% errors`,
    `  Average Response Time: ${Math.round(r.latencyMs.mean)}ms`,
    `  95th Percentile: ${Math.round(r.latencyMs.p95)}ms`,
    '',
    'Latency per endpoint (ms):   p50      p95      p99   statuses',
    ...r.endpoints.map(
      (e) =>
        `  ${e.endpoint.padEnd(28)}${n(e.latencyMs.p50).padStart(6)} ${n(e.latencyMs.p95).padStart(8)} ${n(e.latencyMs.p99).padStart(8)}   ${Object.entries(
          e.statusCounts,
        )
          .map(([s, c]) => `${s}×${c}`)
          .join(' ')}`,
    ),
    '',
  ];
  if (r.sendLagMs && r.sendLagMs.p99 > SEND_LAG_WARN_MS) {
    lines.push(
      `Warning: the load generator sent its requests up to ${n(r.sendLagMs.p99)} ms late (p99; max ${n(r.sendLagMs.max)} ms):`,
      '  it could not keep up with the rate, and every latency above includes that lag.',
      `  Counted from each request's send instead: p50 ${n(r.latencyFromSendMs.p50)} ms, p95 ${n(r.latencyFromSendMs.p95)} ms, p99 ${n(r.latencyFromSendMs.p99)} ms.`,
      '',
    );
  }
  if (r.api) {
    lines.push(
      'API metrics (from /metrics, during the run):',
      `  Cache Hit Rate: ${r.api.cacheHitRatePercent === null ? 'n/a (no lookups)' : `${n(r.api.cacheHitRatePercent)}%`} (${r.api.cacheHits} hits, ${r.api.cacheMisses} misses)`,
      `  Connection Pool Usage: peak ${r.api.poolActivePeak} of ${r.api.poolCapacity} (${n(r.api.poolUsagePeakPercent)}%), mean ${n(r.api.poolUsageMeanPercent)}%`,
      `  Pool Wait: ${r.api.poolWaitMeanMs === null ? 'n/a' : `${n(r.api.poolWaitMeanMs, 2)} ms mean`}`,
    );
  } else {
    lines.push('API metrics: /metrics not readable (MONITORING_ENABLED=false?)');
  }
  return lines.join('\n');
}

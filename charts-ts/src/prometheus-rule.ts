import type { IPrometheusRule, IRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Construct } from 'constructs';
import { Knob, OperatorMetric } from '../../operator/src/api/v1alpha1/constants.ts';
import { kubeObject } from './kube-object.ts';
import { appLabels } from './labels.ts';
import type { Values } from './values.ts';

/** Props of StackAlerts. */
export interface StackAlertsProps {
  /** namespace of the rule and of the stack it watches. */
  readonly namespace: string;
  /** apiName is the API's Deployment and Service name (its scrape job). */
  readonly apiName: string;
  /** apiContainer is the API container's name, for CPU and memory alerts. */
  readonly apiContainer: string;
  /** thresholds are the seed's alert thresholds. */
  readonly thresholds: Values['alerts'];
  /** slo holds the latency, error and availability objectives for the burn-rate alerts. */
  readonly slo: Values['slo'];
  /** redisMasters is how many masters a healthy cluster has. */
  readonly redisMasters: number;
  /** poolCapacity is DB_POOL_SIZE + DB_MAX_OVERFLOW, used when the operator's gauges are absent. */
  readonly poolCapacity: number;
  /**
   * labels Prometheus selects rules by.
   * @default {}
   */
  readonly labels?: Record<string, string>;
  /**
   * runbookBaseUrl is prefixed to each alert's runbook anchor.
   * @default 'https://github.com/perfpilot/perfpilot/blob/main/docs/operations/runbooks.md'
   */
  readonly runbookBaseUrl?: string;
}

type Rule = IRule;

/** The runbooks page of the repository, where each alert has a section named after it. */
export const DEFAULT_RUNBOOK_BASE_URL =
  'https://github.com/perfpilot/perfpilot/blob/main/docs/operations/runbooks.md';

/** Burn-rate windows (Google SRE workbook): long and short window per factor. */
const BURN_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/**
 * StackAlerts is one PrometheusRule: the seed's thresholds (hit rate, response time, error rate,
 * pool usage, CPU, memory), Redis health (down, missing master, memory near maxmemory, evictions,
 * rejected connections) and multi-window burn-rate alerts for the latency and error SLOs. Every
 * alert has a severity and a runbook.
 */
export class StackAlerts extends Construct {
  /** alertNames lists every alert, for tests and docs. */
  readonly alertNames: readonly string[];

  constructor(scope: Construct, id: string, props: StackAlertsProps) {
    super(scope, id);
    if (props.slo.errorRatePercent <= 0 || props.slo.errorRatePercent >= 100) {
      throw new Error(
        `StackAlerts: slo.errorRatePercent must be above 0 and below 100, got ${props.slo.errorRatePercent}`,
      );
    }
    if (props.poolCapacity < 1) {
      throw new Error(`StackAlerts: poolCapacity must be at least 1, got ${props.poolCapacity}`);
    }
    const ns = props.namespace;
    const api = `namespace="${ns}",job="${props.apiName}"`;
    const t = props.thresholds;
    const forDuration = `${t.forMinutes}m`;
    const runbook = (alert: string) =>
      `${props.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL}#${alert.toLowerCase()}`;
    const alert = (
      name: string,
      expr: string,
      severity: 'critical' | 'warning' | 'info',
      summary: string,
      description: string,
      duration = forDuration,
    ): Rule => ({
      alert: name,
      expr,
      for: duration,
      labels: { severity },
      annotations: { summary, description, runbook_url: runbook(name) },
    });
    const rate = (metric: string, window: string, extra = '') =>
      `sum(rate(${metric}{${api}${extra}}[${window}]))`;
    const latencyBucket = (props.slo.p95LatencyMs / 1000).toString();
    const poolCurrent = (knob: string) =>
      `sum(${OperatorMetric.knobValue}{namespace="${ns}",knob="${knob}",kind="current"})`;

    const thresholds: Rule[] = [
      alert(
        'RiskApiCacheHitRateLow',
        `100 * ${rate('cache_hits_total', '5m')} / (${rate('cache_hits_total', '5m')} + ${rate('cache_misses_total', '5m')}) < ${t.cacheHitRatePercentBelow}`,
        'warning',
        'Cache hit rate below {{ $value | humanize }}%',
        `The risk API's cache hit rate has been below ${t.cacheHitRatePercentBelow}% for ${forDuration}; more requests reach the database.`,
      ),
      alert(
        'RedisCommandLatencyHigh',
        `1000 * sum(rate(redis_commands_duration_seconds_total{namespace="${ns}"}[5m])) / sum(rate(redis_commands_total{namespace="${ns}"}[5m])) > ${t.cacheResponseMsAbove}`,
        'warning',
        'Redis commands take {{ $value | humanize }} ms on average',
        `Average Redis command time has been above ${t.cacheResponseMsAbove} ms for ${forDuration}.`,
      ),
      alert(
        'RiskApiDatabasePoolUsageHigh',
        `100 * max(database_connections_active{${api}}) / ((${poolCurrent(Knob.PoolSize)} + ${poolCurrent(Knob.MaxOverflow)}) or vector(${props.poolCapacity})) > ${t.poolUsagePercentAbove}`,
        'warning',
        'DB connection pool {{ $value | humanize }}% used',
        `A risk API pod has used more than ${t.poolUsagePercentAbove}% of its DB pool (size + overflow) for ${forDuration}; requests will wait for connections.`,
      ),
      alert(
        'RiskApiDatabaseQueriesSlow',
        `1000 * ${rate('database_query_duration_seconds_sum', '5m')} / ${rate('database_query_duration_seconds_count', '5m')} > ${t.queryTimeMsAbove}`,
        'warning',
        'DB queries take {{ $value | humanize }} ms on average',
        `Average query time has been above ${t.queryTimeMsAbove} ms for ${forDuration}.`,
      ),
      alert(
        'RiskApiResponseTimeHigh',
        `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${api}}[5m]))) > ${t.responseTimeMsAbove}`,
        'critical',
        'p95 response time {{ $value | humanize }} ms',
        `The risk API's 95th percentile response time has been above ${t.responseTimeMsAbove} ms for ${forDuration}.`,
      ),
      alert(
        'RiskApiErrorRateHigh',
        `100 * ${rate('http_request_duration_seconds_count', '5m', ',status_code=~"5.."')} / ${rate('http_request_duration_seconds_count', '5m')} > ${t.errorRatePercentAbove}`,
        'critical',
        'Error rate {{ $value | humanize }}%',
        `More than ${t.errorRatePercentAbove}% of the risk API's responses have been 5xx for ${forDuration}.`,
      ),
      alert(
        'RiskApiCpuHigh',
        `100 * sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="${ns}",container="${props.apiContainer}"}[5m])) / sum by (pod) (kube_pod_container_resource_limits{namespace="${ns}",container="${props.apiContainer}",resource="cpu"}) > ${t.cpuPercentAbove}`,
        'warning',
        'Pod {{ $labels.pod }} uses {{ $value | humanize }}% of its CPU limit',
        `A risk API pod has used more than ${t.cpuPercentAbove}% of its CPU limit for ${forDuration}; expect throttling.`,
      ),
      alert(
        'RiskApiMemoryHigh',
        `100 * sum by (pod) (container_memory_working_set_bytes{namespace="${ns}",container="${props.apiContainer}"}) / sum by (pod) (kube_pod_container_resource_limits{namespace="${ns}",container="${props.apiContainer}",resource="memory"}) > ${t.memoryPercentAbove}`,
        'warning',
        'Pod {{ $labels.pod }} uses {{ $value | humanize }}% of its memory limit',
        `A risk API pod has used more than ${t.memoryPercentAbove}% of its memory limit for ${forDuration}; it may be OOM-killed.`,
      ),
    ];

    const redis: Rule[] = [
      alert(
        'RedisDown',
        `redis_up{namespace="${ns}"} == 0`,
        'critical',
        'Redis node {{ $labels.pod }} is down',
        'The exporter cannot reach its Redis node.',
        '1m',
      ),
      alert(
        'RedisClusterMasterMissing',
        `count(redis_instance_info{namespace="${ns}",role="master"}) < ${props.redisMasters} or absent(redis_instance_info{namespace="${ns}",role="master"})`,
        'critical',
        `Redis Cluster has fewer than ${props.redisMasters} masters`,
        `Fewer than ${props.redisMasters} masters: some hash slots may have no owner.`,
        '2m',
      ),
      alert(
        'RedisMemoryNearMaxmemory',
        `100 * redis_memory_used_bytes{namespace="${ns}"} / (redis_memory_max_bytes{namespace="${ns}"} > 0) > ${t.redisMemoryPercentAbove}`,
        'warning',
        'Redis node {{ $labels.pod }} at {{ $value | humanize }}% of maxmemory',
        `Used memory above ${t.redisMemoryPercentAbove}% of maxmemory: evictions follow.`,
      ),
      alert(
        'RedisEvictingKeys',
        `sum by (pod) (rate(redis_evicted_keys_total{namespace="${ns}"}[5m])) > 0`,
        'warning',
        'Redis node {{ $labels.pod }} evicts {{ $value | humanize }} keys/s',
        'Keys are evicted because maxmemory is reached; the hit rate may drop.',
        '15m',
      ),
      alert(
        'RedisRejectingConnections',
        `sum by (pod) (increase(redis_rejected_connections_total{namespace="${ns}"}[5m])) > 0`,
        'warning',
        'Redis node {{ $labels.pod }} rejected connections',
        'maxclients was reached: clients are refused.',
        '0m',
      ),
    ];

    const errorBudget = props.slo.errorRatePercent / 100;
    // A p95 objective allows 5% of requests above it.
    const latencyBudget = 0.05;
    const recordings: Rule[] = BURN_WINDOWS.flatMap((w) => [
      {
        record: `perfpilot:api_error_ratio:rate${w}`,
        expr: `${rate('http_request_duration_seconds_count', w, ',status_code=~"5.."')} / ${rate('http_request_duration_seconds_count', w)}`,
      },
      {
        record: `perfpilot:api_slow_ratio:rate${w}`,
        expr: `1 - ${rate('http_request_duration_seconds_bucket', w, `,le="${latencyBucket}"`)} / ${rate('http_request_duration_seconds_count', w)}`,
      },
    ]);
    const burn = (kind: 'error' | 'slow', budget: number, pairs: [string, string, number][]) =>
      pairs
        .map(
          ([long, short, factor]) =>
            `(perfpilot:api_${kind}_ratio:rate${long} > ${round(factor * budget)} and perfpilot:api_${kind}_ratio:rate${short} > ${round(factor * budget)})`,
        )
        .join(' or ');
    const fast: [string, string, number][] = [
      ['1h', '5m', 14.4],
      ['6h', '30m', 6],
    ];
    const slow: [string, string, number][] = [
      ['1d', '2h', 3],
      ['3d', '6h', 1],
    ];
    const burnRate: Rule[] = [
      alert(
        'RiskApiErrorBudgetBurnFast',
        burn('error', errorBudget, fast),
        'critical',
        'Error budget burning fast',
        `At this rate the ${props.slo.errorRatePercent}% error budget of a 30-day window is gone in under two days.`,
        '2m',
      ),
      alert(
        'RiskApiErrorBudgetBurnSlow',
        burn('error', errorBudget, slow),
        'warning',
        'Error budget burning',
        `The error rate has exceeded the ${props.slo.errorRatePercent}% objective for hours.`,
        '15m',
      ),
      alert(
        'RiskApiLatencyBudgetBurnFast',
        burn('slow', latencyBudget, fast),
        'critical',
        'Latency budget burning fast',
        `Far more than 5% of requests take longer than ${props.slo.p95LatencyMs} ms: the p95 objective is being missed.`,
        '2m',
      ),
      alert(
        'RiskApiLatencyBudgetBurnSlow',
        burn('slow', latencyBudget, slow),
        'warning',
        'Latency budget burning',
        `More than 5% of requests have taken longer than ${props.slo.p95LatencyMs} ms for hours.`,
        '15m',
      ),
    ];

    const groups = [
      { name: 'perfpilot.thresholds', rules: thresholds },
      { name: 'perfpilot.redis', rules: redis },
      { name: 'perfpilot.slo-recordings', interval: '30s', rules: recordings },
      { name: 'perfpilot.slo-burn-rate', rules: burnRate },
    ];
    this.alertNames = groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    kubeObject<IPrometheusRule>(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'perfpilot-alerts',
        namespace: ns,
        labels: { ...appLabels('perfpilot-alerts', 'monitoring'), ...props.labels },
      },
      spec: { groups },
    });
  }
}

function round(n: number): number {
  return Number(n.toPrecision(6));
}

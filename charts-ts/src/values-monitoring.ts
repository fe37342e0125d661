/** What is watched: the SLOs, the alert thresholds, and the Prometheus Operator objects that carry them. */
import Type from 'typebox';
import { DEFAULT_SLO } from '../../operator/src/api/v1alpha1/defaults.ts';
import { bool, int, name, strict } from './values-fields.ts';

/** slo: the service level objectives. */
export const SloValues = Type.Object(
  {
    p95LatencyMs: int('p95 response time objective, ms (seed: < 200).', DEFAULT_SLO.p95LatencyMs, 1, 60000),
    errorRatePercent: Type.Number({
      description: 'Error rate objective, percent (seed: < 0.1).',
      default: DEFAULT_SLO.errorRatePercent,
      minimum: 0.001,
      maximum: 50,
    }),
    cacheHitRatePercent: Type.Number({
      description: 'Cache hit rate objective, percent (seed: > 85).',
      default: DEFAULT_SLO.cacheHitRatePercent,
      minimum: 0,
      maximum: 100,
    }),
    poolUsagePercent: Type.Number({
      description: 'DB pool usage objective, percent (seed: < 80).',
      default: DEFAULT_SLO.poolUsagePercent,
      minimum: 1,
      maximum: 100,
    }),
    availabilityPercent: Type.Number({
      description: 'Availability objective, percent (seed: > 99.9); sets the burn-rate alerts’ error budget.',
      default: 99.9,
      minimum: 90,
      maximum: 99.999,
    }),
  },
  { ...strict, description: 'Service level objectives (the seed’s performance targets).' },
);

/** alerts: the alert thresholds. */
export const AlertsValues = Type.Object(
  {
    cacheHitRatePercentBelow: int(
      'Alert when the cache hit rate is below this, percent (seed: 80).',
      80,
      0,
      100,
    ),
    cacheResponseMsAbove: int('Alert when Redis command latency is above this, ms (seed: 10).', 10, 1, 10000),
    poolUsagePercentAbove: int('Alert when DB pool usage is above this, percent (seed: 85).', 85, 1, 100),
    queryTimeMsAbove: int(
      'Alert when the average DB query time is above this, ms (seed: 100).',
      100,
      1,
      60000,
    ),
    responseTimeMsAbove: int(
      'Alert when API response time (p95) is above this, ms (seed: 1000).',
      1000,
      1,
      60000,
    ),
    errorRatePercentAbove: int('Alert when the error rate is above this, percent (seed: 5).', 5, 1, 100),
    cpuPercentAbove: int(
      'Alert when CPU use is above this share of the limit, percent (seed: 80).',
      80,
      1,
      100,
    ),
    memoryPercentAbove: int(
      'Alert when memory use is above this share of the limit, percent (seed: 85).',
      85,
      1,
      100,
    ),
    redisMemoryPercentAbove: int(
      'Alert when Redis used memory is above this share of maxmemory, percent.',
      90,
      1,
      100,
    ),
    forMinutes: int('How long a threshold must hold before its alert fires, minutes.', 5, 1, 120),
  },
  { ...strict, description: 'Alert thresholds (the seed’s performance_alerts).' },
);

/** monitoring: ServiceMonitors, the PrometheusRule and the Grafana dashboard. */
export const MonitoringValues = Type.Object(
  {
    enabled: bool('Create ServiceMonitors, the PrometheusRule and the Grafana dashboard.', true),
    prometheusUrl: Type.String({
      description: 'Prometheus HTTP API the operator reads.',
      default: 'http://prometheus-operated.monitoring.svc:9090',
      pattern: '^https?://[^\\s]+$',
    }),
    prometheusNamespace: name('Namespace of Prometheus, allowed to scrape the metrics ports.', 'monitoring'),
    scrapeIntervalSeconds: int('Scrape interval (seed: real-time metrics every 10 s).', 10, 5, 300),
    ruleLabels: Type.Record(Type.String(), Type.String(), {
      description: 'Labels Prometheus selects ServiceMonitors and PrometheusRules by.',
      default: { release: 'prometheus' },
    }),
  },
  { ...strict, description: 'Prometheus Operator objects and the Grafana dashboard.' },
);

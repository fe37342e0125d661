/**
 * The defaults of a PerformanceProfile's spec, each written once: the CRD's schema declares them
 * (the API server fills them in) and the charts and the engine's default spec read them from here.
 */

/** Seed defaults of the SLOs (the guide's performance targets). */
export const DEFAULT_SLO = {
  p95LatencyMs: 200,
  errorRatePercent: 0.1,
  cacheHitRatePercent: 85,
  poolUsagePercent: 80,
  requestsPerReplica: 1000,
} as const;

/**
 * The lowest pool-usage objective a profile may declare, in percent: the CRD's bound and the
 * engine's, so a profile the API server stores is one the engine takes.
 */
export const MIN_POOL_USAGE_PERCENT = 1;

/**
 * Default knob bounds. Pool 5..50 is the range of the seed's own `DynamicConnectionPool`
 * (`max(base // 2, 5)` .. `max_pool_size = 50`); overflow 0..30 tops out at the seed's
 * `DB_MAX_OVERFLOW=30`; maxmemory 128..768 MiB brackets the seed's `maxmemory 512mb` under a 1 GiB
 * container (768, the maxmemory ceiling of 1024: see redis-maxmemory-ceiling.ts); replicas 2..10 are the seed HPA's bounds.
 */
export const DEFAULT_KNOB_BOUNDS = {
  poolSize: { min: 5, max: 50 },
  maxOverflow: { min: 0, max: 30 },
  redisMaxmemory: { minMiB: 128, maxMiB: 768, containerMemoryLimitMiB: 1024 },
  replicas: { floor: 2, ceiling: 10 },
} as const;

/**
 * Default bounds of the HPA's CPU utilization target, in percent, once `spec.knobs.hpaTarget` is
 * set: 50..85, between Crane's HPA recommender (30..75) and StormForge Optimize Live (50..90).
 * Below 50 a pod idles half its CPU; above 85 a pod has no room for the load's growth while the
 * HPA's new pods start.
 */
export const DEFAULT_HPA_TARGET_CPU_PERCENT = { minPercent: 50, maxPercent: 85 } as const;

/**
 * The highest request-rate target per pod a profile may bound the HPA's request-rate metric with,
 * in requests per second: a million, far past what one pod serves.
 */
export const REQUEST_RATE_TARGET_MAX = 1_000_000;

/**
 * Default database budget: PostgreSQL's default `max_connections` of 100, of which 10 are kept
 * free: PostgreSQL itself reserves 3 for superusers (`superuser_reserved_connections`), and
 * migrations, backups, an exporter and an administrator's psql need the rest.
 */
export const DEFAULT_DATABASE = { maxConnections: 100, reservedConnections: 10 } as const;

/**
 * Default control-loop timing and safety settings, the ones the tuning engine is tested and
 * benchmarked with (docs/simulator.md#the-spec-the-engine-runs-with): a pool change rolls every pod, so one change per
 * knob per 10 minutes (cooldown), each verified for as long; a reversal waits 30 minutes, six
 * times the HPA's own 5-minute scale-down stabilization, so the operator never fights the HPA;
 * one step moves a knob by at most half its value (the seed's rule doubles and halves the pool in
 * one step); changes under 10 % are not worth a rollout.
 */
export const DEFAULT_POLICY = {
  evaluationIntervalSeconds: 60,
  cooldownSeconds: 600,
  maxStepPercent: 50,
  stabilizationWindowSeconds: 1800,
  verificationWindowSeconds: 600,
  deadbandPercent: 10,
} as const;

/**
 * Default burst response: the request rate at twice what the ready pods serve at the HPA's target
 * is a burst (Knative's panic mode enters at the same 2× of capacity); below that the HPA's own
 * growth, up to 1.43× a sync from a saturated pod, keeps up within a start-up.
 */
export const DEFAULT_BURST = { ratio: 2 } as const;

/** The forecast floor's modes: off, computed and reported only, or raising minReplicas. */
export const FORECAST_MODES = ['Off', 'Recommend', 'Auto'] as const;

/**
 * Default forecast mode: computed and shown in status and `perfpilot recommend`, not applied, so a
 * user sees its error over a season before letting it raise the floor.
 */
export const DEFAULT_FORECAST_MODE = 'Recommend' as const;

/** Default staleness limit of metric samples, in seconds: two evaluations at the default interval. */
export const DEFAULT_STALENESS_SECONDS = 120;

/** Default timeout of one request to Prometheus, in seconds: well inside one evaluation interval. */
export const DEFAULT_PROMETHEUS_TIMEOUT_SECONDS = 5;

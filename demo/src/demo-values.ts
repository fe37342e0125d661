/**
 * The values the demo synthesizes its stack from: the toolkit's defaults with what a run on one
 * small machine needs (an External request-rate metric and no CPU metric, since kwok's Pods use no
 * CPU), an `Auto` profile on a demo's time scale, and initial knobs small enough that the load
 * phases make them wrong: a 5-connection pool without overflow and 16 MiB of Redis per node.
 */
import { resolveValues } from '../../charts-ts/src/load-values.ts';
import type { Values } from '../../charts-ts/src/values.ts';
import { DEFAULT_PROMQL, type Signal } from '../../operator/src/api/v1alpha1/default-promql.ts';

/** The namespace the demo's stack lives in (the toolkit's default). */
export const DEMO_NAMESPACE = 'perfpilot';

/**
 * Symbols the demo seeds (`risk-api seed --symbols`): each one's price history is about 46 KiB in
 * Redis, so the 1,200 of them (about 55 MiB) outgrow the initial maxmemory of the three masters
 * (3 × 16 MiB, less Redis's own use) and fit in 1.5 × that, the most one change may add.
 */
export const DEMO_SEED_SYMBOLS = 1200;

/** Initial knobs of the demo: small on purpose, so the phases cross the SLOs. */
export const DEMO_INITIAL_KNOBS = {
  poolSize: 5,
  maxOverflow: 0,
  redisMaxmemoryMiB: 16,
  minReplicas: 2,
  maxReplicas: 4,
} as const;

/**
 * Policy timing of the demo's profile, in seconds: the CRD's shortest evaluation interval, and
 * cooldowns that let a knob move more than once in a few minutes.
 */
export const DEMO_POLICY = {
  evaluationIntervalSeconds: 10,
  verificationWindowSeconds: 20,
  cooldownSeconds: 30,
  stabilizationWindowSeconds: 60,
} as const;

/** The rate() window of the demo's queries, in seconds: the profile's defaults (2 m, 5 m) are too slow for minutes of load. */
export const DEMO_RATE_WINDOW_SECONDS = 30;
/** The same window in PromQL. */
export const DEMO_RATE_WINDOW = `${DEMO_RATE_WINDOW_SECONDS}s`;

/** demoValues are the values of a local run whose Prometheus listens at `prometheusUrl`. */
export function demoValues(prometheusUrl: string): Values {
  return resolveValues(
    {
      namespace: DEMO_NAMESPACE,
      api: { pool: { size: DEMO_INITIAL_KNOBS.poolSize, maxOverflow: DEMO_INITIAL_KNOBS.maxOverflow } },
      redis: { maxmemoryMiB: DEMO_INITIAL_KNOBS.redisMaxmemoryMiB },
      hpa: {
        minReplicas: DEMO_INITIAL_KNOBS.minReplicas,
        maxReplicas: DEMO_INITIAL_KNOBS.maxReplicas,
        requestRateMetric: 'External',
        cpuMetric: false,
        requestsPerSecondPerPod: 100,
        scaleDownStabilizationSeconds: 30,
      },
      operator: {
        profile: {
          mode: 'Auto',
          redisMaxmemoryMinMiB: DEMO_INITIAL_KNOBS.redisMaxmemoryMiB,
          evaluationIntervalSeconds: DEMO_POLICY.evaluationIntervalSeconds,
          verificationWindowSeconds: DEMO_POLICY.verificationWindowSeconds,
          cooldownSeconds: DEMO_POLICY.cooldownSeconds,
        },
      },
      monitoring: { prometheusUrl },
    },
    'the demo values',
  );
}

/**
 * demoQueries are the profile's default PromQL with the demo's rate window, and CPU from the risk
 * API process itself: kwok's Pods use no CPU and no cAdvisor runs, so the default query (container
 * CPU over the Pods' requests) has no series; the process's own `process_cpu_seconds_total` over
 * the API container's CPU request (`cpuRequestMillis`) is the same ratio for the one process that
 * serves.
 */
export function demoQueries(cpuRequestMillis: number): Record<Signal, string> {
  const queries = Object.fromEntries(
    Object.entries(DEFAULT_PROMQL).map(([signal, query]) => [
      signal,
      query.replaceAll(/\[(2m|5m)\]/g, `[${DEMO_RATE_WINDOW}]`),
    ]),
  ) as Record<Signal, string>;
  queries.cpuUtilizationPercent = `100 * sum(rate(process_cpu_seconds_total{namespace="$namespace",job="$deployment"}[${DEMO_RATE_WINDOW}])) / ${cpuRequestMillis / 1000}`;
  return queries;
}

/** The service level objectives a profile steers towards: the seed guide's targets by default. */
import Type, { type Static } from 'typebox';
import { DEFAULT_SLO, MIN_POOL_USAGE_PERCENT } from './defaults.ts';

/** Slo holds the service level objectives the operator steers towards. */
export const Slo = Type.Object(
  {
    p95LatencyMs: Type.Integer({
      minimum: 1,
      maximum: 60000,
      default: DEFAULT_SLO.p95LatencyMs,
      description: 'p95LatencyMs is the 95th percentile response time objective in milliseconds.',
    }),
    errorRatePercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: DEFAULT_SLO.errorRatePercent,
      description: 'errorRatePercent is the highest acceptable share of 5xx responses, in percent.',
    }),
    cacheHitRatePercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: DEFAULT_SLO.cacheHitRatePercent,
      description: 'cacheHitRatePercent is the lowest acceptable cache hit rate, in percent.',
    }),
    poolUsagePercent: Type.Number({
      minimum: MIN_POOL_USAGE_PERCENT,
      maximum: 100,
      default: DEFAULT_SLO.poolUsagePercent,
      description:
        'poolUsagePercent is the highest acceptable DB connection pool usage (active / (pool size + overflow)), in percent.',
    }),
    requestsPerReplica: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      default: DEFAULT_SLO.requestsPerReplica,
      description:
        'requestsPerReplica is the request rate one API replica is expected to sustain, per second.',
    }),
  },
  {
    default: {},
    description: 'slo holds the service level objectives. Defaults are the seed guide’s targets.',
  },
);
export type Slo = Static<typeof Slo>;

/** What a simulated run returns: a point per minute, every knob change, and its totals and their price. */
import type { KnobName } from '../tuning/types.ts';
import type { ElasticityMetrics } from './elasticity.ts';
import type { Scenario } from './scenario.ts';

/** One minute of a run, for charts. */
export interface SeriesPoint {
  /** minute: time since the start. */
  readonly minute: number;
  /** rps: requests per second arriving. */
  readonly rps: number;
  /** replicas: ready pods. */
  readonly replicas: number;
  /** p95Ms: 95th-percentile latency in that tick. */
  readonly p95Ms: number;
  /** errorRate: share of requests that failed. */
  readonly errorRate: number;
  /** hitRate: Redis hit rate. */
  readonly hitRate: number;
  /** poolSize / maxOverflow: the pool knobs in force. */
  readonly poolSize: number;
  readonly maxOverflow: number;
  /** maxMemoryMiB: Redis maxmemory in force. */
  readonly maxMemoryMiB: number;
  /** dbConnections: connections open to the database. */
  readonly dbConnections: number;
}

/** One knob change made during a run. */
export interface KnobChange {
  /** atSeconds: when it was applied. */
  readonly atSeconds: number;
  /** knob / from / to: what changed. */
  readonly knob: KnobName;
  readonly from: number;
  readonly to: number;
  /** reason: the policy's and the gate's explanation. */
  readonly reason: string;
}

/**
 * What a run cost and how well it served, with BUNGEE's elasticity metrics of its pods (in
 * percent: under- and over-provisioning accuracy and timeshare, elasticity.ts).
 */
export interface RunTotals extends ElasticityMetrics {
  /**
   * sloViolationMinutes: minutes that miss any declared objective: p95 above its target, error
   * rate above its target, or the cache hit rate below its objective where the profile declares one.
   */
  readonly sloViolationMinutes: number;
  /** hitRateViolationMinutes: the minutes among them whose hit rate missed its objective. */
  readonly hitRateViolationMinutes: number;
  /** p95OrErrorViolationMinutes: the minutes among them whose p95 or error rate missed its objective. */
  readonly p95OrErrorViolationMinutes: number;
  /** failedRequests: requests that timed out or were refused. */
  readonly failedRequests: number;
  /** requests: all requests. */
  readonly requests: number;
  /** podHours: API pods that existed (starting, ready or surging), times hours. */
  readonly podHours: number;
  /** redisGbHours: Redis `maxmemory` in GiB times hours. */
  readonly redisGbHours: number;
  /** dbConnectionHours: open DB connections times hours. */
  readonly dbConnectionHours: number;
  /** pricedCost: dollars of pod-hours (per vCPU), Redis GB-hours and connection-hours at the scenario's prices. */
  readonly pricedCost: number;
  /** knobChanges: applied changes of any knob. */
  readonly knobChanges: number;
  /** reversals: changes opposite in direction to the same knob's previous change. */
  readonly reversals: number;
  /** reversalsInWindow: reversals less than the stabilization window after the previous change. */
  readonly reversalsInWindow: number;
  /** peakDbConnections: most connections open at once. */
  readonly peakDbConnections: number;
}

/** A finished run. */
export interface RunResult {
  /** scenario / policy / seed: what ran. */
  readonly scenario: string;
  readonly policy: string;
  readonly seed: number;
  /** totals: the run's accounting. */
  readonly totals: RunTotals;
  /** series: one point per minute, for charts. */
  readonly series: readonly SeriesPoint[];
  /** changes: every knob change, in order. */
  readonly changes: readonly KnobChange[];
}

/** The dollars a run's resources cost at the scenario's prices (a pod is priced per vCPU of its request). */
export function pricedCost(
  scenario: Scenario,
  usage: Pick<RunTotals, 'podHours' | 'redisGbHours' | 'dbConnectionHours'>,
): number {
  const { prices } = scenario;
  return (
    usage.podHours * scenario.app.cpuCores * prices.podHourPerVcpu +
    usage.redisGbHours * prices.redisGbHour +
    usage.dbConnectionHours * prices.dbConnectionHour
  );
}

/**
 * The SPEC Research Group's elasticity metrics as BUNGEE defines them (Herbst et al., "BUNGEE: An
 * Elasticity Benchmark for Self-Adaptive IaaS Cloud Environments", SEAMS 2015; "Ready for Rain?",
 * ACM TOMPECS 2018): with the demanded resources d(t) and the supplied s(t) over a run of length T,
 *
 * - under-provisioning accuracy θU = 100 / T · ∫ max(d − s, 0) / d dt, over- θO likewise with s − d;
 * - under-provisioning timeshare τU = 100 / T · ∫ [d > s] dt, over- τO with s > d.
 *
 * Here the resource is API pods. Supplied: the pods serving in the tick. Demanded: the fewest
 * pods whose p95 meets its objective at the tick's load and hit rate, with every connection the
 * pool may hold (so the demand is the pods', not the pool's): the load's CPU over
 * {@link utilizationAtSlo}, the highest CPU a replica runs at within the p95 objective.
 */
import { serveReplica } from './latency-model.ts';
import type { Scenario } from './scenario.ts';

/** The elasticity metrics of a run, in percent. */
export interface ElasticityMetrics {
  /** underAccuracy: θU, the mean shortfall of pods as a share of the demand. */
  readonly underAccuracy: number;
  /** overAccuracy: θO, the mean surplus of pods as a share of the demand. */
  readonly overAccuracy: number;
  /** underTimeshare: τU, the share of time with fewer pods than the demand. */
  readonly underTimeshare: number;
  /** overTimeshare: τO, the share of time with more pods than the demand. */
  readonly overTimeshare: number;
}

/** Running sums of the elasticity metrics over a run's ticks. */
export interface ElasticitySums {
  ticks: number;
  under: number;
  over: number;
  underTicks: number;
  overTicks: number;
}

/** Sums with nothing in them yet. */
export function emptyElasticity(): ElasticitySums {
  return { ticks: 0, under: 0, over: 0, underTicks: 0, overTicks: 0 };
}

/**
 * The highest CPU utilization at which one replica's p95 meets `p95Ms`, at a hit rate, with a pool
 * that never binds: a bisection on the request rate through the latency model.
 */
export function utilizationAtSlo(scenario: Scenario, hitRate: number, p95Ms: number): number {
  const { app, db } = scenario;
  const cpuMs = hitRate * app.cpuMsPerHit + (1 - hitRate) * app.cpuMsPerMiss;
  const fullRps = (app.cpuCores * 1000) / cpuMs;
  const meets = (utilization: number) => {
    const outcome = serveReplica({
      requestsPerSecond: utilization * fullRps,
      hitRate,
      cpuMsPerHit: app.cpuMsPerHit,
      cpuMsPerMiss: app.cpuMsPerMiss,
      cpuCores: app.cpuCores,
      workers: app.workers,
      hitLatencyMs: app.hitLatencyMs,
      missLatencyMs: app.missLatencyMs,
      queryMs: db.queryMs,
      poolConnections: 1000,
      grantedConnections: 1000,
    });
    return outcome.p95Ms <= p95Ms && outcome.failedShare === 0;
  };
  let low = 0.01;
  let high = 1;
  if (!meets(low)) return low;
  for (let i = 0; i < 30; i++) {
    const mid = (low + high) / 2;
    if (meets(mid)) low = mid;
    else high = mid;
  }
  return low;
}

/** The pods a tick's load demands: its CPU over what a replica may run at within the p95 objective. */
export function demandedPods(scenario: Scenario, rps: number, hitRate: number, utilization: number): number {
  const { app } = scenario;
  const cpuMs = hitRate * app.cpuMsPerHit + (1 - hitRate) * app.cpuMsPerMiss;
  return Math.max(1, Math.ceil((rps * cpuMs) / (app.cpuCores * 1000 * utilization)));
}

/** Adds one tick of demanded and supplied pods. */
export function accountElasticity(sums: ElasticitySums, demanded: number, supplied: number): void {
  sums.ticks++;
  if (demanded > supplied) {
    sums.under += (demanded - supplied) / demanded;
    sums.underTicks++;
  } else if (supplied > demanded) {
    sums.over += (supplied - demanded) / demanded;
    sums.overTicks++;
  }
}

/** The metrics from the sums, in percent. */
export function elasticityOf(sums: ElasticitySums): ElasticityMetrics {
  const share = (x: number) => (sums.ticks > 0 ? (100 * x) / sums.ticks : 0);
  return {
    underAccuracy: share(sums.under),
    overAccuracy: share(sums.over),
    underTimeshare: share(sums.underTicks),
    overTimeshare: share(sums.overTicks),
  };
}

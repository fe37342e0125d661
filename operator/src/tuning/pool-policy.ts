import { serversForWaitTarget } from './queueing.ts';
import { estimateReplicaCapacity } from './replica-policy.ts';
import { connectionBudget, poolSizeFloor } from './tuning-spec.ts';
import { type HpaTargets, type MetricSnapshot, perPodRpsAtTargets, type TuningSpec } from './types.ts';

/** The pool wait budget: this share of the p95 latency target may be spent waiting for a connection. */
export const POOL_WAIT_SHARE_OF_P95 = 0.05;
/** At most this share of queries may wait longer than the wait budget. */
export const POOL_WAIT_TAIL = 0.05;
/** Snapshots averaged for queries per request and hold time, so one noisy minute moves nothing. */
const SMOOTHING_SNAPSHOTS = 10;

/** The pool size a replica needs, with the measurements behind it. */
export interface PoolNeed {
  /** poolSize: persistent connections per replica. */
  readonly poolSize: number;
  /** designBusyConnections: connections busy at the design load (Little's law). */
  readonly designBusyConnections: number;
  /** reason: the numbers behind it. */
  readonly reason: string;
}

/** A pool this much above its need (and at least 2 connections) is shrunk; less is not worth a rollout. */
export const POOL_OVERSIZE_TOLERANCE = 0.25;

/**
 * Sizes the pool from Little's law and Erlang-C. Hold time per query is measured as
 * active connections / query rate (Little's law); the design query rate per replica is what a
 * replica carries at the HPA's CPU target (the HPA keeps it near there), from the estimated
 * replica capacity, times the measured queries per request. The pool is the fewest connections
 * for which at most {@link POOL_WAIT_TAIL} of queries wait longer than
 * {@link POOL_WAIT_SHARE_OF_P95} of the p95 target and pool usage stays within the SLO, plus one
 * spare; never below the deadlock floor. A pool change rolls every pod, so a current pool that
 * meets the Erlang-C minimum and is at most {@link POOL_OVERSIZE_TOLERANCE} too big is kept.
 * Returns undefined when the database saw no queries (nothing to measure).
 */
export function recommendPoolSize(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: readonly MetricSnapshot[],
  currentPoolSize: number,
  targets: HpaTargets,
): PoolNeed | undefined {
  const recent = [...history.slice(-SMOOTHING_SNAPSHOTS + 1), snapshot];
  let queries = 0;
  let requests = 0;
  let active = 0;
  for (const s of recent) {
    queries += s.dbQueriesPerSecond;
    requests += s.requestsPerSecond;
    active += s.dbActiveConnections;
  }
  if (queries <= 0 || requests <= 0) return undefined;
  const holdSeconds = active / queries;
  const queriesPerRequest = queries / requests;
  const capacity = estimateReplicaCapacity(spec, [...history, snapshot]);
  const designRps = perPodRpsAtTargets(targets, capacity.requestsPerSecondAtFullCpu);
  const designQps = designRps * queriesPerRequest;
  const waitTargetSeconds = (spec.slo.p95LatencyMs * POOL_WAIT_SHARE_OF_P95) / 1000;
  const servers =
    holdSeconds > 0
      ? serversForWaitTarget(designQps, holdSeconds, waitTargetSeconds, POOL_WAIT_TAIL, spec.slo.poolUsage)
      : 1;
  const needed = Math.min(spec.knobs.poolSize.max, Math.max(poolSizeFloor(spec), servers + 1));
  const tolerated = Math.max(needed + 2, Math.floor(needed * (1 + POOL_OVERSIZE_TOLERANCE)));
  // The spare connection is the target, the Erlang-C minimum the trigger: growing by the spare
  // alone is not worth rolling every pod.
  const sufficient = Math.min(needed, Math.max(poolSizeFloor(spec), servers));
  const keep = currentPoolSize >= sufficient && currentPoolSize <= tolerated;
  const reason =
    `${designQps.toFixed(1)} queries/s per replica at design load ${Math.round(designRps)} rps × ` +
    `${queriesPerRequest.toFixed(3)} queries/request, hold ${(holdSeconds * 1000).toFixed(1)} ms ` +
    `(Little: ${(designQps * holdSeconds).toFixed(1)} busy); Erlang-C needs ${servers} for ` +
    `P(wait > ${Math.round(waitTargetSeconds * 1000)} ms) ≤ ${POOL_WAIT_TAIL * 100} %, +1 spare = ${needed}` +
    (keep ? `; current ${currentPoolSize} is within [${sufficient}, ${tolerated}], keep it` : '');
  return {
    poolSize: keep ? currentPoolSize : needed,
    designBusyConnections: designQps * holdSeconds,
    reason,
  };
}

/** How the DB connection budget is split between pool overflow and replica ceiling. */
export interface ConnectionAllocation {
  /** poolSize: possibly lowered so that the floor of replicas fits. */
  readonly poolSize: number;
  /** maxOverflow: on-demand connections per replica. */
  readonly maxOverflow: number;
  /** maxReplicas: the replica ceiling the budget allows. */
  readonly maxReplicas: number;
  /** reason: which constraint bound. */
  readonly reason: string;
}

/** What {@link allocateConnectionBudget} splits the budget from. */
export interface AllocationInput {
  /** spec: the DB budget, the overflow range and the replica ceiling. */
  readonly spec: TuningSpec;
  /** poolSize: the pool the pool policy wants. */
  readonly poolSize: number;
  /** loadReplicas: what the observed peak needs at the HPA target. */
  readonly loadReplicas: number;
  /** minReplicas: the replica floor, which must fit whatever else gives way. */
  readonly minReplicas: number;
  /** designBusyConnections: connections busy per replica at the design load (Little's law). */
  readonly designBusyConnections: number;
  /** forecastReplicas: the ceiling the forecast peak with headroom asks for. @default loadReplicas */
  readonly forecastReplicas?: number;
  /**
   * current: the pool and replica ceiling in force. While the budget binds (the current ceiling
   * is no more than `forecastReplicas`), a pool does not grow into the connections that ceiling
   * holds (see {@link allocateConnectionBudget}). Absent: nothing is kept.
   */
  readonly current?: { readonly poolSize: number; readonly maxReplicas: number };
  /** maxUtilization: the highest pool utilization at the design load a cut may leave. @default 0.95 */
  readonly maxUtilization?: number;
}

/**
 * Splits `maxConnections − reserved` between replicas. Overflow gets what is left per replica
 * if the fleet grew to the spec's replica ceiling (so it does not move, and roll pods, whenever
 * the forecast moves); `maxReplicas` is then the most replicas the budget allows, up to the
 * ceiling. When that is fewer than `loadReplicas` (what the observed peak needs at the HPA
 * target), the DB budget binds: CPU overload hurts more than pool waits, so the pool is cut to
 * `budget / loadReplicas` as long as it keeps pool utilization at the design load below
 * `maxUtilization` (a stable queue), trading pool wait for replicas.
 *
 * While the budget binds (the current ceiling is no more than the forecast asks for), a pool
 * grows only as far as the current ceiling still fits, or to a stable queue if that is more: the
 * replicas that ceiling was given are not taken back by a pool growth the queue does not need. Otherwise a need that
 * moves by a hair around a whole replica (a capacity estimate 6 % lower turns 2.84 replicas
 * into 3.03, so 3 into 4) moves the pool up and down with it, and every pool change rolls the
 * pods.
 */
export function allocateConnectionBudget(input: AllocationInput): ConnectionAllocation {
  const { spec, poolSize, loadReplicas, minReplicas, designBusyConnections, current } = input;
  const maxUtilization = input.maxUtilization ?? 0.95;
  const budget = connectionBudget(spec);
  const { maxOverflow: overflowRange, replicas } = spec.knobs;
  const perReplicaAtCeiling = Math.floor(budget / replicas.ceiling);
  const floor = poolSizeFloor(spec);
  let pool = Math.max(floor, Math.min(poolSize, Math.floor(budget / minReplicas) - overflowRange.min));
  let note = pool < poolSize ? `; pool cut from ${poolSize} so ${minReplicas} replicas fit` : '';
  const stable = Math.ceil(designBusyConnections / maxUtilization);
  if (Math.floor(budget / (pool + overflowRange.min)) < loadReplicas) {
    const fitting = Math.floor(budget / loadReplicas) - overflowRange.min;
    const relaxed = Math.max(floor, Math.min(pool, Math.max(fitting, stable)));
    if (relaxed < pool) {
      note += `; DB budget binds: pool ${pool} → ${relaxed} so more of the ${loadReplicas} replicas the load needs fit`;
      pool = relaxed;
    }
  }
  const forecastReplicas = input.forecastReplicas ?? loadReplicas;
  if (current && pool > current.poolSize && current.maxReplicas <= forecastReplicas) {
    const keepsCeiling = Math.floor(budget / current.maxReplicas) - overflowRange.min;
    if (keepsCeiling < pool) {
      // Never below a stable queue: a pool that cannot carry the design load grows whatever
      // the ceiling holds.
      const grown = Math.min(pool, Math.max(current.poolSize, keepsCeiling, stable));
      note += `; DB budget binds: pool ${pool} → ${grown} so the ceiling of ${current.maxReplicas} still fits`;
      pool = grown;
    }
  }
  const maxOverflow = Math.min(overflowRange.max, Math.max(overflowRange.min, perReplicaAtCeiling - pool));
  const maxReplicas = Math.max(
    minReplicas,
    Math.min(replicas.ceiling, Math.floor(budget / (pool + maxOverflow))),
  );
  const reason =
    `budget ${budget} connections, ${Math.max(0, perReplicaAtCeiling)} per replica at the ceiling of ${replicas.ceiling}; ` +
    `pool ${pool} + overflow ${maxOverflow} fits ${maxReplicas} replicas` +
    (maxReplicas < loadReplicas ? `; DB budget binds: the load needs ${loadReplicas}` : '') +
    note;
  return { poolSize: pool, maxOverflow, maxReplicas, reason };
}

/**
 * What a run records of each tick: SLO violations and the resources that existed, the metrics
 * window the engine's next snapshot averages, a chart point per minute, every knob change with its
 * reversals, and the totals at the end.
 */
import type { MetricSnapshot, SloTargets } from '../tuning/types.ts';
import { accountElasticity, demandedPods, elasticityOf, utilizationAtSlo } from './elasticity.ts';
import { type KnobChange, pricedCost, type RunTotals } from './run-result.ts';
import { MIB, type RunState, TICK_SECONDS, type TickOutcome } from './run-state.ts';
import type { Scenario } from './scenario.ts';

/** Which of the declared objectives one tick misses. */
export interface SloMisses {
  readonly p95: boolean;
  readonly errorRate: boolean;
  /** hitRate: only where the profile declares a hit-rate objective (above 0). */
  readonly hitRate: boolean;
}

/**
 * The declared objectives a tick misses: p95, error rate, and the cache hit rate where the
 * profile declares one. A tick is in violation when it misses any of them, so the engine, which
 * aims for all of them, and a baseline, which does not, are judged on the same objectives.
 */
export function sloMisses(
  slo: SloTargets,
  tick: { readonly p95Ms: number; readonly errorRate: number; readonly hitRate: number },
): SloMisses {
  return {
    p95: tick.p95Ms > slo.p95LatencyMs,
    errorRate: tick.errorRate > slo.errorRate,
    hitRate: slo.cacheHitRate > 0 && tick.hitRate < slo.cacheHitRate,
  };
}

/** Adds a tick to the run's accounting: violations, failures and the resources that existed. */
export function accountTick(state: RunState, tick: TickOutcome): void {
  const a = state.accounts;
  const errorRate = tick.replica.failedShare;
  const misses = sloMisses(state.slo, { p95Ms: tick.replica.p95Ms, errorRate, hitRate: tick.cache.hitRate });
  if (misses.p95 || misses.errorRate || misses.hitRate) a.violationTicks++;
  if (misses.hitRate) a.hitRateViolationTicks++;
  if (misses.p95 || misses.errorRate) a.p95OrErrorViolationTicks++;
  a.failedRequests += tick.rps * errorRate * TICK_SECONDS;
  a.requests += tick.rps * TICK_SECONDS;
  a.podSeconds += (state.pods.length + (state.rollout?.surge ?? 0)) * TICK_SECONDS;
  a.redisGbSeconds += (state.knobs.redisMaxmemoryMiB / 1024) * TICK_SECONDS;
  a.connectionSeconds += tick.dbConnections * TICK_SECONDS;
  a.peakDbConnections = Math.max(a.peakDbConnections, tick.dbConnections);
}

/** Adds a tick's demanded and supplied pods to the elasticity metrics (elasticity.ts). */
export function accountElasticityTick(scenario: Scenario, state: RunState, tick: TickOutcome): void {
  // The utilization within the p95 objective depends on the hit rate (a miss costs more CPU and a
  // query); one bisection per point of hit rate keeps it cheap.
  const point = Math.round(tick.cache.hitRate * 100);
  let utilization = state.utilizationAtSlo.get(point);
  if (utilization === undefined) {
    utilization = utilizationAtSlo(scenario, point / 100, state.slo.p95LatencyMs);
    state.utilizationAtSlo.set(point, utilization);
  }
  accountElasticity(
    state.elasticity,
    demandedPods(scenario, tick.rps, tick.cache.hitRate, utilization),
    tick.serving,
  );
}

/** Adds a tick to the metrics window the engine's next snapshot averages. */
export function observeTick(state: RunState, tick: TickOutcome): void {
  const w = state.window;
  const errorRate = tick.replica.failedShare;
  const hitRate = tick.cache.hitRate;
  w.ticks++;
  w.rps += tick.rps;
  w.failed += tick.rps * errorRate;
  w.p95 += tick.replica.p95Ms;
  w.serving += tick.serving;
  w.cpu += Math.min(1, tick.replica.cpuUtilization);
  w.dbQps += tick.rps * (1 - errorRate) * (1 - hitRate);
  w.busy += tick.busy * tick.serving;
  w.poolWait += tick.replica.meanPoolWaitMs;
  w.hits += tick.rps * hitRate;
  w.misses += tick.rps * (1 - hitRate);
  w.evicted += tick.cache.evictedKeysPerSecond;
  w.expired += tick.cache.expiredKeysPerSecond;
  w.usedBytes = tick.cache.usedMemoryBytes;
}

/** Keeps one point per minute for charts. */
export function chartTick(state: RunState, tick: TickOutcome, tickIndex: number, minute: number): void {
  if (tickIndex % (60 / TICK_SECONDS) !== 0) return;
  state.series.push({
    minute,
    rps: tick.rps,
    replicas: tick.readyPods,
    p95Ms: tick.replica.p95Ms,
    errorRate: tick.replica.failedShare,
    hitRate: tick.cache.hitRate,
    poolSize: state.knobs.poolSize,
    maxOverflow: state.knobs.maxOverflow,
    maxMemoryMiB: state.knobs.redisMaxmemoryMiB,
    dbConnections: tick.dbConnections,
  });
}

/** Records a knob change and counts it as a reversal when it undoes the knob's previous direction. */
export function recordChange(state: RunState, reversalWindow: number, change: KnobChange): void {
  state.changes.push(change);
  const direction = Math.sign(change.to - change.from);
  const previous = state.lastChange.get(change.knob);
  if (previous && previous.direction === -direction) {
    state.accounts.reversals++;
    if (change.atSeconds - previous.atSeconds < reversalWindow) state.accounts.reversalsInWindow++;
  }
  state.lastChange.set(change.knob, { atSeconds: change.atSeconds, direction });
}

/** The metric snapshot the engine sees at the end of a window: its averages, or nothing inside a metric gap. */
export function snapshotOfWindow(
  scenario: Scenario,
  state: RunState,
  minute: number,
  end: number,
): MetricSnapshot | undefined {
  if (scenario.metricGaps.some((g) => minute >= g.fromMinute && minute < g.toMinute)) return undefined;
  const w = state.window;
  return {
    takenAtSeconds: end,
    windowSeconds: w.ticks * TICK_SECONDS,
    requestsPerSecond: w.rps / w.ticks,
    p95LatencyMs: w.p95 / w.ticks,
    errorRate: w.rps > 0 ? w.failed / w.rps : 0,
    readyReplicas: w.serving / w.ticks,
    cpuUtilization: w.cpu / w.ticks,
    dbQueriesPerSecond: w.dbQps / w.ticks,
    dbActiveConnections: w.busy / w.ticks,
    poolWaitMs: w.poolWait / w.ticks,
    redis: {
      usedMemoryBytes: w.usedBytes,
      maxMemoryBytes: state.knobs.redisMaxmemoryMiB * MIB,
      hitsPerSecond: w.hits / w.ticks,
      missesPerSecond: w.misses / w.ticks,
      evictedKeysPerSecond: w.evicted / w.ticks,
      expiredKeysPerSecond: w.expired / w.ticks,
    },
  };
}

/** The run's totals from its accounting. */
export function totalsOf(scenario: Scenario, state: RunState): RunTotals {
  const a = state.accounts;
  const hours = 1 / 3600;
  const usage = {
    podHours: a.podSeconds * hours,
    redisGbHours: a.redisGbSeconds * hours,
    dbConnectionHours: a.connectionSeconds * hours,
  };
  return {
    sloViolationMinutes: (a.violationTicks * TICK_SECONDS) / 60,
    hitRateViolationMinutes: (a.hitRateViolationTicks * TICK_SECONDS) / 60,
    p95OrErrorViolationMinutes: (a.p95OrErrorViolationTicks * TICK_SECONDS) / 60,
    failedRequests: a.failedRequests,
    requests: a.requests,
    ...usage,
    pricedCost: pricedCost(scenario, usage),
    knobChanges: state.changes.length,
    reversals: a.reversals,
    reversalsInWindow: a.reversalsInWindow,
    peakDbConnections: a.peakDbConnections,
    ...elasticityOf(state.elasticity),
  };
}

/**
 * The cluster in one tick: arrivals with their noise, the replicas serving them (cache, CPU, pool
 * and database), a rolling update after a pool change, and the HPA's sync with the ReplicaSet.
 */
import { hpaTargetOf } from '../tuning/types.ts';
import type { CacheDynamics } from './cache-dynamics.ts';
import { hpaSync } from './hpa.ts';
import { REQUEST_TIMEOUT_MS, type ReplicaOutcome, serveReplica } from './latency-model.ts';
import { MIB, type RunState, TICK_SECONDS, type TickOutcome } from './run-state.ts';
import { loadAt, type Scenario } from './scenario.ts';
import type { SeededRandom } from './seeded-random.ts';

/** Correlation time of the load noise: the noise is AR(1) with this time constant. */
export const NOISE_CORRELATION_SECONDS = 600;
/** RollingUpdate defaults of a Deployment: 25 % surge (rounded up), 25 % unavailable (rounded down). */
export const ROLLING_SURGE = 0.25;

/** Arrivals at a tick: the scenario's curve times a slowly varying log-normal AR(1) noise. */
export function arrivals(scenario: Scenario, state: RunState, random: SeededRandom, minute: number): number {
  return noisy(scenario, state, random, loadAt(scenario.load.points, minute));
}

/**
 * Arrivals at a tick of the history before minute 0: the history's day curve (or the judged curve)
 * repeated, times the same noise, drawn from `random` (the caller seeds one per day).
 */
export function historyArrivals(
  scenario: Scenario,
  state: RunState,
  random: SeededRandom,
  minute: number,
): number {
  const { history } = scenario;
  const points = history.points ?? scenario.load.points;
  const period = history.points ? 1440 : scenario.durationMinutes;
  const phase = ((minute % period) + period) % period;
  return noisy(scenario, state, random, loadAt(points, phase));
}

/** The curve's rate times the slowly varying log-normal AR(1) noise. */
function noisy(scenario: Scenario, state: RunState, random: SeededRandom, rate: number): number {
  const sigma = scenario.load.noise;
  if (sigma > 0) {
    const persistence = Math.exp(-TICK_SECONDS / NOISE_CORRELATION_SECONDS);
    state.noise = persistence * state.noise + Math.sqrt(1 - persistence ** 2) * sigma * random.normal();
  }
  return rate * Math.exp(state.noise - (sigma * sigma) / 2);
}

/** What nobody serves: every request fails when no pod is ready. */
export const NOTHING_SERVED: ReplicaOutcome = {
  cpuUtilization: 1,
  failedShare: 1,
  p95Ms: REQUEST_TIMEOUT_MS,
  busyConnections: 0,
  meanPoolWaitMs: 0,
};

/**
 * One tick of service: the cache's hit rate, each serving replica's CPU and pool queue under its
 * share of the DB budget, and the connections the pools hold open (SQLAlchemy's QueuePool keeps
 * up to pool_size open once opened; overflow closes when returned).
 */
export function serveTick(
  scenario: Scenario,
  cache: CacheDynamics,
  state: RunState,
  now: number,
  rps: number,
): TickOutcome {
  const { app, db } = scenario;
  const { knobs } = state;
  const readyPods = state.pods.filter((readyAt) => readyAt <= now).length;
  const serving = Math.max(0, readyPods - (state.rollout?.unavailable ?? 0));
  const cacheState = cache.tick(now / 60, TICK_SECONDS, rps, knobs.redisMaxmemoryMiB * MIB);
  const poolConnections = knobs.poolSize + knobs.maxOverflow;
  const connectionsAvailable = db.maxConnections - db.reservedConnections;
  const granted = serving > 0 ? Math.min(poolConnections, Math.floor(connectionsAvailable / serving)) : 0;
  const replica =
    serving > 0
      ? serveReplica({
          requestsPerSecond: rps / serving,
          hitRate: cacheState.hitRate,
          cpuMsPerHit: app.cpuMsPerHit,
          cpuMsPerMiss: app.cpuMsPerMiss,
          cpuCores: app.cpuCores,
          workers: app.workers,
          hitLatencyMs: app.hitLatencyMs,
          missLatencyMs: app.missLatencyMs,
          queryMs: db.queryMs,
          poolConnections,
          grantedConnections: granted,
          ...(db.cores > 0
            ? {
                database: {
                  cores: db.cores,
                  cpuMsPerQuery: db.cpuMsPerQuery,
                  queriesPerSecond: rps * (1 - cacheState.hitRate),
                  connections: serving * granted,
                },
              }
            : {}),
        })
      : { ...NOTHING_SERVED, failedShare: rps > 0 ? 1 : 0 };
  const busy = replica.busyConnections;
  const burst = Math.ceil(busy + 2 * Math.sqrt(busy));
  state.poolHighWater = Math.max(state.poolHighWater, Math.min(knobs.poolSize, granted, burst));
  const perPod =
    Math.min(knobs.poolSize, state.poolHighWater) + Math.max(0, Math.min(busy, granted) - knobs.poolSize);
  return {
    rps,
    readyPods,
    serving,
    cache: cacheState,
    replica,
    granted,
    busy,
    dbConnections: serving * perPod,
  };
}

/**
 * A rolling update of every pod (a pool change edits the ConfigMap whose hash is in the pod
 * template): ⌈replicas / surge⌉ batches of start-up time, the pools' open connections start over.
 */
export function startRollout(scenario: Scenario, state: RunState, now: number): void {
  const replicas = state.pods.length;
  const surge = Math.max(1, Math.ceil(ROLLING_SURGE * replicas));
  const unavailable = Math.floor(ROLLING_SURGE * replicas);
  const batches = Math.ceil(replicas / surge);
  state.rollout = { untilSeconds: now + batches * scenario.app.podStartupSeconds, surge, unavailable };
  state.poolHighWater = 0;
}

/**
 * The HPA's sync on the utilization metrics-server last reported and the requests per pod the
 * custom metrics API last served (one tick old), then the
 * ReplicaSet: new pods become ready after start-up; a scale-down deletes unready pods first,
 * then the youngest.
 */
export function syncHpa(scenario: Scenario, state: RunState, tick: TickOutcome, now: number): void {
  const { app } = scenario;
  const sync = hpaSync(
    {
      nowSeconds: now,
      currentReplicas: state.specReplicas,
      readyPods: tick.readyPods,
      unreadyPods: state.pods.length - tick.readyPods,
      readyUtilization: state.lastReadyUtilization,
      targetUtilization: hpaTargetOf(state.knobs),
      readyRequestsPerPod: state.lastReadyRequestsPerPod,
      targetRequestsPerPod: state.knobs.hpaTargetRequestsPerPod,
      minReplicas: state.knobs.minReplicas,
      maxReplicas: state.knobs.maxReplicas,
    },
    state.hpaMemory,
    scenario.hpaBehavior,
  );
  state.hpaMemory = sync.memory;
  state.specReplicas = sync.replicas;
  state.lastReadyUtilization = Math.min(1, tick.replica.cpuUtilization);
  state.lastReadyRequestsPerPod = tick.readyPods > 0 ? tick.rps / tick.readyPods : 0;
  if (state.specReplicas > state.pods.length) {
    const readyAt = now + TICK_SECONDS + app.podStartupSeconds;
    state.pods = [
      ...state.pods,
      ...Array.from({ length: state.specReplicas - state.pods.length }, () => readyAt),
    ];
  } else if (state.specReplicas < state.pods.length) {
    state.pods = [...state.pods].sort((a, b) => a - b).slice(0, state.specReplicas);
  }
}

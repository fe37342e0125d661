/**
 * Everything a run carries from one tick to the next (knobs, pods, HPA memory, the rollout, the
 * metrics window and the accounts), and the steady state it starts from.
 */
import { EMPTY_HISTORY } from '../tuning/evaluate.ts';
import {
  hpaTargetOf,
  type KnobName,
  type KnobValues,
  type SloTargets,
  type TuningHistory,
} from '../tuning/types.ts';
import type { CacheDynamics } from './cache-dynamics.ts';
import type { CacheState } from './cache-model.ts';
import { type KnobController, startingKnobs, tuningSpecFor } from './controllers.ts';
import { type ElasticitySums, emptyElasticity } from './elasticity.ts';
import { EMPTY_HPA_MEMORY, HPA_SYNC_SECONDS, type HpaMemory } from './hpa.ts';
import type { ReplicaOutcome } from './latency-model.ts';
import type { KnobChange, SeriesPoint } from './run-result.ts';
import { loadAt, type Scenario } from './scenario.ts';

/** Seconds per simulation tick: one HPA sync. */
export const TICK_SECONDS = HPA_SYNC_SECONDS;
/** Bytes per MiB. */
export const MIB = 1024 * 1024;

/** A rolling update in progress: until when, and the pods it adds and takes out of service meanwhile. */
export interface Rollout {
  untilSeconds: number;
  surge: number;
  unavailable: number;
}

/** Sums over the engine's evaluation window, averaged into a MetricSnapshot. */
export interface WindowSums {
  ticks: number;
  rps: number;
  failed: number;
  p95: number;
  serving: number;
  cpu: number;
  dbQps: number;
  busy: number;
  poolWait: number;
  hits: number;
  misses: number;
  evicted: number;
  expired: number;
  usedBytes: number;
}

/** A metrics window with nothing in it yet. */
export function emptyWindow(): WindowSums {
  return {
    ticks: 0,
    rps: 0,
    failed: 0,
    p95: 0,
    serving: 0,
    cpu: 0,
    dbQps: 0,
    busy: 0,
    poolWait: 0,
    hits: 0,
    misses: 0,
    evicted: 0,
    expired: 0,
    usedBytes: 0,
  };
}

/** Running sums of a run's accounting. */
export interface Accounts {
  violationTicks: number;
  hitRateViolationTicks: number;
  p95OrErrorViolationTicks: number;
  failedRequests: number;
  requests: number;
  podSeconds: number;
  redisGbSeconds: number;
  connectionSeconds: number;
  peakDbConnections: number;
  reversals: number;
  reversalsInWindow: number;
}

/** Everything a run carries from one tick to the next. */
export interface RunState {
  /**
   * slo: the objectives every policy is judged on, the scenario's profile's (tuningSpecFor), so a
   * baseline answers the same declared SLOs as the engine that aims for them.
   */
  readonly slo: SloTargets;
  knobs: KnobValues;
  history: TuningHistory;
  /** pods: ready-at times of the Deployment's pods. */
  pods: number[];
  specReplicas: number;
  hpaMemory: HpaMemory;
  lastReadyUtilization: number;
  /** lastReadyRequestsPerPod: requests per second per ready pod, as the HPA's Pods metric last read it. */
  lastReadyRequestsPerPod: number;
  rollout: Rollout | undefined;
  poolHighWater: number;
  noise: number;
  window: WindowSums;
  readonly series: SeriesPoint[];
  readonly changes: KnobChange[];
  readonly lastChange: Map<KnobName, { atSeconds: number; direction: number }>;
  readonly accounts: Accounts;
  /** elasticity: demanded against supplied pods, tick by tick (elasticity.ts). */
  readonly elasticity: ElasticitySums;
  /** utilizationAtSlo: a replica's highest CPU within the p95 objective, by hit rate in points. */
  readonly utilizationAtSlo: Map<number, number>;
}

/** What one tick served, as the accounting and the metrics see it. */
export interface TickOutcome {
  readonly rps: number;
  readonly readyPods: number;
  readonly serving: number;
  readonly cache: CacheState;
  readonly replica: ReplicaOutcome;
  readonly granted: number;
  readonly busy: number;
  readonly dbConnections: number;
}

/**
 * The state at minute 0: steady, with the replicas the HPA would have settled on for the first load
 * and the utilization metrics-server last reported for them (the HPA's first sync reads it).
 */
export function initialState(scenario: Scenario, cache: CacheDynamics, controller: KnobController): RunState {
  const { app } = scenario;
  const knobs = startingKnobs(controller, scenario);
  const startRps = loadAt(scenario.load.points, 0);
  const startHitRate = cache.steadyState(0, startRps, knobs.redisMaxmemoryMiB * MIB).hitRate;
  const startCpuMs = startHitRate * app.cpuMsPerHit + (1 - startHitRate) * app.cpuMsPerMiss;
  const startReplicas = Math.min(
    knobs.maxReplicas,
    Math.max(
      knobs.minReplicas,
      Math.ceil((startRps * startCpuMs) / (app.cpuCores * 1000 * hpaTargetOf(knobs))),
      knobs.hpaTargetRequestsPerPod > 0 ? Math.ceil(startRps / knobs.hpaTargetRequestsPerPod) : 0,
    ),
  );
  return {
    slo: tuningSpecFor(scenario).slo,
    knobs,
    history: EMPTY_HISTORY,
    // Ready since before the run (and its history days, which start at negative times).
    pods: Array.from({ length: startReplicas }, () => Number.NEGATIVE_INFINITY),
    specReplicas: startReplicas,
    hpaMemory: EMPTY_HPA_MEMORY,
    lastReadyUtilization: Math.min(1, (startRps * startCpuMs) / (startReplicas * app.cpuCores * 1000)),
    lastReadyRequestsPerPod: startRps / startReplicas,
    rollout: undefined,
    poolHighWater: 0,
    noise: 0,
    window: emptyWindow(),
    series: [],
    changes: [],
    lastChange: new Map(),
    elasticity: emptyElasticity(),
    utilizationAtSlo: new Map(),
    accounts: {
      violationTicks: 0,
      hitRateViolationTicks: 0,
      p95OrErrorViolationTicks: 0,
      failedRequests: 0,
      requests: 0,
      podSeconds: 0,
      redisGbSeconds: 0,
      connectionSeconds: 0,
      peakDbConnections: 0,
      reversals: 0,
      reversalsInWindow: 0,
    },
  };
}

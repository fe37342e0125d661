/**
 * The simulator: steps a scenario in 15 s ticks (the HPA's sync period) and runs a knob
 * controller against it: the seed's static values, the seed's `DynamicConnectionPool` rule, a
 * fixed configuration, or the tuning engine itself through {@link evaluate} (the same function
 * the operator calls). The model is documented in operator/src/sim/README.md.
 */
import { DEFAULT_KNOB_BOUNDS } from '../api/v1alpha1/defaults.ts';
import { maxmemoryCeilingForLimitMiB } from '../api/v1alpha1/redis-maxmemory-ceiling.ts';
import { EMPTY_HISTORY, evaluate, recordEvaluation } from '../tuning/evaluate.ts';
import { KNOBS_THAT_ROLL_PODS } from '../tuning/safety-gate.ts';
import { SEED_RULE_BASE_POOL_SIZE, SEED_STATIC_KNOBS, seedRulePoolSize } from '../tuning/seed-baselines.ts';
import {
  DEFAULT_TARGET_ENVIRONMENT,
  DEFAULT_TUNING_SPEC,
  defaultedProfileSpec,
  tuningSpecFromProfile,
} from '../tuning/tuning-spec-from-profile.ts';
import type { KnobName, KnobValues, MetricSnapshot, TuningHistory, TuningSpec } from '../tuning/types.ts';
import { CacheDynamics } from './cache-dynamics.ts';
import { type CacheState, redisBytesPerKey } from './cache-model.ts';
import { EMPTY_HPA_MEMORY, HPA_SYNC_SECONDS, type HpaMemory, hpaSync } from './hpa.ts';
import { REQUEST_TIMEOUT_MS, type ReplicaOutcome, serveReplica } from './latency-model.ts';
import { loadAt, type Scenario } from './scenario.ts';
import { type SeededRandom, seededRandom } from './seeded-random.ts';

/** Seconds per simulation tick: one HPA sync. */
export const TICK_SECONDS = HPA_SYNC_SECONDS;
/** Correlation time of the load noise: the noise is AR(1) with this time constant. */
export const NOISE_CORRELATION_SECONDS = 600;
/** RollingUpdate defaults of a Deployment: 25 % surge (rounded up), 25 % unavailable (rounded down). */
const ROLLING_SURGE = 0.25;
const MIB = 1024 * 1024;

/** How knobs are chosen during a run. */
export type KnobController =
  | { readonly kind: 'static'; readonly label: string; readonly knobs: KnobValues }
  | { readonly kind: 'seed-rules'; readonly label: string }
  | { readonly kind: 'engine'; readonly label: string; readonly spec: TuningSpec };

/** The controller of the `seed-static` baseline. */
export const SEED_STATIC: KnobController = { kind: 'static', label: 'seed-static', knobs: SEED_STATIC_KNOBS };
/** The controller of the `seed-rules` baseline. */
export const SEED_RULES: KnobController = { kind: 'seed-rules', label: 'seed-rules' };

/**
 * The TuningSpec the operator runs with for a scenario's environment: a profile that sets only
 * what the environment dictates (the DB budget, the Redis container limit and its maxmemory ceiling,
 * the replica ceiling), every other field defaulted by the CRD, mapped by the controller's own
 * mapper with the scenario's workers and HPA target. So the benchmark measures what ships.
 */
export function tuningSpecFor(scenario: Scenario): TuningSpec {
  const ceiling = maxmemoryCeilingForLimitMiB(scenario.redis.memoryLimitMiB);
  const profile = defaultedProfileSpec({
    targetRef: { name: scenario.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'risk-api' },
    knobs: {
      redisMaxmemory: {
        minMiB: Math.min(DEFAULT_KNOB_BOUNDS.redisMaxmemory.minMiB, ceiling),
        maxMiB: ceiling,
        containerMemoryLimitMiB: scenario.redis.memoryLimitMiB,
      },
      replicas: { ceiling: scenario.app.replicaCeiling },
    },
    database: {
      maxConnections: scenario.db.maxConnections,
      reservedConnections: scenario.db.reservedConnections,
    },
  });
  return tuningSpecFromProfile(profile, {
    ...DEFAULT_TARGET_ENVIRONMENT,
    workersPerReplica: scenario.app.workers,
    hpaTargetCpuUtilization: scenario.app.hpaTargetCpuUtilization,
  });
}

/** The controller that runs the tuning engine for a scenario. */
export function engineController(scenario: Scenario): KnobController {
  return { kind: 'engine', label: 'ours', spec: tuningSpecFor(scenario) };
}

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

/** What a run cost and how well it served. */
export interface RunTotals {
  /** sloViolationMinutes: minutes with p95 above target or error rate above target. */
  readonly sloViolationMinutes: number;
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

interface Rollout {
  untilSeconds: number;
  surge: number;
  unavailable: number;
}

/** Sums over the engine's evaluation window, averaged into a MetricSnapshot. */
interface WindowSums {
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

function emptyWindow(): WindowSums {
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
interface Accounts {
  violationTicks: number;
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
interface RunState {
  knobs: KnobValues;
  history: TuningHistory;
  /** pods: ready-at times of the Deployment's pods. */
  pods: number[];
  specReplicas: number;
  hpaMemory: HpaMemory;
  lastReadyUtilization: number;
  rollout: Rollout | undefined;
  poolHighWater: number;
  noise: number;
  window: WindowSums;
  readonly series: SeriesPoint[];
  readonly changes: KnobChange[];
  readonly lastChange: Map<KnobName, { atSeconds: number; direction: number }>;
  readonly accounts: Accounts;
}

/** What one tick served, as the accounting and the metrics see it. */
interface TickOutcome {
  readonly rps: number;
  readonly readyPods: number;
  readonly serving: number;
  readonly cache: CacheState;
  readonly replica: ReplicaOutcome;
  readonly granted: number;
  readonly busy: number;
  readonly dbConnections: number;
}

/** Options of one run. */
export interface RunOptions {
  /** seed: overrides the scenario's noise seed (for medians over seeds). */
  readonly seed?: number;
  /** reversalWindowSeconds: the window in which reversals are counted. @default the engine's stabilization window */
  readonly reversalWindowSeconds?: number;
}

/** The knobs a controller starts with: its own for a static one, the seed's otherwise. */
function startingKnobs(controller: KnobController): KnobValues {
  if (controller.kind === 'static') return controller.knobs;
  if (controller.kind === 'seed-rules') return { ...SEED_STATIC_KNOBS, poolSize: SEED_RULE_BASE_POOL_SIZE };
  return SEED_STATIC_KNOBS;
}

/**
 * The state at minute 0: steady, with the replicas the HPA would have settled on for the first load
 * and the utilization metrics-server last reported for them (the HPA's first sync reads it).
 */
function initialState(scenario: Scenario, cache: CacheDynamics, controller: KnobController): RunState {
  const { app } = scenario;
  const knobs = startingKnobs(controller);
  const startRps = loadAt(scenario.load.points, 0);
  const startHitRate = cache.steadyState(0, startRps, knobs.redisMaxmemoryMiB * MIB).hitRate;
  const startCpuMs = startHitRate * app.cpuMsPerHit + (1 - startHitRate) * app.cpuMsPerMiss;
  const startReplicas = Math.min(
    knobs.maxReplicas,
    Math.max(
      knobs.minReplicas,
      Math.ceil((startRps * startCpuMs) / (app.cpuCores * 1000 * app.hpaTargetCpuUtilization)),
    ),
  );
  return {
    knobs,
    history: EMPTY_HISTORY,
    pods: Array.from({ length: startReplicas }, () => 0),
    specReplicas: startReplicas,
    hpaMemory: EMPTY_HPA_MEMORY,
    lastReadyUtilization: Math.min(1, (startRps * startCpuMs) / (startReplicas * app.cpuCores * 1000)),
    rollout: undefined,
    poolHighWater: 0,
    noise: 0,
    window: emptyWindow(),
    series: [],
    changes: [],
    lastChange: new Map(),
    accounts: {
      violationTicks: 0,
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

/** Arrivals at a tick: the scenario's curve times a slowly varying log-normal AR(1) noise. */
function arrivals(scenario: Scenario, state: RunState, random: SeededRandom, minute: number): number {
  const sigma = scenario.load.noise;
  if (sigma > 0) {
    const persistence = Math.exp(-TICK_SECONDS / NOISE_CORRELATION_SECONDS);
    state.noise = persistence * state.noise + Math.sqrt(1 - persistence ** 2) * sigma * random.normal();
  }
  return loadAt(scenario.load.points, minute) * Math.exp(state.noise - (sigma * sigma) / 2);
}

/** What nobody serves: every request fails when no pod is ready. */
const NOTHING_SERVED: ReplicaOutcome = {
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
function serveTick(
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

/** Adds a tick to the run's accounting: violations, failures and the resources that existed. */
function accountTick(state: RunState, tick: TickOutcome): void {
  const a = state.accounts;
  const errorRate = tick.replica.failedShare;
  const { slo } = DEFAULT_TUNING_SPEC;
  if (tick.replica.p95Ms > slo.p95LatencyMs || errorRate > slo.errorRate) a.violationTicks++;
  a.failedRequests += tick.rps * errorRate * TICK_SECONDS;
  a.requests += tick.rps * TICK_SECONDS;
  a.podSeconds += (state.pods.length + (state.rollout?.surge ?? 0)) * TICK_SECONDS;
  a.redisGbSeconds += (state.knobs.redisMaxmemoryMiB / 1024) * TICK_SECONDS;
  a.connectionSeconds += tick.dbConnections * TICK_SECONDS;
  a.peakDbConnections = Math.max(a.peakDbConnections, tick.dbConnections);
}

/** Adds a tick to the metrics window the engine's next snapshot averages. */
function observeTick(state: RunState, tick: TickOutcome): void {
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
function chartTick(state: RunState, tick: TickOutcome, tickIndex: number, minute: number): void {
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
function recordChange(state: RunState, reversalWindow: number, change: KnobChange): void {
  state.changes.push(change);
  const direction = Math.sign(change.to - change.from);
  const previous = state.lastChange.get(change.knob);
  if (previous && previous.direction === -direction) {
    state.accounts.reversals++;
    if (change.atSeconds - previous.atSeconds < reversalWindow) state.accounts.reversalsInWindow++;
  }
  state.lastChange.set(change.knob, { atSeconds: change.atSeconds, direction });
}

/**
 * A rolling update of every pod (a pool change edits the ConfigMap whose hash is in the pod
 * template): ⌈replicas / surge⌉ batches of start-up time, the pools' open connections start over.
 */
function startRollout(scenario: Scenario, state: RunState, now: number): void {
  const replicas = state.pods.length;
  const surge = Math.max(1, Math.ceil(ROLLING_SURGE * replicas));
  const unavailable = Math.floor(ROLLING_SURGE * replicas);
  const batches = Math.ceil(replicas / surge);
  state.rollout = { untilSeconds: now + batches * scenario.app.podStartupSeconds, surge, unavailable };
  state.poolHighWater = 0;
}

/** The seed's DynamicConnectionPool, every tick, on the pool's own load (resized in-process, no rollout). */
function actSeedRules(state: RunState, reversalWindow: number, tick: TickOutcome, now: number): void {
  const { knobs } = state;
  const load = knobs.poolSize > 0 ? Math.min(tick.busy, tick.granted) / knobs.poolSize : 0;
  const poolSize = seedRulePoolSize(load);
  if (poolSize === knobs.poolSize) return;
  recordChange(state, reversalWindow, {
    atSeconds: now,
    knob: 'poolSize',
    from: knobs.poolSize,
    to: poolSize,
    reason: `DynamicConnectionPool: load ${load.toFixed(2)}`,
  });
  state.knobs = { ...knobs, poolSize };
}

/** The metric snapshot the engine sees at the end of a window: its averages, or nothing inside a metric gap. */
function snapshotOfWindow(
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

/** One evaluation of the tuning engine, as the operator runs it: snapshot → evaluate → apply in Auto mode. */
function actEngine(
  scenario: Scenario,
  spec: TuningSpec,
  state: RunState,
  reversalWindow: number,
  minute: number,
  end: number,
): void {
  const snapshot = snapshotOfWindow(scenario, state, minute, end);
  state.window = emptyWindow();
  const evaluation = evaluate(spec, snapshot, state.knobs, state.history, end);
  state.history = recordEvaluation(spec, state.history, snapshot, evaluation, end, true);
  let rolls = false;
  for (const decision of evaluation.decisions) {
    if (decision.to === decision.from) continue;
    recordChange(state, reversalWindow, {
      atSeconds: end,
      knob: decision.knob,
      from: decision.from,
      to: decision.to,
      reason: decision.reason,
    });
    if (KNOBS_THAT_ROLL_PODS.includes(decision.knob)) rolls = true;
  }
  state.knobs = evaluation.next;
  if (rolls) startRollout(scenario, state, end);
}

/**
 * The HPA's sync on the utilization metrics-server last reported (one tick old), then the
 * ReplicaSet: new pods become ready after start-up; a scale-down deletes unready pods first,
 * then the youngest.
 */
function syncHpa(scenario: Scenario, state: RunState, tick: TickOutcome, now: number): void {
  const { app } = scenario;
  const sync = hpaSync(
    {
      nowSeconds: now,
      currentReplicas: state.specReplicas,
      readyPods: tick.readyPods,
      unreadyPods: state.pods.length - tick.readyPods,
      readyUtilization: state.lastReadyUtilization,
      targetUtilization: app.hpaTargetCpuUtilization,
      minReplicas: state.knobs.minReplicas,
      maxReplicas: state.knobs.maxReplicas,
    },
    state.hpaMemory,
  );
  state.hpaMemory = sync.memory;
  state.specReplicas = sync.replicas;
  state.lastReadyUtilization = Math.min(1, tick.replica.cpuUtilization);
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

/** The run's totals from its accounting. */
function totalsOf(scenario: Scenario, state: RunState): RunTotals {
  const a = state.accounts;
  const hours = 1 / 3600;
  const usage = {
    podHours: a.podSeconds * hours,
    redisGbHours: a.redisGbSeconds * hours,
    dbConnectionHours: a.connectionSeconds * hours,
  };
  return {
    sloViolationMinutes: (a.violationTicks * TICK_SECONDS) / 60,
    failedRequests: a.failedRequests,
    requests: a.requests,
    ...usage,
    pricedCost: pricedCost(scenario, usage),
    knobChanges: state.changes.length,
    reversals: a.reversals,
    reversalsInWindow: a.reversalsInWindow,
    peakDbConnections: a.peakDbConnections,
  };
}

/**
 * Runs one scenario with one knob controller. Deterministic for a given seed. Each 15 s tick:
 * arrivals, service, accounting and metrics, the knob controller, then the HPA.
 */
export function simulate(
  scenario: Scenario,
  controller: KnobController,
  options: RunOptions = {},
): RunResult {
  const seed = options.seed ?? scenario.seed;
  const random = seededRandom(seed);
  const reversalWindow =
    options.reversalWindowSeconds ?? DEFAULT_TUNING_SPEC.timings.stabilizationWindowSeconds;
  const cache = new CacheDynamics(
    scenario,
    redisBytesPerKey({ valueBytes: scenario.redis.valueBytes, withTtl: scenario.redis.ttlSeconds > 0 }),
  );
  const state = initialState(scenario, cache, controller);
  const evaluationTicks =
    controller.kind === 'engine'
      ? Math.max(1, Math.round(controller.spec.timings.evaluationIntervalSeconds / TICK_SECONDS))
      : 0;
  const ticks = Math.round((scenario.durationMinutes * 60) / TICK_SECONDS);
  for (let index = 0; index < ticks; index++) {
    const now = index * TICK_SECONDS;
    const minute = now / 60;
    if (state.rollout && now >= state.rollout.untilSeconds) state.rollout = undefined;
    const rps = arrivals(scenario, state, random, minute);
    const tick = serveTick(scenario, cache, state, now, rps);
    accountTick(state, tick);
    observeTick(state, tick);
    chartTick(state, tick, index, minute);
    if (controller.kind === 'seed-rules') actSeedRules(state, reversalWindow, tick, now);
    else if (controller.kind === 'engine' && (index + 1) % evaluationTicks === 0)
      actEngine(scenario, controller.spec, state, reversalWindow, minute, now + TICK_SECONDS);
    syncHpa(scenario, state, tick, now);
  }
  return {
    scenario: scenario.name,
    policy: controller.label,
    seed,
    totals: totalsOf(scenario, state),
    series: state.series,
    changes: state.changes,
  };
}

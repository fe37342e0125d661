/**
 * The simulator: steps a scenario in 15 s ticks (the HPA's sync period) and runs a knob
 * controller against it: the seed's static values, the seed's `DynamicConnectionPool` rule, a
 * fixed configuration, or the tuning engine itself through {@link evaluate} (the same function
 * the operator calls). The model is documented in operator/src/sim/README.md.
 */
import { DEFAULT_KNOB_BOUNDS } from '../api/v1alpha1/performance-profile.ts';
import {
  DEFAULT_TARGET_ENVIRONMENT,
  DEFAULT_TUNING_SPEC,
  defaultedProfileSpec,
  tuningSpecFromProfile,
} from '../controller/tuning-spec-from-profile.ts';
import { EMPTY_HISTORY, evaluate, recordEvaluation } from '../tuning/evaluate.ts';
import { SEED_RULE_BASE_POOL_SIZE, SEED_STATIC_KNOBS, seedRulePoolSize } from '../tuning/seed-baselines.ts';
import type { KnobName, KnobValues, MetricSnapshot, TuningHistory, TuningSpec } from '../tuning/types.ts';
import { CacheModel, redisBytesPerKey } from './cache-model.ts';
import { EMPTY_HPA_MEMORY, HPA_SYNC_SECONDS, type HpaMemory, hpaSync } from './hpa.ts';
import { serveReplica } from './latency-model.ts';
import { loadAt, type Scenario } from './scenario.ts';
import { seededRandom } from './seeded-random.ts';

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
 * what the environment dictates (the DB budget, the Redis container limit and its 0.75 ceiling,
 * the replica ceiling), every other field defaulted by the CRD, mapped by the controller's own
 * mapper with the scenario's workers and HPA target. So the benchmark measures what ships.
 */
export function tuningSpecFor(scenario: Scenario): TuningSpec {
  const ceiling = Math.floor(0.75 * scenario.redis.memoryLimitMiB);
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

/** Options of one run. */
export interface RunOptions {
  /** seed: overrides the scenario's noise seed (for medians over seeds). */
  readonly seed?: number;
  /** reversalWindowSeconds: the window in which reversals are counted. @default the engine's stabilization window */
  readonly reversalWindowSeconds?: number;
}

/** Runs one scenario with one knob controller. Deterministic for a given seed. */
export function simulate(
  scenario: Scenario,
  controller: KnobController,
  options: RunOptions = {},
): RunResult {
  const seed = options.seed ?? scenario.seed;
  const random = seededRandom(seed);
  const reversalWindow =
    options.reversalWindowSeconds ?? DEFAULT_TUNING_SPEC.timings.stabilizationWindowSeconds;
  const cache = new CacheModel({
    keys: scenario.redis.keys,
    zipfExponent: scenario.redis.zipfExponent,
    bytesPerKey: redisBytesPerKey({
      valueBytes: scenario.redis.valueBytes,
      withTtl: scenario.redis.ttlSeconds > 0,
    }),
    ttlSeconds: scenario.redis.ttlSeconds,
  });
  const { app, db } = scenario;
  const connectionsAvailable = db.maxConnections - db.reservedConnections;
  let knobs: KnobValues =
    controller.kind === 'static'
      ? controller.knobs
      : controller.kind === 'seed-rules'
        ? { ...SEED_STATIC_KNOBS, poolSize: SEED_RULE_BASE_POOL_SIZE }
        : SEED_STATIC_KNOBS;
  let history: TuningHistory = EMPTY_HISTORY;
  const startRps = loadAt(scenario.load.points, 0);
  // Start where the HPA would have settled for the first minute's load.
  const startHitRate = cache.state(startRps, knobs.redisMaxmemoryMiB * MIB).hitRate;
  const startCpuMs = startHitRate * app.cpuMsPerHit + (1 - startHitRate) * app.cpuMsPerMiss;
  const startReplicas = Math.min(
    knobs.maxReplicas,
    Math.max(
      knobs.minReplicas,
      Math.ceil((startRps * startCpuMs) / (app.cpuCores * 1000 * app.hpaTargetCpuUtilization)),
    ),
  );
  // Pods as ready-at times; the run starts in steady state with every pod ready.
  let pods: number[] = Array.from({ length: startReplicas }, () => 0);
  let specReplicas = startReplicas;
  let hpaMemory: HpaMemory = EMPTY_HPA_MEMORY;
  let lastReadyUtilization = 0;
  let rollout: Rollout | undefined;
  let poolHighWater = 0;
  let noise = 0;
  const noisePersistence = Math.exp(-TICK_SECONDS / NOISE_CORRELATION_SECONDS);
  const ticks = Math.round((scenario.durationMinutes * 60) / TICK_SECONDS);
  const evaluationTicks =
    controller.kind === 'engine'
      ? Math.max(1, Math.round(controller.spec.timings.evaluationIntervalSeconds / TICK_SECONDS))
      : 0;
  let window = emptyWindow();
  const series: SeriesPoint[] = [];
  const changes: KnobChange[] = [];
  const lastChange = new Map<KnobName, { atSeconds: number; direction: number }>();
  let reversals = 0;
  let reversalsInWindow = 0;
  let violationTicks = 0;
  let failedRequests = 0;
  let requests = 0;
  let podSeconds = 0;
  let redisGbSeconds = 0;
  let connectionSeconds = 0;
  let peakDbConnections = 0;

  const recordChange = (now: number, knob: KnobName, from: number, to: number, reason: string) => {
    changes.push({ atSeconds: now, knob, from, to, reason });
    const direction = Math.sign(to - from);
    const previous = lastChange.get(knob);
    if (previous && previous.direction === -direction) {
      reversals++;
      if (now - previous.atSeconds < reversalWindow) reversalsInWindow++;
    }
    lastChange.set(knob, { atSeconds: now, direction });
  };

  const startRollout = (now: number) => {
    const replicas = pods.length;
    const surge = Math.max(1, Math.ceil(ROLLING_SURGE * replicas));
    const unavailable = Math.floor(ROLLING_SURGE * replicas);
    const batches = Math.ceil(replicas / surge);
    rollout = { untilSeconds: now + batches * app.podStartupSeconds, surge, unavailable };
    poolHighWater = 0;
  };

  for (let tick = 0; tick < ticks; tick++) {
    const now = tick * TICK_SECONDS;
    const minute = now / 60;
    if (rollout && now >= rollout.untilSeconds) rollout = undefined;
    // Arrivals: the scenario's curve times a slowly varying log-normal noise.
    const sigma = scenario.load.noise;
    if (sigma > 0)
      noise = noisePersistence * noise + Math.sqrt(1 - noisePersistence ** 2) * sigma * random.normal();
    const rps = loadAt(scenario.load.points, minute) * Math.exp(noise - (sigma * sigma) / 2);
    const readyPods = pods.filter((readyAt) => readyAt <= now).length;
    const serving = Math.max(0, readyPods - (rollout?.unavailable ?? 0));
    const cacheState = cache.state(rps, knobs.redisMaxmemoryMiB * MIB);
    const poolConnections = knobs.poolSize + knobs.maxOverflow;
    const granted = serving > 0 ? Math.min(poolConnections, Math.floor(connectionsAvailable / serving)) : 0;
    const outcome =
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
          })
        : {
            cpuUtilization: 1,
            failedShare: rps > 0 ? 1 : 0,
            p95Ms: 30_000,
            busyConnections: 0,
            meanPoolWaitMs: 0,
          };
    // Connections: the pool keeps what it opened up to pool_size; overflow closes when returned.
    const busy = outcome.busyConnections;
    const burst = Math.ceil(busy + 2 * Math.sqrt(busy));
    poolHighWater = Math.max(poolHighWater, Math.min(knobs.poolSize, granted, burst));
    const perPod =
      Math.min(knobs.poolSize, poolHighWater) + Math.max(0, Math.min(busy, granted) - knobs.poolSize);
    const dbConnections = serving * perPod;
    peakDbConnections = Math.max(peakDbConnections, dbConnections);
    const errorRate = outcome.failedShare;
    const violated =
      outcome.p95Ms > DEFAULT_TUNING_SPEC.slo.p95LatencyMs || errorRate > DEFAULT_TUNING_SPEC.slo.errorRate;
    if (violated) violationTicks++;
    failedRequests += rps * errorRate * TICK_SECONDS;
    requests += rps * TICK_SECONDS;
    podSeconds += (pods.length + (rollout?.surge ?? 0)) * TICK_SECONDS;
    redisGbSeconds += (knobs.redisMaxmemoryMiB / 1024) * TICK_SECONDS;
    connectionSeconds += dbConnections * TICK_SECONDS;
    const servedShare = 1 - errorRate;
    window.ticks++;
    window.rps += rps;
    window.failed += rps * errorRate;
    window.p95 += outcome.p95Ms;
    window.serving += serving;
    window.cpu += Math.min(1, outcome.cpuUtilization);
    window.dbQps += rps * servedShare * (1 - cacheState.hitRate);
    window.busy += busy * serving;
    window.poolWait += outcome.meanPoolWaitMs;
    window.hits += rps * cacheState.hitRate;
    window.misses += rps * (1 - cacheState.hitRate);
    window.evicted += cacheState.evictedKeysPerSecond;
    window.expired += cacheState.expiredKeysPerSecond;
    window.usedBytes = cacheState.usedMemoryBytes;
    if (tick % (60 / TICK_SECONDS) === 0) {
      series.push({
        minute,
        rps,
        replicas: readyPods,
        p95Ms: outcome.p95Ms,
        errorRate,
        hitRate: cacheState.hitRate,
        poolSize: knobs.poolSize,
        maxOverflow: knobs.maxOverflow,
        maxMemoryMiB: knobs.redisMaxmemoryMiB,
        dbConnections,
      });
    }

    // The knob controller acts on what this tick measured.
    if (controller.kind === 'seed-rules') {
      const load = knobs.poolSize > 0 ? Math.min(busy, granted) / knobs.poolSize : 0;
      const poolSize = seedRulePoolSize(load);
      if (poolSize !== knobs.poolSize) {
        recordChange(
          now,
          'poolSize',
          knobs.poolSize,
          poolSize,
          `DynamicConnectionPool: load ${load.toFixed(2)}`,
        );
        knobs = { ...knobs, poolSize };
      }
    } else if (controller.kind === 'engine' && (tick + 1) % evaluationTicks === 0) {
      const end = now + TICK_SECONDS;
      const inGap = scenario.metricGaps.some((g) => minute >= g.fromMinute && minute < g.toMinute);
      const w = window;
      const snapshot: MetricSnapshot | undefined = inGap
        ? undefined
        : {
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
              maxMemoryBytes: knobs.redisMaxmemoryMiB * MIB,
              hitsPerSecond: w.hits / w.ticks,
              missesPerSecond: w.misses / w.ticks,
              evictedKeysPerSecond: w.evicted / w.ticks,
              expiredKeysPerSecond: w.expired / w.ticks,
            },
          };
      window = emptyWindow();
      const evaluation = evaluate(controller.spec, snapshot, knobs, history, end);
      history = recordEvaluation(controller.spec, history, snapshot, evaluation, end, true);
      let rolls = false;
      for (const decision of evaluation.decisions) {
        if (decision.to === decision.from) continue;
        recordChange(end, decision.knob, decision.from, decision.to, decision.reason);
        if (decision.knob === 'poolSize' || decision.knob === 'maxOverflow') rolls = true;
      }
      knobs = evaluation.next;
      if (rolls) startRollout(end);
    }

    // The HPA syncs on the utilization metrics-server last reported (one tick old).
    const unreadyPods = pods.length - readyPods;
    const sync = hpaSync(
      {
        nowSeconds: now,
        currentReplicas: specReplicas,
        readyPods,
        unreadyPods,
        readyUtilization: lastReadyUtilization,
        targetUtilization: app.hpaTargetCpuUtilization,
        minReplicas: knobs.minReplicas,
        maxReplicas: knobs.maxReplicas,
      },
      hpaMemory,
    );
    hpaMemory = sync.memory;
    specReplicas = sync.replicas;
    lastReadyUtilization = Math.min(1, outcome.cpuUtilization);
    if (specReplicas > pods.length) {
      const readyAt = now + TICK_SECONDS + app.podStartupSeconds;
      pods = [...pods, ...Array.from({ length: specReplicas - pods.length }, () => readyAt)];
    } else if (specReplicas < pods.length) {
      // The ReplicaSet deletes pods that are not ready first, then the youngest.
      pods = [...pods].sort((a, b) => a - b).slice(0, specReplicas);
    }
  }
  const hours = 1 / 3600;
  return {
    scenario: scenario.name,
    policy: controller.label,
    seed,
    totals: {
      sloViolationMinutes: (violationTicks * TICK_SECONDS) / 60,
      failedRequests,
      requests,
      podHours: podSeconds * hours,
      redisGbHours: redisGbSeconds * hours,
      dbConnectionHours: connectionSeconds * hours,
      knobChanges: changes.length,
      reversals,
      reversalsInWindow,
      peakDbConnections,
    },
    series,
    changes,
  };
}

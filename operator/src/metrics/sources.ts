/**
 * The metric sources of a profile, and the two calls the reconcile makes of them:
 * {@link measureSnapshot} at every evaluation (instant queries, Redis INFO, the HPA's status) and
 * {@link rebuildHistory} when a replica starts or takes the lease (range queries). Secrets are
 * read through an injected function, so the operator reads them by name and tests bring their own.
 */

import type { Signal } from '../api/v1alpha1/default-promql.ts';
import { DEFAULT_FORECAST_MODE, DEFAULT_STALENESS_SECONDS } from '../api/v1alpha1/defaults.ts';
import { REDIS_EXPORTER_SIGNALS } from '../api/v1alpha1/metric-presets.ts';
import type { PerformanceProfile } from '../api/v1alpha1/performance-profile.ts';
import { endpointSetOf, type RedisConnections } from '../redis/connections.ts';
import { HISTORY_SNAPSHOT_LIMIT } from '../tuning/evaluate.ts';
import { RATE_HISTORY_SECONDS, type RateHistory } from '../tuning/forecast.ts';
import type { MetricSnapshot, RedisSignals } from '../tuning/types.ts';
import { overPods, SharedAnswers, seriesOf } from './grouped-queries.ts';
import type { HpaStatus } from './hpa-status.ts';
import { PrometheusClient, type QueryData } from './prometheus-client.ts';
import {
  checkFreshness,
  checkValue,
  isNoEvents,
  type Reading,
  readInstantValue,
  readRangeSeries,
  UnknownReason,
  type UnknownSignal,
  unknown,
} from './prometheus-result.ts';
import { rateHistoryFromPoints, rateHistoryRange } from './rate-history.ts';
import type { RedisMeasurement } from './redis-info.ts';
import { type RedisEndpointOptions, RedisReaders } from './redis-source.ts';
import {
  type GroupedQuery,
  HISTORY_SIGNALS,
  LIVE_SIGNALS,
  type PodRatioQuery,
  type QueryVariables,
  signalQuery,
} from './signals.ts';
import { assembleSnapshot, type HistoryPoints, historySnapshots } from './snapshot.ts';

/** readSecret returns one key of a Secret in `namespace`; it throws when the Secret or key is missing. */
export type ReadSecret = (
  namespace: string,
  ref: { readonly name: string; readonly key: string },
) => Promise<string>;

/** The counter the sources count unknown answers in (see telemetry/metrics.ts). */
export interface UnknownCounter {
  inc(labels: { source: string; signal: string; reason: string }): void;
}

/** What the metric sources need from the operator. */
export interface MetricSourcesContext {
  /** readSecret reads a Secret key (Redis password, Prometheus token or password, CA bundles). */
  readonly readSecret: ReadSecret;
  /** unknownAnswers counts every unknown signal by source, signal and reason. */
  readonly unknownAnswers?: UnknownCounter;
  /**
   * redis is the operator's one Redis connection pool, shared with the maxmemory actuator; its
   * owner closes it. @default a pool of the sources' own, closed by close()
   */
  readonly redis?: RedisConnections;
  /** redisSecondReadingDelayMs: the gap between two INFO readings when there is no earlier one. @default 1000 */
  readonly redisSecondReadingDelayMs?: number;
}

/** The sources of every profile, sharing Redis connections per endpoint set. */
export interface MetricSources {
  /** prometheus is the client for the profile's Prometheus, credentials resolved; undefined without a source. */
  prometheus(profile: PerformanceProfile): Promise<PrometheusClient | undefined>;
  /** redisOptions resolves the profile's Redis endpoints and credentials; undefined without a source. */
  redisOptions(profile: PerformanceProfile): Promise<RedisEndpointOptions | undefined>;
  /** redis reads INFO from every node behind the profile's endpoints, on the shared connections. */
  readRedis(options: RedisEndpointOptions, nowSeconds: () => number): Promise<RedisMeasurement>;
  /** unknownAnswers counts unknown signals (may be undefined). */
  readonly unknownAnswers?: UnknownCounter;
  /** answers holds the grouped default queries' answers, shared by profiles per Prometheus and interval. */
  readonly answers: SharedAnswers;
  /** close ends the sources' Redis connections (all of them when the pool is the sources' own). */
  close(): void;
}

type SecretRef = { readonly name: string; readonly key: string };

/** readSecretRef reads a Secret key the profile names; a failure names the Secret, the key and what it holds. */
async function readSecretRef(
  ctx: MetricSourcesContext,
  namespace: string,
  ref: SecretRef | undefined,
  what: string,
): Promise<string | undefined> {
  if (!ref) return undefined;
  try {
    return await ctx.readSecret(namespace, ref);
  } catch (err) {
    throw new Error(`reading the ${what} from Secret ${namespace}/${ref.name} key ${ref.key}`, {
      cause: err,
    });
  }
}

/** createMetricSources builds the sources from the operator's context; call once per process. */
export function createMetricSources(ctx: MetricSourcesContext): MetricSources {
  const readers = new RedisReaders(ctx.redis);
  const namespaceOf = (profile: PerformanceProfile) => profile.metadata.namespace ?? 'default';
  return {
    unknownAnswers: ctx.unknownAnswers,
    answers: new SharedAnswers(),
    prometheus: async (profile) => {
      const source = profile.spec.metrics.prometheus;
      if (!source) return undefined;
      const secret = (ref: SecretRef | undefined, what: string) =>
        readSecretRef(ctx, namespaceOf(profile), ref, what);
      const bearerToken = await secret(source.bearerTokenSecretRef, 'Prometheus bearer token');
      const password = await secret(source.basicAuth?.passwordSecretRef, 'Prometheus password');
      const caBundle = await secret(source.caBundleSecretRef, 'Prometheus CA bundle');
      return new PrometheusClient({
        url: source.url,
        timeoutMs: source.timeoutSeconds * 1000,
        ...(bearerToken !== undefined ? { bearerToken } : {}),
        ...(source.basicAuth && password !== undefined
          ? { basicAuth: { username: source.basicAuth.username, password } }
          : {}),
        ...(caBundle !== undefined ? { caBundle } : {}),
      });
    },
    redisOptions: async (profile) => {
      const source = profile.spec.metrics.redis;
      if (!source) return undefined;
      const read = (ref: SecretRef | undefined, what: string) =>
        readSecretRef(ctx, namespaceOf(profile), ref, what);
      const password = await read(source.passwordSecretRef, 'Redis password');
      const ca = source.tls ? await read(source.tls.caBundleSecretRef, 'Redis CA bundle') : undefined;
      const sentinelPassword = await read(source.sentinel?.passwordSecretRef, 'Redis Sentinel password');
      return {
        ...endpointSetOf(source, { password, sentinelPassword, ca }),
        secondReadingDelayMs: ctx.redisSecondReadingDelayMs ?? 1000,
      };
    },
    readRedis: async (options, nowSeconds) => await readers.get(options).read(nowSeconds),
    close: () => readers.close(),
  };
}

/** What the reconcile knows of the target when it measures. */
export interface MeasureContext {
  /** poolCapacity is DB_POOL_SIZE + DB_MAX_OVERFLOW as observed, for `$poolCapacity`. */
  readonly poolCapacity?: number;
  /** hpa is the HPA's status as observed (see hpaStatusOf); its current replicas are the ready replicas. */
  readonly hpa?: HpaStatus;
  /**
   * poolUntuned: the pool is not tuned (pool: none, or a size the operator cannot read), so a pool
   * usage that needs its capacity is named unknown but holds back no other knob. @default false
   */
  readonly poolUntuned?: boolean;
}

/** A measurement: the engine's snapshot when everything it needs is known, and what is not. */
export interface Measurement {
  /** snapshot for the engine; undefined when any field it needs is unknown (the engine fails static). */
  readonly snapshot?: MetricSnapshot;
  /** unknown names every signal that could not be measured and why; never counted as zero. */
  readonly unknown: readonly UnknownSignal[];
  /** prometheus holds every Prometheus signal that was measured (for status). */
  readonly prometheus: Partial<Record<Signal, number>>;
  /**
   * noEvents names the signals whose count did not move in their window while their series are
   * fresh (no request, no checkout, no cache lookup): not unknown, and not in `prometheus`. The
   * engine reads them as {@link NO_EVENTS_VALUE} says; a check that needs one of them holds.
   */
  readonly noEvents?: readonly Signal[];
  /** redis is the Redis measurement (connected clients, node counts), when a Redis source exists. */
  readonly redis?: RedisMeasurement;
  /** readyReplicas is the HPA's current replicas, when it reports them (for status, with or without a snapshot). */
  readonly readyReplicas?: number;
  /** takenAtSeconds is when the measurement ended. */
  readonly takenAtSeconds: number;
}

/** Redis INFO unknowns are named `redis` or `redis <host:port>`; the rest come from Prometheus or the HPA. */
function sourceOf(signal: string): string {
  if (signal === 'redis' || signal.startsWith('redis ')) return 'redis';
  return signal === 'readyReplicas' ? 'kubernetes' : 'prometheus';
}

function count(sources: MetricSources, unknowns: readonly UnknownSignal[]): void {
  for (const u of unknowns) {
    const source = sourceOf(u.signal);
    // Redis nodes are named in the message, not in the label: one series per reason, not per node.
    const signal = source === 'redis' ? 'redis' : u.signal;
    sources.unknownAnswers?.inc({ source, signal, reason: u.reason });
  }
}

/** An instant query at one time, each distinct query sent once (signals share age queries). */
type Ask = (promql: string) => Promise<QueryData>;

function askOnce(client: PrometheusClient, timeSeconds: number): Ask {
  const asked = new Map<string, Promise<QueryData>>();
  return (promql) => {
    let answer = asked.get(promql);
    if (!answer) {
      answer = client.query(promql, timeSeconds);
      asked.set(promql, answer);
    }
    return answer;
  };
}

/** The instant queries of one profile's evaluation: its own (asked once each) and the shared ones. */
interface Asking {
  readonly ask: Ask;
  /** shared answers a grouped query from the answer every profile on this Prometheus shares. */
  readonly shared: Ask;
  readonly timeSeconds: number;
}

/** readGrouped reads a signal from the grouped answers, its age from its newest sample's timestamp. */
async function readGrouped(
  asking: Asking,
  signal: Signal,
  grouped: GroupedQuery,
): Promise<[Reading, Reading?]> {
  const [value, stamp] = await Promise.all([
    asking.shared(grouped.query).then((data) => readInstantValue(signal, seriesOf(data, grouped.labels))),
    grouped.timestampQuery
      ? asking
          .shared(grouped.timestampQuery)
          .then((data) => readInstantValue(signal, seriesOf(data, grouped.labels)))
      : Promise.resolve(undefined),
  ]);
  const divided =
    grouped.divideBy !== undefined && 'value' in value
      ? checkValue(signal, value.value / grouped.divideBy)
      : value;
  if (!stamp || 'unknown' in stamp) return [divided, stamp];
  return [divided, { value: asking.timeSeconds - stamp.value }];
}

/** readPods reads a pod-ratio signal (CPU) from the grouped-by-pod answers, summing the profile's pods. */
async function readPods(asking: Asking, signal: Signal, pods: PodRatioQuery): Promise<[Reading, Reading?]> {
  const over = (promql: string, fold: 'sum' | 'max') =>
    asking.shared(promql).then((data) => overPods(signal, data, pods.namespace, pods.podPattern, fold));
  const [numerator, denominator, stamp] = await Promise.all([
    over(pods.numerator, 'sum'),
    over(pods.denominator, 'sum'),
    over(pods.timestampQuery, 'max'),
  ]);
  if ('unknown' in numerator) return [numerator];
  if ('unknown' in denominator) return [denominator];
  const value = checkValue(signal, (pods.scale * numerator.value) / denominator.value);
  return [value, 'unknown' in stamp ? stamp : { value: asking.timeSeconds - stamp.value }];
}

/**
 * What a signal with no events means to the engine: no request was slow or failed, no checkout
 * waited. The cache hit rate has no such value (no lookup is neither a hit nor a miss); the engine
 * does not read it, and only the cache objective's check holds.
 */
export const NO_EVENTS_VALUE: Partial<Record<Signal, number>> = {
  p95LatencyMs: 0,
  errorRatePercent: 0,
  poolWaitSecondsMean: 0,
  poolWaitSecondsP95: 0,
};

/** A signal that had no events in its window: its count did not move while its series are fresh. */
interface NoEvents {
  readonly noEvents: Signal;
}

/** noEventsOf reads a NaN signal's count and says whether it is "no events" ({@link isNoEvents}). */
async function noEventsOf(
  ask: Ask,
  signal: Signal,
  eventsQuery: string,
  value: Reading,
  age: Reading | undefined,
  stalenessSeconds: number,
): Promise<NoEvents | undefined> {
  if (!age || 'unknown' in age || age.value > stalenessSeconds) return undefined;
  const events = readInstantValue(signal, await ask(eventsQuery));
  return isNoEvents(value, age, events, stalenessSeconds) ? { noEvents: signal } : undefined;
}

async function readSignal(
  asking: Asking,
  signal: Signal,
  profile: PerformanceProfile,
  vars: QueryVariables,
  liveRedis: boolean,
): Promise<Reading | NoEvents> {
  const built = signalQuery(profile.spec.metrics.prometheus, signal, vars, liveRedis);
  if ('problem' in built) return unknown(signal, UnknownReason.NotQueried, built.problem);
  const { ask } = asking;
  try {
    const [value, age] = built.grouped
      ? await readGrouped(asking, signal, built.grouped)
      : built.groupedPods
        ? await readPods(asking, signal, built.groupedPods)
        : await Promise.all([
            ask(built.query).then((data) => readInstantValue(signal, data)),
            built.ageQuery
              ? ask(built.ageQuery).then((data) => readInstantValue(signal, data))
              : Promise.resolve(undefined),
          ]);
    const staleness = profile.spec.metrics.prometheus?.stalenessSeconds ?? DEFAULT_STALENESS_SECONDS;
    if ('unknown' in value && value.unknown.reason === UnknownReason.NotANumber && built.eventsQuery) {
      const none = await noEventsOf(ask, signal, built.eventsQuery, value, age, staleness);
      if (none) return none;
    }
    return age ? checkFreshness(value, age, signal, staleness) : value;
  } catch (err) {
    return unknown(signal, UnknownReason.Unanswered, err instanceof Error ? err.message : String(err));
  }
}

/** redisFromExporter builds the engine's Redis signals from redis_exporter's series, when all were measured. */
function redisFromExporter(p: Partial<Record<Signal, number>>): RedisSignals | undefined {
  const [used, max, hits, misses, evicted, expired] = REDIS_EXPORTER_SIGNALS.map((s) => p[s]);
  if ([used, max, hits, misses, evicted, expired].some((v) => v === undefined)) return undefined;
  return {
    usedMemoryBytes: used as number,
    maxMemoryBytes: max as number,
    hitsPerSecond: hits as number,
    missesPerSecond: misses as number,
    evictedKeysPerSecond: evicted as number,
    expiredKeysPerSecond: expired as number,
  };
}

/**
 * measureSnapshot measures a profile now: every live Prometheus signal (instant queries at
 * `nowSeconds()`, each with its freshness check), Redis INFO from every node (rates against the
 * last reading), and the HPA's status passed in. Never throws for a source that fails: its
 * signals are unknown, named, and counted; a missing Secret throws (a configuration error).
 */
export async function measureSnapshot(
  profile: PerformanceProfile,
  sources: MetricSources,
  nowSeconds: () => number,
  context: MeasureContext = {},
): Promise<Measurement> {
  const vars: QueryVariables = {
    namespace: profile.metadata.namespace ?? 'default',
    deployment: profile.spec.targetRef.name,
    ...(context.poolCapacity !== undefined ? { poolCapacity: context.poolCapacity } : {}),
  };
  const unknowns: UnknownSignal[] = [];
  // Redis through redis_exporter: its signals are Prometheus signals, and INFO is not read.
  const liveRedis = profile.spec.metrics.redis?.source === 'Exporter';
  const signals: readonly Signal[] = liveRedis ? [...LIVE_SIGNALS, ...REDIS_EXPORTER_SIGNALS] : LIVE_SIGNALS;
  const [client, redisOptions] = await Promise.all([
    sources.prometheus(profile),
    liveRedis ? Promise.resolve(undefined) : sources.redisOptions(profile),
  ]);
  const time = nowSeconds();
  const [readings, redis] = await Promise.all([
    client
      ? (() => {
          const window = profile.spec.policy.evaluationIntervalSeconds;
          const asking: Asking = {
            ask: askOnce(client, time),
            shared: (promql) => sources.answers.ask(client, promql, time, window),
            timeSeconds: time,
          };
          return Promise.all(signals.map((signal) => readSignal(asking, signal, profile, vars, liveRedis)));
        })()
      : Promise.resolve(
          signals.map((signal) =>
            unknown(signal, UnknownReason.NotQueried, 'spec.metrics.prometheus is not set'),
          ),
        ),
    redisOptions ? sources.readRedis(redisOptions, nowSeconds) : Promise.resolve(undefined),
  ]);
  const prometheus: Partial<Record<Signal, number>> = {};
  const noEvents: Signal[] = [];
  readings.forEach((reading, i) => {
    const signal = signals[i] as Signal;
    if ('unknown' in reading) unknowns.push(reading.unknown);
    else if ('noEvents' in reading) noEvents.push(signal);
    else prometheus[signal] = reading.value;
  });
  if (redis) unknowns.push(...redis.unknown);
  // Named, for status, but no blocker: a profile without Redis tunes the other knobs (any subset).
  const redisNotSet = !redis && !liveRedis && profile.spec.metrics.redis === undefined;
  if (!redis && !liveRedis)
    unknowns.push(unknown('redis', UnknownReason.NotQueried, 'spec.metrics.redis is not set').unknown);
  if (context.hpa?.currentReplicas === undefined) {
    unknowns.push(
      unknown('readyReplicas', UnknownReason.Empty, 'the HPA reports no current replicas').unknown,
    );
  }
  // CPU falls back to the HPA's own reading; a Prometheus unknown it covers is not an unknown.
  const cpuCovered =
    prometheus.cpuUtilizationPercent === undefined && context.hpa?.cpuUtilizationPercent !== undefined;
  const reported = cpuCovered ? unknowns.filter((u) => u.signal !== 'cpuUtilizationPercent') : unknowns;
  const takenAtSeconds = nowSeconds();
  const redisSignals = liveRedis ? redisFromExporter(prometheus) : redis?.signals;
  const engineValues = { ...prometheus };
  for (const signal of noEvents) {
    const value = NO_EVENTS_VALUE[signal];
    if (value !== undefined) engineValues[signal] = value;
  }
  const { snapshot } = assembleSnapshot(
    {
      prometheus: engineValues,
      ...(redisSignals ? { redis: redisSignals } : {}),
      ...(context.hpa ? { hpa: context.hpa } : {}),
      ...(redisNotSet ? { withoutRedis: true } : {}),
    },
    takenAtSeconds,
    profile.spec.policy.evaluationIntervalSeconds,
  );
  count(sources, reported);
  return {
    ...(snapshot &&
    reported.every(
      (u) =>
        (redisNotSet && u.signal === 'redis') || (context.poolUntuned && u.signal === 'poolUsagePercent'),
    )
      ? { snapshot }
      : {}),
    unknown: reported,
    prometheus,
    noEvents,
    ...(redis ? { redis } : {}),
    ...(context.hpa?.currentReplicas !== undefined ? { readyReplicas: context.hpa.currentReplicas } : {}),
    takenAtSeconds,
  };
}

/** Options of {@link rebuildHistory}. */
export interface RebuildOptions {
  /** lookbackSeconds: how far back to read. @default a day, or what the engine keeps at the profile's interval */
  readonly lookbackSeconds?: number;
}

/** The rebuilt history: snapshots oldest first, the forecast's rate history, and the signals that could not be read. */
export interface RebuiltHistory {
  readonly snapshots: readonly MetricSnapshot[];
  /**
   * rates: the request rate over {@link RATE_HISTORY_SECONDS} in the forecast's buckets, when the
   * profile's forecast is not Off and the query was answered; a time without a point is a gap.
   */
  readonly rates?: RateHistory;
  readonly unknown: readonly UnknownSignal[];
  /** rejectedPoints counts NaN, infinite or negative points dropped. */
  readonly rejectedPoints: number;
}

/** The name the rate history's unknowns and rejected points are reported under. */
export const RATE_HISTORY_SIGNAL = 'requestRateHistory';

/** A range query's points (none when unknown), the points dropped, and why there are none. */
interface RangeAnswer {
  readonly points: ReadonlyMap<number, number>;
  readonly rejected: number;
  readonly unknown?: UnknownSignal;
}

/** rangeOf runs one range query and reads its one series; an empty or failed answer is unknown, never zero. */
async function rangeOf(
  client: PrometheusClient,
  name: string,
  promql: string,
  range: { readonly start: number; readonly end: number; readonly step: number },
): Promise<RangeAnswer> {
  const none = new Map<number, number>();
  try {
    const series = readRangeSeries(name, await client.queryRange(promql, range.start, range.end, range.step));
    if ('unknown' in series) return { points: none, rejected: 0, unknown: series.unknown };
    if (series.points.size > 0) return series;
    return {
      ...series,
      unknown: unknown(name, UnknownReason.Empty, 'the range query returned no points').unknown,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { points: none, rejected: 0, unknown: unknown(name, UnknownReason.Unanswered, message).unknown };
  }
}

/** The Redis signals of the history, read only for a profile that names a Redis. */

/**
 * rebuildHistory reads the engine's history back from Prometheus with one range query per history
 * signal, from `nowSeconds − lookback` to `nowSeconds` every evaluation interval, so a restarted
 * operator or a new leader knows the peak load and past snapshots without state of its own. Times
 * at which any of the engine's signals lacks a point are left out; Redis is part of a snapshot
 * where all six of its signals have a point, and a profile that names no Redis is not asked for
 * them. When the profile's forecast is not Off, one more range query reads the request rate over
 * {@link RATE_HISTORY_SECONDS} in the forecast's 5-minute buckets. Unknown signals are named,
 * never zero; without a Prometheus source the history is empty.
 */
export async function rebuildHistory(
  profile: PerformanceProfile,
  sources: MetricSources,
  nowSeconds: number,
  options: RebuildOptions = {},
): Promise<RebuiltHistory> {
  const client = await sources.prometheus(profile);
  if (!client) {
    return {
      snapshots: [],
      unknown: [unknown('history', UnknownReason.NotQueried, 'spec.metrics.prometheus is not set').unknown],
      rejectedPoints: 0,
    };
  }
  const step = profile.spec.policy.evaluationIntervalSeconds;
  const lookback = options.lookbackSeconds ?? Math.min(86_400, step * HISTORY_SNAPSHOT_LIMIT);
  const range = { start: nowSeconds - lookback, end: nowSeconds, step };
  const vars: QueryVariables = {
    namespace: profile.metadata.namespace ?? 'default',
    deployment: profile.spec.targetRef.name,
  };
  const signals = profile.spec.metrics.redis
    ? HISTORY_SIGNALS
    : HISTORY_SIGNALS.filter((s) => !(REDIS_EXPORTER_SIGNALS as readonly Signal[]).includes(s));
  const forecastOn = (profile.spec.policy.forecast ?? DEFAULT_FORECAST_MODE) !== 'Off';
  const unknowns: UnknownSignal[] = [];
  let rejectedPoints = 0;
  const points: HistoryPoints = {};
  let rates: RateHistory | undefined;
  const take = (answer: RangeAnswer) => {
    rejectedPoints += answer.rejected;
    if (answer.unknown) unknowns.push(answer.unknown);
    return answer.points;
  };
  await Promise.all([
    ...signals.map(async (signal) => {
      const built = signalQuery(profile.spec.metrics.prometheus, signal, vars);
      if ('problem' in built) {
        unknowns.push(unknown(signal, UnknownReason.NotQueried, built.problem).unknown);
        return;
      }
      points[signal] = take(await rangeOf(client, signal, built.query, range));
    }),
    forecastOn
      ? (async () => {
          const built = signalQuery(profile.spec.metrics.prometheus, 'requestsPerSecond', vars);
          if ('problem' in built) {
            unknowns.push(unknown(RATE_HISTORY_SIGNAL, UnknownReason.NotQueried, built.problem).unknown);
            return;
          }
          const r = rateHistoryRange(nowSeconds);
          const answer = await rangeOf(client, RATE_HISTORY_SIGNAL, built.query, {
            start: r.startSeconds,
            end: r.endSeconds,
            step: r.stepSeconds,
          });
          const found = take(answer);
          if (found.size > 0) rates = rateHistoryFromPoints(found);
        })()
      : Promise.resolve(),
  ]);
  count(sources, unknowns);
  return {
    snapshots: historySnapshots(points, step).slice(-HISTORY_SNAPSHOT_LIMIT),
    ...(rates ? { rates } : {}),
    unknown: unknowns,
    rejectedPoints,
  };
}

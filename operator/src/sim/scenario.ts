/**
 * Scenario files: the environment a workload runs in and the load it receives. The format is
 * documented in bench/scenarios/README.md; this module parses YAML or JSON and validates every
 * field, throwing errors that name the field and its allowed range.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FORECAST_MODES, REQUEST_RATE_TARGET_MAX } from '../api/v1alpha1/defaults.ts';
import type { ForecastMode } from '../tuning/types.ts';
import { DEFAULT_HPA_BEHAVIOR, type HpaBehavior } from './hpa.ts';

/** The database. */
export interface DatabaseEnvironment {
  /** maxConnections: PostgreSQL `max_connections`. */
  readonly maxConnections: number;
  /** reservedConnections: `superuser_reserved_connections` and other clients; the API cannot use them. */
  readonly reservedConnections: number;
  /** queryMs: mean query time, for which a pool connection is held. */
  readonly queryMs: number;
  /** cores: the DB's CPU, which every replica's queries share; 0: it never binds. */
  readonly cores: number;
  /** cpuMsPerQuery: DB CPU one query costs (part of queryMs; default all of it), when `cores` is set. */
  readonly cpuMsPerQuery: number;
}

/** One API replica. */
export interface AppEnvironment {
  /** cpuCores: CPU request per replica. */
  readonly cpuCores: number;
  /** cpuMsPerHit: CPU milliseconds a request answered from Redis costs. */
  readonly cpuMsPerHit: number;
  /** cpuMsPerMiss: CPU milliseconds a request that goes to the DB costs. */
  readonly cpuMsPerMiss: number;
  /** workers: concurrent workers per replica (`ASYNC_WORKERS`). */
  readonly workers: number;
  /** hitLatencyMs: fixed latency of a cache hit besides queueing. */
  readonly hitLatencyMs: number;
  /** missLatencyMs: fixed latency of a miss besides queueing and the query. */
  readonly missLatencyMs: number;
  /** podStartupSeconds: from pod creation to ready. */
  readonly podStartupSeconds: number;
  /**
   * hpaTargetCpuUtilization: the HPA's CPU target (0..1) as the user wrote it: where a run starts.
   * The simulated HPA acts on the target in force (`KnobValues.hpaTargetCpuPercent`), which the
   * engine may move.
   */
  readonly hpaTargetCpuUtilization: number;
  /** replicaCeiling: the highest maxReplicas the engine may set. */
  readonly replicaCeiling: number;
}

/** The Redis cache. */
export interface RedisEnvironment {
  /** memoryLimitMiB: the Redis container's memory limit. */
  readonly memoryLimitMiB: number;
  /** keys: distinct keys the API requests. */
  readonly keys: number;
  /** zipfExponent: popularity skew (rank k ∝ k^-s). */
  readonly zipfExponent: number;
  /** valueBytes: mean value size; Redis adds per-key overhead. */
  readonly valueBytes: number;
  /** ttlSeconds: TTL set at insertion (0: none). */
  readonly ttlSeconds: number;
  /**
   * keysLoadExponent: how the number of distinct keys follows the load curve, keys ∝ load^e
   * (`keys` at the first point's load); 0 keeps it fixed, 1 makes it grow as the load does.
   */
  readonly keysLoadExponent: number;
  /**
   * universeReplacedAtMinutes: minutes at which every key is replaced by a new one (a new
   * trading day's instruments, a key-format change): the cache holds only dead keys and warms again.
   */
  readonly universeReplacedAtMinutes: readonly number[];
}

/**
 * What resources cost, to price a run: the verdict compares policies on one figure besides the
 * resource columns, so trading cheap memory for expensive pods shows as the loss it is.
 */
export interface Prices {
  /** podHourPerVcpu: dollars per hour of an API pod per vCPU of its request, memory included. */
  readonly podHourPerVcpu: number;
  /** redisGbHour: dollars per GiB-hour of Redis `maxmemory`. */
  readonly redisGbHour: number;
  /** dbConnectionHour: dollars per hour of one open PostgreSQL connection. */
  readonly dbConnectionHour: number;
}

/** A point of the load curve. */
export interface LoadPoint {
  /** minute: time since the start. */
  readonly minute: number;
  /** rps: requests per second at that minute (linear in between). */
  readonly rps: number;
}

/** A time range in minutes. */
export interface MinuteRange {
  /** fromMinute: start, inclusive. */
  readonly fromMinute: number;
  /** toMinute: end, exclusive. */
  readonly toMinute: number;
}

/** The load over time. */
export interface LoadSpec {
  /** points: the load curve, sorted by minute (from `points` or `csv`). */
  readonly points: readonly LoadPoint[];
  /** noise: relative standard deviation of a slowly varying multiplicative noise (0: none). */
  readonly noise: number;
}

/**
 * Days of load before the judged run, which the engine lives through (its history, the
 * forecast's seasons) but the accounting does not count. Each day has its own noise seed.
 */
export interface HistorySpec {
  /** days: how many days of history precede minute 0 (0: none). */
  readonly days: number;
  /**
   * points: one day's load curve (minutes 0..1440), repeated each day; absent: the judged curve,
   * repeated every `durationMinutes`.
   */
  readonly points?: readonly LoadPoint[];
}

/** A parsed, validated scenario. */
export interface Scenario {
  /** name: short identifier. */
  readonly name: string;
  /** description: what it stresses. */
  readonly description: string;
  /** durationMinutes: simulated time. */
  readonly durationMinutes: number;
  /** seed: the random seed for the noise. */
  readonly seed: number;
  /** db / app / redis: the environment. */
  readonly db: DatabaseEnvironment;
  readonly app: AppEnvironment;
  readonly redis: RedisEnvironment;
  /** load: the arrivals. */
  readonly load: LoadSpec;
  /** metricGaps: ranges where the metric pipeline returns nothing (the engine must fail static). */
  readonly metricGaps: readonly MinuteRange[];
  /** prices: what pods, Redis memory and DB connections cost, for the run's priced cost. */
  readonly prices: Prices;
  /** history: days of load before minute 0, for the engine's history and its forecast. */
  readonly history: HistorySpec;
  /** forecast: the profile's `spec.policy.forecast`; absent: the CRD's default. */
  readonly forecast?: ForecastMode;
  /** hpaRequestRate: the HPA's request-rate metric and the profile's bounds for it; absent: the HPA scales on CPU alone. */
  readonly hpaRequestRate?: HpaRequestRate;
  /** hpaBehavior: the HPA's `spec.behavior` as the user wrote it; Kubernetes' defaults where the scenario sets none. */
  readonly hpaBehavior: HpaBehavior;
}

/**
 * An HPA that also scales on a request-rate Pods metric (`averageValue` requests per second per
 * pod), as the user wrote it, and the bounds their profile gives the operator
 * (`spec.knobs.hpaTarget.requestRate`).
 */
export interface HpaRequestRate {
  /** targetPerPod: the HPA's target as the user wrote it: where a run starts. */
  readonly targetPerPod: number;
  /** minPerPod / maxPerPod: the profile's bounds for the target. */
  readonly minPerPod: number;
  readonly maxPerPod: number;
}

/** Defaults for every optional field; documented in bench/scenarios/README.md. */
export const SCENARIO_DEFAULTS = {
  seed: 1,
  db: { maxConnections: 100, reservedConnections: 3, queryMs: 30, cores: 0 },
  app: {
    cpuCores: 1,
    cpuMsPerHit: 0.4,
    cpuMsPerMiss: 3.5,
    workers: 4,
    hitLatencyMs: 8,
    missLatencyMs: 40,
    podStartupSeconds: 60,
    hpaTargetCpuUtilization: 0.7,
    replicaCeiling: 20,
  },
  redis: {
    memoryLimitMiB: 4096,
    keys: 1_000_000,
    zipfExponent: 0.99,
    valueBytes: 1024,
    ttlSeconds: 3600,
    keysLoadExponent: 0,
    universeReplacedAtMinutes: [],
  },
  noise: 0,
  historyDays: 0,
  /** Kubernetes' default stabilization windows (autoscaling/v2 `behavior`). */
  hpaBehavior: {
    scaleUpStabilizationSeconds: DEFAULT_HPA_BEHAVIOR.scaleUp.stabilizationWindowSeconds,
    scaleDownStabilizationSeconds: DEFAULT_HPA_BEHAVIOR.scaleDown.stabilizationWindowSeconds,
  },
  /**
   * Default prices, the ones issue 13 judges the engine at: $0.048 an hour for a pod of 1 vCPU
   * with its memory (an m6i.large, 2 vCPU and 8 GiB, lists at $0.096 an hour on demand in
   * us-east-1), $0.006 per GiB-hour of Redis memory, $0.0001 per PostgreSQL connection-hour.
   */
  prices: { podHourPerVcpu: 0.048, redisGbHour: 0.006, dbConnectionHour: 0.0001 },
} as const;

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberField(
  raw: Raw,
  path: string,
  key: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  const value = raw[key] ?? fallback;
  const field = path ? `${path}.${key}` : key;
  if (value === undefined) throw new RangeError(`${field} is required: a number in [${min}, ${max}]`);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${field} must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function section(raw: Raw, key: string): Raw {
  const value = raw[key] ?? {};
  if (!isObject(value)) throw new RangeError(`${key} must be a mapping, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A mapping of numbers: each key's value, or its default when absent, checked against its
 * `[min, max]`; the error names `section.key` and the range.
 */
function numberSection<K extends string>(
  raw: Raw,
  key: string,
  defaults: Readonly<Record<NoInfer<K>, number>>,
  ranges: Readonly<Record<K, readonly [min: number, max: number]>>,
): Record<K, number> {
  const values = section(raw, key);
  const out = {} as Record<K, number>;
  for (const field of Object.keys(ranges) as K[]) {
    const [min, max] = ranges[field];
    out[field] = numberField(values, key, field, defaults[field], min, max);
  }
  return out;
}

/** An ascending list of minutes within the run, each checked against its bounds. */
function minuteList(raw: Raw, field: string, fallback: readonly number[], durationMinutes: number): number[] {
  const key = field.split('.').pop() as string;
  const value = raw[key] ?? fallback;
  if (!Array.isArray(value))
    throw new RangeError(`${field} must be a list of minutes, got ${JSON.stringify(value)}`);
  const minutes: number[] = [];
  value.forEach((minute, i) => {
    const min = minutes[i - 1] ?? 0;
    if (typeof minute !== 'number' || !Number.isFinite(minute) || minute < min || minute > durationMinutes) {
      throw new RangeError(
        `${field}[${i}] must be a number in [${min}, ${durationMinutes}], got ${JSON.stringify(minute)}`,
      );
    }
    minutes.push(minute);
  });
  return minutes;
}

function parseCsvLoad(text: string, source: string): LoadPoint[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = lines
    .shift()
    ?.split(',')
    .map((h) => h.trim());
  if (header?.[0] !== 'minute' || header[1] !== 'rps') {
    throw new RangeError(`load.csv ${source} must start with the header "minute,rps"`);
  }
  return lines.map((line, i) => {
    const [minute, rps] = line.split(',').map((c) => Number(c.trim()));
    return { minute: minute ?? Number.NaN, rps: rps ?? Number.NaN, line: i + 2 } as LoadPoint;
  });
}

/** A list of load points, each checked: minutes ascending within [0, lastMinute], rps within [0, 1e7]. */
function pointList(raw: unknown, field: string, lastMinute: number): LoadPoint[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new RangeError(`${field} must be a non-empty list of {minute, rps}`);
  const points: LoadPoint[] = [];
  raw.forEach((p, i) => {
    if (!isObject(p)) throw new RangeError(`${field}[${i}] must be a mapping {minute, rps}`);
    const minute = numberField(
      p,
      `${field}[${i}]`,
      'minute',
      undefined,
      points[i - 1]?.minute ?? 0,
      lastMinute,
    );
    points.push({ minute, rps: numberField(p, `${field}[${i}]`, 'rps', undefined, 0, 10_000_000) });
  });
  return points;
}

/** The `history` section: days of load before the judged run, and optionally one day's curve. */
function parseHistory(raw: Raw): HistorySpec {
  const section = raw.history ?? {};
  if (!isObject(section))
    throw new RangeError(`history must be a mapping {days, points}, got ${JSON.stringify(section)}`);
  const days = numberField(section, 'history', 'days', SCENARIO_DEFAULTS.historyDays, 0, 28);
  if (!Number.isInteger(days))
    throw new RangeError(`history.days must be a whole number in [0, 28], got ${days}`);
  return section.points === undefined
    ? { days }
    : { days, points: pointList(section.points, 'history.points', 1440) };
}

/** The `hpaRequestRate` section, or absent; whole requests per second per pod, min ≤ max. */
function parseHpaRequestRate(raw: Raw): HpaRequestRate | undefined {
  if (raw.hpaRequestRate === undefined) return undefined;
  const values = section(raw, 'hpaRequestRate');
  const whole = (key: string, min: number) => {
    const value = numberField(values, 'hpaRequestRate', key, undefined, min, REQUEST_RATE_TARGET_MAX);
    if (!Number.isInteger(value))
      throw new RangeError(`hpaRequestRate.${key} must be a whole number, got ${value}`);
    return value;
  };
  const minPerPod = whole('minPerPod', 1);
  const maxPerPod = whole('maxPerPod', minPerPod);
  return { targetPerPod: whole('targetPerPod', 1), minPerPod, maxPerPod };
}

/** The largest tolerance a scenario's HPA may set: 1 ignores every ratio from 0 to 2. */
const HPA_TOLERANCE_MAX = 1;

/**
 * The `hpaBehavior` section: the stabilization windows of the user's HPA and, where it sets them,
 * each direction's tolerance (KEP-4951); each direction's rate limits Kubernetes' defaults.
 */
function parseHpaBehavior(raw: Raw): HpaBehavior {
  const windows = numberSection(raw, 'hpaBehavior', SCENARIO_DEFAULTS.hpaBehavior, {
    scaleUpStabilizationSeconds: [0, 3600],
    scaleDownStabilizationSeconds: [0, 3600],
  });
  const section = isObject(raw.hpaBehavior) ? raw.hpaBehavior : {};
  const tolerance = (key: 'scaleUpTolerance' | 'scaleDownTolerance') =>
    section[key] === undefined
      ? {}
      : { tolerance: numberField(section, 'hpaBehavior', key, undefined, 0, HPA_TOLERANCE_MAX) };
  return {
    scaleUp: {
      ...DEFAULT_HPA_BEHAVIOR.scaleUp,
      stabilizationWindowSeconds: windows.scaleUpStabilizationSeconds,
      ...tolerance('scaleUpTolerance'),
    },
    scaleDown: {
      ...DEFAULT_HPA_BEHAVIOR.scaleDown,
      stabilizationWindowSeconds: windows.scaleDownStabilizationSeconds,
      ...tolerance('scaleDownTolerance'),
    },
  };
}

/** The `forecast` field: one of the CRD's modes, or absent. */
function parseForecast(raw: Raw): ForecastMode | undefined {
  const value = raw.forecast;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(FORECAST_MODES as readonly string[]).includes(value))
    throw new RangeError(
      `forecast must be one of ${FORECAST_MODES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return value as ForecastMode;
}

/**
 * Validates a scenario object (as parsed from YAML or JSON). `baseDir` resolves `load.csv`.
 * Throws a RangeError naming the field and its allowed range on the first problem.
 */
export function parseScenario(raw: unknown, baseDir = '.'): Scenario {
  if (!isObject(raw)) throw new RangeError('scenario must be a mapping with name, durationMinutes, load');
  const name = raw.name;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) {
    throw new RangeError(
      `name must be 1-63 lowercase letters, digits or dashes, got ${JSON.stringify(name)}`,
    );
  }
  const description = typeof raw.description === 'string' ? raw.description : '';
  const durationMinutes = numberField(raw, '', 'durationMinutes', undefined, 1, 60 * 24 * 14);
  const seed = numberField(raw, '', 'seed', SCENARIO_DEFAULTS.seed, 0, 2 ** 31);
  const dbRaw = section(raw, 'db');
  const maxConnections = numberField(
    dbRaw,
    'db',
    'maxConnections',
    SCENARIO_DEFAULTS.db.maxConnections,
    2,
    100_000,
  );
  const queryMs = numberField(dbRaw, 'db', 'queryMs', SCENARIO_DEFAULTS.db.queryMs, 0.1, 10_000);
  const db: DatabaseEnvironment = {
    maxConnections,
    reservedConnections: numberField(
      dbRaw,
      'db',
      'reservedConnections',
      SCENARIO_DEFAULTS.db.reservedConnections,
      0,
      maxConnections - 1,
    ),
    queryMs,
    cores: numberField(dbRaw, 'db', 'cores', SCENARIO_DEFAULTS.db.cores, 0, 1024),
    // Unless told otherwise, the whole query is the DB's CPU.
    cpuMsPerQuery: numberField(dbRaw, 'db', 'cpuMsPerQuery', queryMs, 0.01, queryMs),
  };
  const app: AppEnvironment = numberSection(raw, 'app', SCENARIO_DEFAULTS.app, {
    cpuCores: [0.05, 64],
    cpuMsPerHit: [0.001, 10_000],
    cpuMsPerMiss: [0.001, 10_000],
    workers: [1, 1024],
    hitLatencyMs: [0, 60_000],
    missLatencyMs: [0, 60_000],
    podStartupSeconds: [0, 3600],
    hpaTargetCpuUtilization: [0.05, 1],
    replicaCeiling: [2, 1000],
  });
  const redis: RedisEnvironment = {
    ...numberSection(raw, 'redis', SCENARIO_DEFAULTS.redis, {
      memoryLimitMiB: [16, 1_048_576],
      keys: [1, 1e9],
      zipfExponent: [0, 3],
      valueBytes: [1, 512 * 1024 * 1024],
      ttlSeconds: [0, 365 * 86_400],
      keysLoadExponent: [0, 2],
    }),
    universeReplacedAtMinutes: minuteList(
      section(raw, 'redis'),
      'redis.universeReplacedAtMinutes',
      SCENARIO_DEFAULTS.redis.universeReplacedAtMinutes,
      durationMinutes,
    ),
  };
  if (!isObject(raw.load)) throw new RangeError('load is required: a mapping with points or csv');
  const loadRaw = raw.load;
  let points: LoadPoint[];
  if (typeof loadRaw.csv === 'string') {
    const file = resolve(baseDir, loadRaw.csv);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RangeError(`load.csv: cannot read ${file}`, { cause: err });
    }
    points = parseCsvLoad(text, loadRaw.csv);
  } else if (Array.isArray(loadRaw.points)) {
    points = loadRaw.points.map((p, i) => {
      if (!isObject(p)) throw new RangeError(`load.points[${i}] must be a mapping {minute, rps}`);
      return p as unknown as LoadPoint;
    });
  } else {
    throw new RangeError('load.points (a list of {minute, rps}) or load.csv (a file name) is required');
  }
  if (points.length === 0) throw new RangeError('load.points must hold at least one point');
  points.forEach((p, i) => {
    const raw = p as unknown as Raw;
    numberField(
      raw,
      `load.points[${i}]`,
      'minute',
      undefined,
      i === 0 ? 0 : (points[i - 1]?.minute ?? 0),
      durationMinutes,
    );
    numberField(raw, `load.points[${i}]`, 'rps', undefined, 0, 10_000_000);
  });
  const noise = numberField(loadRaw, 'load', 'noise', SCENARIO_DEFAULTS.noise, 0, 1);
  const gapsRaw = raw.metricGaps ?? [];
  if (!Array.isArray(gapsRaw)) throw new RangeError('metricGaps must be a list of {fromMinute, toMinute}');
  const metricGaps = gapsRaw.map((g, i): MinuteRange => {
    if (!isObject(g)) throw new RangeError(`metricGaps[${i}] must be a mapping {fromMinute, toMinute}`);
    const fromMinute = numberField(g, `metricGaps[${i}]`, 'fromMinute', undefined, 0, durationMinutes);
    return {
      fromMinute,
      toMinute: numberField(g, `metricGaps[${i}]`, 'toMinute', undefined, fromMinute, durationMinutes),
    };
  });
  const prices: Prices = numberSection(raw, 'prices', SCENARIO_DEFAULTS.prices, {
    podHourPerVcpu: [0, 1000],
    redisGbHour: [0, 1000],
    dbConnectionHour: [0, 1000],
  });
  return {
    name,
    description,
    durationMinutes,
    seed,
    db,
    app,
    redis,
    load: { points: points.map((p) => ({ minute: p.minute, rps: p.rps })), noise },
    metricGaps,
    prices,
    history: parseHistory(raw),
    ...(parseForecast(raw) ? { forecast: parseForecast(raw) as ForecastMode } : {}),
    ...(raw.hpaRequestRate !== undefined
      ? { hpaRequestRate: parseHpaRequestRate(raw) as HpaRequestRate }
      : {}),
    hpaBehavior: parseHpaBehavior(raw),
  };
}

/** Reads and validates a scenario file (YAML or JSON); errors name the file and the field. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read scenario ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Error(`scenario ${path} is not valid YAML or JSON: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseScenario(raw, dirname(path));
  } catch (err) {
    throw new RangeError(`scenario ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The load at a time, linearly interpolated between points and held after the last. */
export function loadAt(points: readonly LoadPoint[], minute: number): number {
  const first = points[0];
  if (!first) return 0;
  if (minute <= first.minute) return first.rps;
  for (let i = 1; i < points.length; i++) {
    const b = points[i] as LoadPoint;
    if (minute <= b.minute) {
      const a = points[i - 1] as LoadPoint;
      if (b.minute === a.minute) return b.rps;
      return a.rps + ((b.rps - a.rps) * (minute - a.minute)) / (b.minute - a.minute);
    }
  }
  return (points[points.length - 1] as LoadPoint).rps;
}

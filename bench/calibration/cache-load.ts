/**
 * Cache calibration: a Zipf cache-aside load on a real redis-server (one node, `allkeys-lru`,
 * default `maxmemory-samples`), measured from Redis INFO, next to what the simulator's cache
 * model (`operator/src/sim/cache-model.ts`) predicts for the same keys, skew, sizes, memory and
 * TTL. The load is what the risk API does, one request after another: GET, and on a miss SET the
 * value (with `EX` when a TTL is set), each lookup one atomic step on the server, pipelined from
 * Node through ioredis at most PIPELINE_SECONDS of traffic at a time. The risk API's own hit rate
 * under `perfpilot loadtest` is the arbiter of that choice (`cache-api.ts`).
 */
import type { Redis, Result } from 'ioredis';
import {
  CacheModel,
  type CacheState,
  type KeyPopulation,
  redisBytesPerKey,
} from '../../operator/src/sim/cache-model.ts';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
import { zipfSampler } from '../../risk-api/src/zipf.ts';
import { startRedis } from '../../test/cluster/redis.ts';

const MIB = 1024 * 1024;

/** One point of the calibration grid. */
export interface CacheLoadPoint {
  /** keys: distinct keys requested, ranks 0..keys−1 named `data:{rank}` as the risk API does. */
  readonly keys: number;
  /** zipfExponent: popularity skew s. */
  readonly zipfExponent: number;
  /** valueBytes: length of every value. */
  readonly valueBytes: number;
  /** maxmemoryMiB: Redis `maxmemory`. */
  readonly maxmemoryMiB: number;
  /** ttlSeconds: `EX` set on every fill; 0 for none. */
  readonly ttlSeconds: number;
  /**
   * requestsPerSecond paces the load, as a TTL point needs (its hit rate depends on the rate);
   * without it the rate is chosen so that a key's time from last use to eviction is about
   * `turnoverSeconds`.
   */
  readonly requestsPerSecond?: number;
  /**
   * turnoverSeconds: time a key stays after its last use (Che's T), which must be long against
   * Redis's 1 s LRU clock: below a few seconds most sampled keys share an idle time and eviction
   * turns random. Production caches have T in minutes. @default 8
   */
  readonly turnoverSeconds?: number;
  /** settleTurnovers: paced load before measuring, in turnovers (or TTLs if longer). @default 2 */
  readonly settleTurnovers?: number;
  /** measuredTurnovers: length of the measured window in turnovers. @default 4 */
  readonly measuredTurnovers?: number;
}

/** What Redis did, and what the model says, at one grid point. */
export interface CacheCalibration {
  readonly point: CacheLoadPoint;
  /** achievedRps: lookups per second over the measured window. */
  readonly achievedRps: number;
  /** fixedBytes: used_memory of the flushed server with the load's client connected. */
  readonly fixedBytes: number;
  /** real / model: hit rate, used_memory, resident keys, evictions and expirations per lookup. */
  readonly real: CacheFigures;
  readonly model: CacheFigures;
  /** previous: the model before calibration (value + 96 B a key, exact LRU, no fixed memory). */
  readonly previous: CacheFigures;
}

/** The figures compared. */
export interface CacheFigures {
  readonly hitRate: number;
  readonly usedMemoryBytes: number;
  readonly residentKeys: number;
  readonly evictedPerLookup: number;
  readonly expiredPerLookup: number;
}

/** The key name the load uses for a rank: the risk API's `data:{id}` form. */
export const keyName = (rank: number): string => `data:${rank}`;

/**
 * How the load's lookups reach Redis.
 * - `in-order`: each lookup is one atomic cache-aside step on the server (a Lua script: GET, and
 *   on a miss SET), pipelined BATCH at a time, so every lookup sees the fills of all lookups
 *   before it, as one request after another do.
 * - `batched`: BATCH GETs pipelined, then one SET per distinct missed key: a key missed early in
 *   a batch misses again at each later lookup of the batch (the harness of the 2 December
 *   calibration, BATCH 200).
 */
export type LookupMode = 'in-order' | 'batched';

/**
 * Lookups a measured window holds at least: a hit rate from n lookups has a binomial standard
 * error of up to 50/√n points, 0.35 at 20,000, well inside the 1.5-point goal even where few keys
 * (large values) make the paced rate low.
 */
export const MIN_MEASURED_LOOKUPS = 20_000;

/** The most traffic, in seconds of the paced rate, that one pipeline carries. */
export const PIPELINE_SECONDS = 0.01;

/** Lookups sent in one pipeline at most. */
export const BATCH = 200;

/** One cache-aside lookup on the server: GET, and on a miss SET a value of ARGV[1] bytes (EX ARGV[2] when > 0). */
const CACHE_ASIDE_SCRIPT = `
if redis.call('GET', KEYS[1]) then return 1 end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], string.rep('v', tonumber(ARGV[1])), 'EX', ttl)
else
  redis.call('SET', KEYS[1], string.rep('v', tonumber(ARGV[1])))
end
return 0`;

function info(text: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  if (!match) throw new Error(`Redis INFO has no ${field}`);
  return Number(match[1]);
}

async function stats(client: Redis) {
  const text = await client.info();
  return {
    hits: info(text, 'keyspace_hits'),
    misses: info(text, 'keyspace_misses'),
    evicted: info(text, 'evicted_keys'),
    expired: info(text, 'expired_keys'),
    used: info(text, 'used_memory'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How one load is driven: the lookups' path and how many a pipeline carries. */
export interface DriveOptions {
  /** lookups: see LookupMode. @default 'in-order' */
  readonly lookups?: LookupMode;
  /** batch: lookups a pipeline carries. @default BATCH */
  readonly batch?: number;
}

/** Runs `requests` cache-aside lookups, paced at `rps` when it is above 0. */
async function drive(
  client: Redis,
  next: () => number,
  valueBytes: number,
  ttlSeconds: number,
  requests: number,
  rps: number,
  options: DriveOptions = {},
): Promise<void> {
  // A paced pipeline carries at most PIPELINE_SECONDS of lookups: a bigger one would stamp
  // seconds of traffic with one LRU clock reading, coarser than the lookups a service spreads out.
  const batch =
    rps > 0
      ? Math.max(1, Math.min(options.batch ?? BATCH, Math.round(rps * PIPELINE_SECONDS)))
      : (options.batch ?? BATCH);
  const inOrder = (options.lookups ?? 'in-order') === 'in-order';
  const value = inOrder ? '' : 'v'.repeat(valueBytes);
  const started = performance.now();
  for (let sent = 0; sent < requests; ) {
    const n = Math.min(batch, requests - sent);
    const ranks = Array.from({ length: n }, next);
    if (inOrder) {
      const steps = client.pipeline();
      for (const rank of ranks) steps.cacheAside(keyName(rank), valueBytes, ttlSeconds);
      for (const [err] of (await steps.exec()) ?? []) if (err) throw err;
    } else {
      const gets = client.pipeline();
      for (const rank of ranks) gets.get(keyName(rank));
      const replies = (await gets.exec()) ?? [];
      const missed = new Set<number>();
      replies.forEach(([err, reply], i) => {
        if (err) throw err;
        if (reply === null) missed.add(ranks[i] as number);
      });
      if (missed.size > 0) {
        const sets = client.pipeline();
        for (const rank of missed) {
          if (ttlSeconds > 0) sets.set(keyName(rank), value, 'EX', ttlSeconds);
          else sets.set(keyName(rank), value);
        }
        await sets.exec();
      }
    }
    sent += n;
    if (rps > 0) {
      const ahead = started + (sent / rps) * 1000 - performance.now();
      if (ahead > 1) await sleep(ahead);
    }
  }
}

/** Teaches `client` the cache-aside script as a command (`cacheAside(key, valueBytes, ttl)`). */
function defineCacheAside(client: Redis): void {
  client.defineCommand('cacheAside', { numberOfKeys: 1, lua: CACHE_ASIDE_SCRIPT });
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    cacheAside(key: string, valueBytes: number, ttlSeconds: number): Result<number, Context>;
  }
}

/** The empty server's used_memory, with the load's client connected: the model's fixed part. */
async function emptyUsedMemory(client: Redis): Promise<number> {
  await client.flushall();
  await client.memory('PURGE');
  return (await stats(client)).used;
}

/** The uncalibrated model of a point: value + 96 B a key, exact LRU, only keys counted. */
function previousModelOf(point: CacheLoadPoint): CacheModel {
  return new CacheModel({
    keys: point.keys,
    zipfExponent: point.zipfExponent,
    bytesPerKey: point.valueBytes + 96,
    ttlSeconds: point.ttlSeconds,
    hashTables: 0,
    evictionShape: Number.POSITIVE_INFINITY,
    lruClockSpreadSeconds: 0,
    expiredResidentShare: 0,
  });
}

/** The model's figures for a state at `rps` lookups per second. */
function figuresOf(state: CacheState, rps: number): CacheFigures {
  return {
    hitRate: state.hitRate,
    usedMemoryBytes: state.usedMemoryBytes,
    residentKeys: state.residentKeys,
    evictedPerLookup: state.evictedKeysPerSecond / rps,
    expiredPerLookup: state.expiredKeysPerSecond / rps,
  };
}

/** The model of a point, with the empty server's memory measured beside it. */
function modelOf(
  point: CacheLoadPoint,
  fixedBytes: number,
  overrides: Partial<KeyPopulation> = {},
): CacheModel {
  return new CacheModel({
    keys: point.keys,
    zipfExponent: point.zipfExponent,
    bytesPerKey: redisBytesPerKey({
      keyBytes: keyName(Math.floor(point.keys / 2)).length,
      valueBytes: point.valueBytes,
      withTtl: point.ttlSeconds > 0,
    }),
    ttlSeconds: point.ttlSeconds,
    fixedBytes,
    ...overrides,
  });
}

/** Seconds a key stays after its last use, in a state: resident keys over departures per second. */
function turnoverSeconds(state: CacheState): number {
  const leaving = state.evictedKeysPerSecond + state.expiredKeysPerSecond;
  return leaving > 0 ? state.residentKeys / leaving : Number.POSITIVE_INFINITY;
}

/**
 * Measures one grid point on the server `client` talks to (flushed first): every key filled once
 * and a fast warm-up of `keys` lookups, two turnovers at the paced rate to settle, then the
 * measured window; and asks the model for the same point at the measured rate with the empty
 * server's memory. `drives` chooses how lookups reach Redis (in order by default).
 */
export async function calibrateCachePoint(
  client: Redis,
  point: CacheLoadPoint,
  seed = 1,
  drives: DriveOptions = {},
): Promise<CacheCalibration> {
  defineCacheAside(client);
  await client.config('SET', 'maxmemory', '0');
  const fixedBytes = await emptyUsedMemory(client);
  await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
  await client.config('SET', 'maxmemory', String(point.maxmemoryMiB * MIB));
  const cache = modelOf(point, fixedBytes);
  const maxmemory = point.maxmemoryMiB * MIB;
  let rps = point.requestsPerSecond ?? 0;
  if (rps <= 0) {
    // Without a TTL the state scales with the rate: pick the rate that gives the wanted turnover.
    const atOne = turnoverSeconds(cache.state(1, maxmemory));
    rps = Number.isFinite(atOne) ? atOne / (point.turnoverSeconds ?? 8) : 0;
  }
  const turnover = rps > 0 ? Math.min(turnoverSeconds(cache.state(rps, maxmemory)), 600) : 0;
  const random = seededRandom(seed);
  const zipf = zipfSampler(point.keys, point.zipfExponent, random.uniform);
  const load = (next: () => number, requests: number, rate: number) =>
    drive(client, next, point.valueBytes, point.ttlSeconds, requests, rate, drives);
  // Every key once, so no run counts first-time misses (the model is steady state), then a fast warm-up.
  let nextRank = 0;
  await load(() => nextRank++, point.keys, 0);
  await load(zipf.next, point.keys, 0);
  const settle = Number.isFinite(turnover)
    ? (point.settleTurnovers ?? 2) * Math.max(turnover, point.ttlSeconds)
    : 0;
  await load(zipf.next, Math.round(settle * rps), rps);
  const before = await stats(client);
  const t0 = performance.now();
  const measured =
    rps > 0 && Number.isFinite(turnover)
      ? Math.max(
          2 * point.keys,
          MIN_MEASURED_LOOKUPS,
          Math.round((point.measuredTurnovers ?? 4) * turnover * rps),
        )
      : Math.max(4 * point.keys, MIN_MEASURED_LOOKUPS);
  await load(zipf.next, measured, rps);
  const seconds = (performance.now() - t0) / 1000;
  const after = await stats(client);
  const residentKeys = await client.dbsize();
  const lookups = after.hits + after.misses - before.hits - before.misses;
  const achievedRps = lookups / seconds;
  const real: CacheFigures = {
    hitRate: (after.hits - before.hits) / lookups,
    usedMemoryBytes: after.used,
    residentKeys,
    evictedPerLookup: (after.evicted - before.evicted) / lookups,
    expiredPerLookup: (after.expired - before.expired) / lookups,
  };
  const model = figuresOf(cache.state(achievedRps, maxmemory), achievedRps);
  const previous = figuresOf(previousModelOf(point).state(achievedRps, maxmemory), achievedRps);
  return { point, achievedRps, fixedBytes, real, model, previous };
}

/** Starts a real redis-server, measures every point on it in turn, and stops it. */
export async function calibrateCache(
  points: readonly CacheLoadPoint[],
  onPoint?: (result: CacheCalibration) => void,
): Promise<CacheCalibration[]> {
  const server = await startRedis({ password: 'perfpilot-calibration' });
  const client = server.client();
  try {
    const results: CacheCalibration[] = [];
    for (const point of points) {
      const result = await calibrateCachePoint(client, point);
      onPoint?.(result);
      results.push(result);
    }
    return results;
  } finally {
    client.disconnect();
    await server.stop();
  }
}

/** Bytes a resident key takes beyond the empty server: (used_memory − fixed) / resident keys. */
function bytesPerResidentKey(figures: CacheFigures, fixedBytes: number): number {
  return figures.residentKeys > 0 ? (figures.usedMemoryBytes - fixedBytes) / figures.residentKeys : 0;
}

/** The measured turnover: DBSIZE over the keys leaving a second. */
function turnoverSecondsOf(real: CacheFigures, rps: number): string {
  const leaving = (real.evictedPerLookup + real.expiredPerLookup) * rps;
  return leaving > 0 ? (real.residentKeys / leaving).toFixed(1) : '∞';
}

/**
 * A markdown table of results: hit rate, used memory, bytes per resident key and evictions, real
 * next to the calibrated model and the model as it was before calibration.
 */
export function formatCacheCalibration(results: readonly CacheCalibration[]): string {
  const mib = (x: number) => (x / MIB).toFixed(2);
  const pts = (model: number, real: number) =>
    `${(100 * (model - real)) >= 0 ? '+' : ''}${(100 * (model - real)).toFixed(1)}`;
  const pct = (model: number, real: number) =>
    `${model >= real ? '+' : ''}${(100 * (model / real - 1)).toFixed(1)} %`;
  const lines = [
    '| keys × value, Zipf s, maxmemory, TTL | lookups/s | turnover s | hit rate: real · model (Δ pts) · before (Δ) | used_memory MiB: real · model (Δ) · before (Δ) | bytes a key: real · model · before | evicted a lookup: real · model |',
    '| --- | ---: | ---: | --- | --- | --- | --- |',
  ];
  for (const { point: p, achievedRps, fixedBytes, real, model, previous } of results) {
    lines.push(
      `| ${p.keys / 1000}k × ${p.valueBytes} B, ${p.zipfExponent}, ${p.maxmemoryMiB} MiB, ${p.ttlSeconds > 0 ? `${p.ttlSeconds} s` : 'none'} ` +
        `| ${Math.round(achievedRps)} | ${turnoverSecondsOf(real, achievedRps)} ` +
        `| ${real.hitRate.toFixed(3)} · ${model.hitRate.toFixed(3)} (${pts(model.hitRate, real.hitRate)}) · ${previous.hitRate.toFixed(3)} (${pts(previous.hitRate, real.hitRate)}) ` +
        `| ${mib(real.usedMemoryBytes)} · ${mib(model.usedMemoryBytes)} (${pct(model.usedMemoryBytes, real.usedMemoryBytes)}) · ${mib(previous.usedMemoryBytes)} (${pct(previous.usedMemoryBytes, real.usedMemoryBytes)}) ` +
        `| ${Math.round(bytesPerResidentKey(real, fixedBytes))} · ${Math.round(bytesPerResidentKey(model, fixedBytes))} · ${Math.round(bytesPerResidentKey(previous, 0))} ` +
        `| ${real.evictedPerLookup.toFixed(3)} · ${model.evictedPerLookup.toFixed(3)} |`,
    );
  }
  return lines.join('\n');
}

/** Eviction shapes tried by the fit: random eviction (1) to exact LRU (∞). */
export const CANDIDATE_SHAPES = [1, 2, 4, 6, 8, 12, 20, Number.POSITIVE_INFINITY] as const;

/**
 * Root-mean-square hit-rate error (points) of the model with `overrides` over the results that
 * evict and have no TTL, where the eviction law alone decides the hit rate.
 */
function evictingRmsPoints(results: readonly CacheCalibration[], overrides: Partial<KeyPopulation>): number {
  const evicting = results.filter((r) => r.real.evictedPerLookup > 0 && r.point.ttlSeconds === 0);
  let squares = 0;
  for (const r of evicting) {
    const state = modelOf(r.point, r.fixedBytes, overrides).state(r.achievedRps, r.point.maxmemoryMiB * MIB);
    squares += (100 * (state.hitRate - r.real.hitRate)) ** 2;
  }
  return Math.sqrt(squares / Math.max(1, evicting.length));
}

/** The fit of the sampled-LRU shape: {@link evictingRmsPoints} with each candidate shape. */
export function evictionShapeFit(
  results: readonly CacheCalibration[],
): { shape: number; rmsPoints: number }[] {
  return CANDIDATE_SHAPES.map((shape) => ({
    shape,
    rmsPoints: evictingRmsPoints(results, { evictionShape: shape }),
  }));
}

/** LRU clock spreads tried by the fit, in seconds: an exact clock (0) to two seconds. */
export const CANDIDATE_CLOCK_SPREADS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2] as const;

/**
 * The fit of the LRU clock's spread: {@link evictingRmsPoints} with each candidate spread, over
 * results most of them paced to short key lives, where the clock acts.
 */
export function clockSpreadFit(
  results: readonly CacheCalibration[],
): { spreadSeconds: number; rmsPoints: number }[] {
  return CANDIDATE_CLOCK_SPREADS.map((spreadSeconds) => ({
    spreadSeconds,
    rmsPoints: evictingRmsPoints(results, { lruClockSpreadSeconds: spreadSeconds }),
  }));
}

/**
 * Share of resident keys that had expired, where a TTL binds and nothing is evicted: 1 − the
 * model's live keys / DBSIZE.
 */
export function expiredResidentShares(results: readonly CacheCalibration[]): number[] {
  return results
    .filter((r) => r.point.ttlSeconds > 0 && r.real.evictedPerLookup === 0)
    .map((r) => {
      const live = modelOf(r.point, r.fixedBytes, { expiredResidentShare: 0 }).state(
        r.achievedRps,
        r.point.maxmemoryMiB * MIB,
      ).residentKeys;
      return 1 - live / r.real.residentKeys;
    });
}

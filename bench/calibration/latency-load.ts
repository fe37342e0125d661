/**
 * Latency and pool calibration: the real risk API (`perfpilot risk-api`, pinned to one core) on a
 * real PostgreSQL and one redis-server, under the load generator behind `perfpilot loadtest`
 * (one endpoint at a time, Zipf ids or portfolios), at several offered rates, pool sizes and hit
 * rates (the answers' TTL sets the hit rate). Each run yields what the simulator's replica
 * model (`operator/src/sim/latency-model.ts`) takes as input or predicts: CPU per request, the
 * time a miss holds a connection, the hit rate, p95 and the mean pool wait.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { CacheLatency, LoadTestResult } from '../../risk-api/src/load-report.ts';
import { runLoadTest } from '../../risk-api/src/load-test.ts';
import { seedDemoData } from '../../risk-api/src/main.ts';
import { METRIC } from '../../risk-api/src/metrics.ts';
import { parsePrometheusText, sumSamples } from '../../risk-api/src/prometheus-text.ts';
import { type PostgresServer, startPostgres } from '../../test/cluster/postgres.ts';
import { freePort, type ManagedProcess, RunDirectory, waitFor } from '../../test/cluster/processes.ts';
import { type RedisServer, startRedis } from '../../test/cluster/redis.ts';
import { CLOCK_TICKS_PER_SECOND, procCpu } from '../proc-stat.ts';
import { bisectingRate } from './latency-fit.ts';
import { type ApiSetup, type CalibratedEndpoint, type LatencyRun, MEASURED_SECONDS } from './latency-run.ts';

const root = join(import.meta.dirname, '../..');
const password = 'latency-calibration-password';
/** The core the API runs on; the load generator, PostgreSQL and Redis use the others. */
const API_CORE = availableParallelism() - 1;

/** The cache data type of each endpoint's answers, as the API labels its hit and miss counters. */
const DATA_TYPE: Readonly<Record<CalibratedEndpoint, string>> = {
  data: 'default',
  'risk-analysis': 'risk_calculations',
};

/** The stack the runs share: PostgreSQL (seeded) and Redis; one API process per setup. */
export interface LatencyStack {
  readonly postgres: PostgresServer;
  readonly redis: RedisServer;
  readonly dir: RunDirectory;
  stop(): Promise<void>;
}

/** Starts PostgreSQL (seeded with the demo data, `symbolCount` symbols) and one redis-server. */
export async function startLatencyStack(symbolCount?: number): Promise<LatencyStack> {
  const [postgres, redis] = await Promise.all([
    startPostgres({ maxConnections: 100 }),
    startRedis({ password }),
  ]);
  await seedDemoData(postgres.url, symbolCount);
  const dir = new RunDirectory('perfpilot-latency-calibration');
  return {
    postgres,
    redis,
    dir,
    stop: async () => {
      await dir.dispose();
      await Promise.all([postgres.stop(), redis.stop()]);
    },
  };
}

/** A risk API process of the stack. */
export interface Api {
  readonly url: string;
  readonly process: ManagedProcess;
}

/** Starts one risk API on the stack with `setup`, pinned to API_CORE, and waits for /health. */
export async function startApi(stack: LatencyStack, setup: ApiSetup): Promise<Api> {
  const port = await freePort();
  const cli = join(root, 'bin/perfpilot.js');
  const child = stack.dir.start(
    `risk-api-${port}`,
    'taskset',
    [
      '-c',
      String(API_CORE),
      process.execPath,
      cli,
      'risk-api',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    {
      ...process.env,
      DATABASE_URL: stack.postgres.url,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(stack.redis.port),
      REDIS_PASSWORD: password,
      REDIS_CLUSTER: 'false',
      DB_POOL_SIZE: String(setup.poolSize),
      DB_MAX_OVERFLOW: '0',
      ...(setup.endpoint === 'data'
        ? { CACHE_TTL_DEFAULT: String(setup.ttlSeconds) }
        : {
            CACHE_STRATEGIES: JSON.stringify({
              risk_calculations: { ttl: setup.ttlSeconds, strategy: 'cache-aside' },
            }),
          }),
      LOG_LEVEL: 'warn',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `risk API on ${port}`,
    async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined),
    { timeoutMs: 30_000, process: child },
  );
  return { url, process: child };
}

/**
 * The p95 of the hits and of the misses of the one endpoint whose answers the API marked with
 * `x-cache` (a calibration run sends one); empty when none or several did.
 */
export function byCache(result: Pick<LoadTestResult, 'endpoints'>): NonNullable<LatencyRun['byCache']> {
  const marked = result.endpoints.filter(
    (e) => e.latencyFromSendByCacheMs.hit || e.latencyFromSendByCacheMs.miss,
  );
  if (marked.length !== 1) return {};
  const { hit, miss } = (marked[0] as (typeof marked)[number]).latencyFromSendByCacheMs;
  const p95 = (latency: CacheLatency) => ({ answers: latency.answers, p95Ms: latency.p95 });
  return { ...(hit ? { hit: p95(hit) } : {}), ...(miss ? { miss: p95(miss) } : {}) };
}

/** utime + stime of a process, in seconds; 0 once it is gone. */
function cpuSeconds(pid: number | string): number {
  return procCpu(pid)?.ownSeconds ?? 0;
}

/** The machine's idle CPU seconds so far (idle + iowait of /proc/stat's first line). */
function idleSeconds(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/);
  return (Number(fields[4]) + Number(fields[5])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds of a PostgreSQL server's processes (the postmaster and its children, the backends),
 * by pid: only this server's, whatever else runs on the machine.
 */
function postgresCpu(postmaster: number | undefined): Map<string, number> {
  const cpu = new Map<string, number>();
  if (postmaster === undefined) return cpu;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const proc = procCpu(pid);
    if (proc && (Number(pid) === postmaster || proc.ppid === postmaster)) cpu.set(pid, proc.ownSeconds);
  }
  return cpu;
}

/** PostgreSQL's CPU seconds between two readings (backends that ended in between are lost). */
function postgresCpuBetween(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** The API process's pid: taskset execs node, so the child's pid is the API's. */
const pidOf = (api: Api): number => api.process.pid;

async function scrape(url: string) {
  return parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
}

const only = (endpoint: CalibratedEndpoint) => ({
  health: 0,
  'market-data': 0,
  data: 0,
  'risk-analysis': 0,
  'batch-risk-analysis': 0,
  [endpoint]: 1,
});

/**
 * Requests a measured run offers so that its p95 is pinned well inside the calibration's 15 %
 * goal. The p95 of n answers is an order statistic whose rank has a binomial spread of
 * √(n · 0.05 · 0.95); where the tail falls like an exponential's, one rank of that spread moves
 * the p95 by about 1 / (0.05 · n · ln 20) of itself. At 400 requests that is a standard error of
 * 7 %. The 8 s runs at 5 rps (40 requests) had 23 %: runs 9 and 10 of the same grid put one
 * point's p95 at 5 to 40 rps a median 24 % apart (largest 52 %); runs 11 and 12, at 400 requests
 * a run on another machine, 10 % (largest 67 %).
 */
export const MIN_REQUESTS_FOR_P95 = 400;

/** How long a run at `rate` lasts: `seconds`, or longer until `minRequests` were offered. */
export function measuredSeconds(
  rate: number,
  options: Pick<MeasureOptions, 'seconds' | 'minRequests'>,
): number {
  const seconds = options.seconds ?? MEASURED_SECONDS;
  const minRequests = options.minRequests ?? 0;
  return rate > 0 ? Math.max(seconds, Math.ceil(minRequests / rate)) : seconds;
}

/** Options of measureSetup. */
export interface MeasureOptions {
  /** seconds of each measured run, at least. @default MEASURED_SECONDS */
  readonly seconds?: number;
  /**
   * minRequests: a run lasts until about this many requests were offered, however long that
   * takes at a low rate (see {@link MIN_REQUESTS_FOR_P95}). @default 0 (the seconds alone)
   */
  readonly minRequests?: number;
  /** connections of the load generator: enough that the offered rate is sent. @default 64 */
  readonly connections?: number;
  /**
   * refineSaturation: once a rate breaks, bisect between it and the highest rate below it that
   * held until they are within this share of each other, so the saturation point is known finer
   * than the grid's steps. 0 leaves the grid as it is. @default 0
   */
  readonly refineSaturation?: number;
}

/**
 * Starts the API with `setup`, warms it (every portfolio's positions cached, then 3 s of load),
 * and measures each offered rate in turn, lowest first, then the rates that bisect the step where
 * it saturated (`refineSaturation`); stops the API.
 */
export async function measureSetup(
  stack: LatencyStack,
  setup: ApiSetup,
  rates: readonly number[],
  options: MeasureOptions = {},
): Promise<LatencyRun[]> {
  const redis = stack.redis.client();
  await redis.flushall();
  redis.disconnect();
  const api = await startApi(stack, setup);
  const runs: LatencyRun[] = [];
  try {
    const connections = options.connections ?? 64;
    const mix = only(setup.endpoint);
    const lowest = Math.min(...rates);
    await runLoadTest({ url: api.url, phases: [{ durationSeconds: 5, rate: lowest }], connections, mix });
    const measure = async (rate: number) => {
      await runLoadTest({ url: api.url, phases: [{ durationSeconds: 2, rate }], connections, mix });
      const before = await scrape(api.url);
      const cpuBefore = cpuSeconds(pidOf(api));
      const dbCpuBefore = postgresCpu(stack.postgres.serverPid());
      const idleBefore = idleSeconds();
      const measuredFrom = performance.now();
      const seconds = measuredSeconds(rate, options);
      const result = await runLoadTest({
        url: api.url,
        phases: [{ durationSeconds: seconds, rate }],
        connections,
        mix,
        seed: rate,
      });
      const cpu = cpuSeconds(pidOf(api)) - cpuBefore;
      const dbCpu = postgresCpuBetween(dbCpuBefore, postgresCpu(stack.postgres.serverPid()));
      const idle = idleSeconds() - idleBefore;
      const elapsed = (performance.now() - measuredFrom) / 1000;
      const after = await scrape(api.url);
      const delta = (name: string, match: Record<string, string> = {}) =>
        sumSamples(after, name, match) - sumSamples(before, name, match);
      const dataType = { data_type: DATA_TYPE[setup.endpoint] };
      const hits = delta(METRIC.cacheHits, dataType);
      const misses = delta(METRIC.cacheMisses, dataType);
      const waits = delta(`${METRIC.poolWait}_count`);
      runs.push({
        setup,
        offeredRps: rate,
        seconds,
        sentRps: result.requests / seconds,
        achievedRps: result.rps,
        hitRate: hits + misses > 0 ? hits / (hits + misses) : 0,
        p50Ms: result.latencyFromSendMs.p50,
        p95Ms: result.latencyFromSendMs.p95,
        p95FromDueMs: result.latencyMs.p95,
        byCache: byCache(result),
        errorShare: result.requests > 0 ? result.errors / result.requests : 0,
        meanPoolWaitMs: waits > 0 ? (1000 * delta(`${METRIC.poolWait}_sum`)) / waits : 0,
        cpuMsPerRequest: result.requests > 0 ? (1000 * cpu) / result.requests : 0,
        queryMsPerMiss: misses > 0 ? (1000 * delta(`${METRIC.queryDuration}_sum`)) / misses : 0,
        dbCpuMsPerMiss: misses > 0 ? (1000 * dbCpu) / misses : 0,
        dbCores: (dbCpu + idle) / elapsed,
        ...(result.sendLagMs ? { sendLagP99Ms: result.sendLagMs.p99 } : {}),
      });
    };
    for (const rate of [...rates].sort((a, b) => a - b)) await measure(rate);
    const resolution = options.refineSaturation ?? 0;
    for (
      let rate = bisectingRate(runs, resolution);
      rate !== undefined;
      rate = bisectingRate(runs, resolution)
    ) {
      await measure(rate);
    }
  } finally {
    await api.process.stop();
  }
  return runs.sort((a, b) => a.offeredRps - b.offeredRps);
}

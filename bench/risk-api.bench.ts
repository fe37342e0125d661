/**
 * `npm run bench -- risk-api`: requests per second and p50/p95/p99 per endpoint of one risk API
 * process pinned to one core (taskset), with a hot cache (Redis Cluster, every key warmed) and a
 * cold one (no Redis: every request computed from PostgreSQL), side by side in the same run with
 * the physical limit: a bare Fastify handler returning a constant, pinned to the same core.
 * Each measurement runs ROUNDS times, interleaved; the table shows medians and ratios, and where
 * the time goes: the CPU the API process and PostgreSQL (the postmaster and every backend) spent
 * per request, read from /proc before and after each measurement. `--quick` runs one short round,
 * to check the benchmark works, not to measure.
 *
 * Goals from the seed guide: ≥ 1,000 RPS per instance with p95 < 200 ms on the risk-analysis mix,
 * and the cached market-data path within 2× of the bare handler.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MIX, type EndpointName } from '../risk-api/src/load-plan.ts';
import { percentile } from '../risk-api/src/load-report.ts';
import { runLoadTest } from '../risk-api/src/load-test.ts';
import { seedDemoData } from '../risk-api/src/main.ts';
import { SEED_PORTFOLIO_COUNT, seedSymbolNames } from '../risk-api/src/seed-data.ts';
import { startPostgres } from '../test/cluster/postgres.ts';
import { freePort, type ManagedProcess, RunDirectory, waitFor } from '../test/cluster/processes.ts';
import { startRedisCluster } from '../test/cluster/redis.ts';
import { procCpu } from './proc-stat.ts';

/** The suite's own flag: one round of one second, short warm-ups. */
export const options = ['--quick'] as const;
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 1 : 5;
/** Seconds of the warm-up of the hot risk-analysis and batch keys. */
const WARM_SECONDS = quick ? { risk: 1, batch: 1 } : { risk: 8, batch: 4 };
const CONNECTIONS = 16;
/** The core the measured servers run on; the load generator, PostgreSQL and Redis use the others. */
const SERVER_CORE = availableParallelism() - 1;
const root = join(import.meta.dirname, '..');
const password = 'bench-password';

interface Server {
  readonly name: string;
  readonly url: string;
  readonly process: ManagedProcess;
}

async function startPinned(
  dir: RunDirectory,
  name: string,
  args: readonly string[],
  port: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Server> {
  const child = dir.start(name, 'taskset', ['-c', String(SERVER_CORE), process.execPath, ...args], env);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `${name} on ${port}`,
    async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined),
    { timeoutMs: 30_000, process: child },
  );
  return { name, url, process: child };
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** processCpuMs is the CPU `pid` has used, its ended children included. */
function processCpuMs(pid: number): number {
  const own = procCpu(pid);
  return own ? 1000 * (own.ownSeconds + own.childrenSeconds) : 0;
}

/**
 * postgresCpuMs is the CPU the PostgreSQL server has used: the postmaster, its running backends
 * and workers, and (through the postmaster's children times) those that ended.
 */
function postgresCpuMs(postmasterPid: number): number {
  let total = processCpuMs(postmasterPid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = procCpu(entry);
    if (child?.ppid === postmasterPid) total += 1000 * (child.ownSeconds + child.childrenSeconds);
  }
  return total;
}

const only = (endpoint: EndpointName): Record<EndpointName, number> => ({
  health: 0,
  'market-data': 0,
  'price-history': 0,
  data: 0,
  'risk-analysis': 0,
  'batch-risk-analysis': 0,
  [endpoint]: 1,
});

interface Measure {
  readonly label: string;
  readonly server: 'bare' | 'hot' | 'cold';
  readonly mix: Record<EndpointName, number>;
}

const MEASURES: readonly Measure[] = [
  { label: 'bare Fastify: GET /health (constant)', server: 'bare', mix: only('health') },
  { label: 'risk API: GET /health', server: 'hot', mix: only('health') },
  { label: 'market-data, hot cache', server: 'hot', mix: only('market-data') },
  { label: 'market-data, cold (no cache)', server: 'cold', mix: only('market-data') },
  { label: 'data/:id, hot cache', server: 'hot', mix: only('data') },
  { label: 'data/:id, cold (no cache)', server: 'cold', mix: only('data') },
  { label: 'risk-analysis, hot cache', server: 'hot', mix: only('risk-analysis') },
  { label: 'risk-analysis, cold (no cache)', server: 'cold', mix: only('risk-analysis') },
  { label: 'batch of 10, hot cache', server: 'hot', mix: only('batch-risk-analysis') },
  { label: 'default mix, hot cache', server: 'hot', mix: { ...DEFAULT_MIX } },
  { label: 'default mix, cold (no cache)', server: 'cold', mix: { ...DEFAULT_MIX } },
];

/** run prints one table of medians over ROUNDS interleaved rounds. */
export async function run(): Promise<void> {
  const [postgres, cluster] = await Promise.all([
    startPostgres({ maxConnections: 200 }),
    startRedisCluster({ password }),
  ]);
  const dir = new RunDirectory('perfpilot-bench-risk-api');
  try {
    await seedDemoData(postgres.url);
    const cli = join(root, 'bin/perfpilot.js');
    const apiEnv = (redisPort: number, cluster: boolean) => ({
      ...process.env,
      DATABASE_URL: postgres.url,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redisPort),
      REDIS_PASSWORD: password,
      REDIS_CLUSTER: String(cluster),
      LOG_LEVEL: 'warn',
    });
    const barePort = await freePort();
    const bare = await startPinned(
      dir,
      'bare-fastify',
      [join(root, 'bench/peers/bare-fastify.ts'), String(barePort)],
      barePort,
    );
    const hotPort = await freePort();
    const hot = await startPinned(
      dir,
      'risk-api-hot',
      [cli, 'risk-api', '--port', String(hotPort)],
      hotPort,
      apiEnv(cluster.nodes[0]?.port ?? 0, true),
    );
    const coldPort = await freePort();
    const cold = await startPinned(
      dir,
      'risk-api-cold',
      [cli, 'risk-api', '--port', String(coldPort)],
      coldPort,
      apiEnv(await freePort(), false),
    );
    const servers = { bare, hot, cold };
    // Hot means every key the load can ask for is in Redis before the clock starts.
    const symbols = seedSymbolNames();
    for (const [i, symbol] of symbols.entries()) {
      await fetch(`${hot.url}/api/v1/market-data/${symbol}`);
      await fetch(`${hot.url}/api/v1/data/${i + 1}`);
    }
    await runLoadTest({
      url: hot.url,
      phases: [{ durationSeconds: WARM_SECONDS.risk, rate: 0 }],
      connections: CONNECTIONS,
      mix: only('risk-analysis'),
    });
    await runLoadTest({
      url: hot.url,
      phases: [{ durationSeconds: WARM_SECONDS.batch, rate: 0 }],
      connections: CONNECTIONS,
      mix: only('batch-risk-analysis'),
    });

    const postmasterPid = postgres.serverPid();
    if (postmasterPid === undefined) throw new Error('PostgreSQL is not running');
    const results = new Map<
      string,
      {
        rps: number[];
        p50: number[];
        p95: number[];
        p99: number[];
        errors: number;
        hitRate: number[];
        apiCpuMs: number[];
        postgresCpuMs: number[];
      }
    >();
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of MEASURES) {
        const serverPid = servers[m.server].process.pid;
        const apiBefore = processCpuMs(serverPid);
        const postgresBefore = postgresCpuMs(postmasterPid);
        const r = await runLoadTest({
          url: servers[m.server].url,
          phases: [{ durationSeconds: SECONDS, rate: 0 }],
          connections: CONNECTIONS,
          mix: m.mix,
          seed: round + 1,
        });
        const requests = Math.max(1, r.requests);
        const entry = results.get(m.label) ?? {
          rps: [],
          p50: [],
          p95: [],
          p99: [],
          errors: 0,
          hitRate: [],
          apiCpuMs: [],
          postgresCpuMs: [],
        };
        entry.apiCpuMs.push((processCpuMs(serverPid) - apiBefore) / requests);
        entry.postgresCpuMs.push((postgresCpuMs(postmasterPid) - postgresBefore) / requests);
        entry.rps.push(r.rps);
        entry.p50.push(r.latencyMs.p50);
        entry.p95.push(r.latencyMs.p95);
        entry.p99.push(r.latencyMs.p99);
        entry.errors += r.errors;
        if (r.api?.cacheHitRatePercent != null) entry.hitRate.push(r.api.cacheHitRatePercent);
        results.set(m.label, entry);
      }
    }
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const bareRps = median(results.get(MEASURES[0]?.label as string)?.rps ?? [1]);
    console.log(
      `risk API on core ${SERVER_CORE} of ${availableParallelism()} (taskset), ${CONNECTIONS} connections, ` +
        `${SECONDS} s × ${ROUNDS} interleaved rounds, medians; ${symbols.length} symbols, ${SEED_PORTFOLIO_COUNT} portfolios, ` +
        `load average at start ${loadavg()[0]?.toFixed(1)}; CPU per request from /proc: the API process, ` +
        `and PostgreSQL's postmaster and backends\n`,
    );
    console.log(
      '| endpoint | RPS | bare / this | p50 ms | p95 ms | p99 ms | hit rate | API CPU ms/req | PostgreSQL CPU ms/req | errors |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const m of MEASURES) {
      const e = results.get(m.label);
      if (!e) continue;
      const rps = median(e.rps);
      console.log(
        `| ${m.label} | ${rps.toFixed(0)} | ${(bareRps / rps).toFixed(2)}× | ${median(e.p50).toFixed(2)} | ${median(e.p95).toFixed(2)} | ${median(e.p99).toFixed(2)} | ${e.hitRate.length ? `${median(e.hitRate).toFixed(1)} %` : '–'} | ${median(e.apiCpuMs).toFixed(3)} | ${median(e.postgresCpuMs).toFixed(3)} | ${e.errors} |`,
      );
    }
    console.log(
      `\npeak RSS: bare ${peakRssMiB(bare.process.pid)} MiB, risk API hot ${peakRssMiB(hot.process.pid)} MiB, cold ${peakRssMiB(cold.process.pid)} MiB`,
    );
  } finally {
    await dir.dispose();
    await Promise.allSettled([cluster.stop(), postgres.stop()]);
  }
}

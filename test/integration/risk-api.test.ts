/**
 * The risk API as a user runs it (`perfpilot risk-api` as its own process) against a real
 * PostgreSQL and a real 6-node Redis Cluster: answers checked against values computed here from
 * the database, cache entries and TTLs read from Redis, metric counts matching the requests sent,
 * Redis and PostgreSQL stopped and started, the pool resized under load, and bad requests.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationNameOf } from '../../risk-api/src/connection-pool.ts';
import { runLoadTest } from '../../risk-api/src/load-test.ts';
import { METRIC } from '../../risk-api/src/metrics.ts';
import { parsePrometheusText, sumSamples } from '../../risk-api/src/prometheus-text.ts';
import { SEED_LAST_DAY, SEED_SYMBOLS } from '../../risk-api/src/seed-data.ts';
import { type ConfigMapVolume, configMapVolume } from '../cluster/config-map-volume.ts';
import { type PostgresServer, startPostgres } from '../cluster/postgres.ts';
import { freePort, type ManagedProcess, RunDirectory, waitFor } from '../cluster/processes.ts';
import { type RedisCluster, startRedis, startRedisCluster } from '../cluster/redis.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const cli = join(root, 'bin/perfpilot.js');
const password = 'risk-api-test-password';

/** A risk API process started by the test. */
interface ApiProcess {
  readonly url: string;
  readonly process: ManagedProcess;
}

async function startApi(dir: RunDirectory, name: string, env: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  const child = dir.start(
    name,
    process.execPath,
    [cli, 'risk-api', '--port', String(port), '--host', '127.0.0.1'],
    {
      ...process.env,
      LOG_LEVEL: 'info',
      ...env,
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `${name} /health`,
    async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined),
    {
      timeoutMs: 30_000,
      process: child,
    },
  );
  return { url, process: child };
}

async function metrics(url: string) {
  return parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
}

async function post(url: string, path: string, body: unknown, signal?: AbortSignal) {
  return await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** The known series the VaR test holds: two symbols, 60 weekdays, prices from a fixed formula. */
const KNOWN = {
  symbols: [
    { id: 9001, symbol: 'KNOWNA', quantity: 120 },
    { id: 9002, symbol: 'KNOWNB', quantity: 45 },
  ],
  portfolioId: 9001,
  days: Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2025, 9, 1) + i * 86_400_000))
    .filter((d) => d.getUTCDay() !== 0 && d.getUTCDay() !== 6)
    .map((d) => d.toISOString().slice(0, 10)),
  price: (symbol: number, t: number) =>
    Math.round((symbol === 0 ? 100 : 40) * (1 + 0.05 * Math.sin(1.3 * t + symbol) + 0.002 * t) * 10000) /
    10000,
};

/** VaR the textbook way, apart from the API's code: P&L of today's holdings on each past day. */
function expectedVaR(confidence: number, horizon: number) {
  const n = KNOWN.days.length;
  const losses: number[] = [];
  for (let t = 1; t < n; t++) {
    let pnl = 0;
    KNOWN.symbols.forEach((s, i) => {
      const holding = s.quantity * KNOWN.price(i, n - 1);
      pnl += holding * (KNOWN.price(i, t) / KNOWN.price(i, t - 1) - 1);
    });
    losses.push(-pnl);
  }
  // Smallest loss x with P(L ≤ x) ≥ c; the expected shortfall is the mean of the losses ≥ x.
  const x = [...losses]
    .sort((a, b) => a - b)
    .find((l) => losses.filter((m) => m <= l).length >= confidence * losses.length) as number;
  const tail = losses.filter((l) => l >= x);
  const value = KNOWN.symbols.reduce((sum, s, i) => sum + s.quantity * KNOWN.price(i, n - 1), 0);
  return {
    var: x * Math.sqrt(horizon),
    es: (tail.reduce((a, b) => a + b, 0) / tail.length) * Math.sqrt(horizon),
    value,
    observations: n - 1,
  };
}

describe('risk API', () => {
  let postgres: PostgresServer;
  let cluster: RedisCluster;
  let redis: Cluster;
  let dir: RunDirectory;
  let api: ApiProcess;

  beforeAll(async () => {
    [postgres, cluster] = await Promise.all([startPostgres(), startRedisCluster({ password })]);
    const first = await exec(process.execPath, [cli, 'risk-api', 'seed', '--database-url', postgres.url]);
    expect(first.stdout).toMatch(/^seeded 300 symbols, \d+ daily prices, 200 portfolios/);
    const again = await exec(process.execPath, [cli, 'risk-api', 'seed'], {
      env: { ...process.env, DATABASE_URL: postgres.url },
    });
    expect(again.stdout).toContain('already seeded');
    const db = await postgres.client();
    try {
      for (const [i, s] of KNOWN.symbols.entries()) {
        await db.query(
          "INSERT INTO symbols (id, symbol, name, sector, exchange) VALUES ($1, $2, $3, 'Test', 'NYSE')",
          [s.id, s.symbol, `${s.symbol} Test`],
        );
        await db.query(
          'INSERT INTO daily_prices (symbol_id, day, close, volume) SELECT $1, d::date, p, 1000 FROM unnest($2::text[], $3::float8[]) AS x(d, p)',
          [s.id, KNOWN.days, KNOWN.days.map((_, t) => KNOWN.price(i, t))],
        );
      }
      await db.query("INSERT INTO portfolios (id, name, owner) VALUES ($1, 'Known', 'test')", [
        KNOWN.portfolioId,
      ]);
      for (const s of KNOWN.symbols) {
        await db.query(
          'INSERT INTO portfolio_positions (portfolio_id, symbol_id, quantity) VALUES ($1, $2, $3)',
          [KNOWN.portfolioId, s.id, s.quantity],
        );
      }
    } finally {
      await db.end();
    }
    dir = new RunDirectory('perfpilot-risk-api-test');
    api = await startApi(dir, 'risk-api', {
      DATABASE_URL: postgres.url,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(cluster.nodes[0]?.port),
      REDIS_PASSWORD: password,
    });
    redis = new Cluster(
      cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
      { redisOptions: { password }, clusterRetryStrategy: (times) => Math.min(100 * times, 1000) },
    );
    redis.on('error', () => {});
    await waitFor(
      'cache warmed and Redis ready in /ready',
      async () => {
        const ready = (await (await fetch(`${api.url}/ready`)).json()) as { status: string };
        if (ready.status !== 'ready') return undefined;
        const warmed = await Promise.all(SEED_SYMBOLS.map((symbol) => redis.exists(`market_data:${symbol}`)));
        return warmed.every((n) => n === 1) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
  });

  afterAll(async () => {
    redis?.disconnect();
    await dir?.dispose();
    await Promise.allSettled([cluster?.stop(), postgres?.stop()]);
  });

  it('warms the seed’s popular symbols at start and serves them from the cache', async () => {
    expect(SEED_SYMBOLS).toEqual(['AAPL', 'GOOGL', 'MSFT', 'TSLA', 'AMZN']);
    for (const symbol of SEED_SYMBOLS) {
      expect(await redis.ttl(`market_data:${symbol}`), symbol).toBeGreaterThan(0);
    }
    const response = await fetch(`${api.url}/api/v1/market-data/AAPL`);
    expect(response.headers.get('x-cache')).toBe('HIT');
  });

  it('answers market data as stored in PostgreSQL, cached 60 s, public for 60 s', async () => {
    const db = await postgres.client();
    const { rows } = await db.query<{ symbol: string; close: number }>(
      'SELECT s.symbol, d.close FROM symbols s JOIN daily_prices d ON d.symbol_id = s.id WHERE s.id = 150 ORDER BY d.day DESC LIMIT 2',
    );
    await db.end();
    const [last, previous] = rows as [{ symbol: string; close: number }, { close: number }];
    const first = await fetch(`${api.url}/api/v1/market-data/${last.symbol.toLowerCase()}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    const body = (await first.json()) as Record<string, number | string>;
    expect(body).toMatchObject({
      symbol: last.symbol,
      price: last.close,
      previous_close: previous.close,
      as_of: SEED_LAST_DAY,
    });
    expect(body.change_percent).toBeCloseTo((100 * (last.close - previous.close)) / previous.close, 3);
    const ttl = await redis.ttl(`market_data:${last.symbol}`);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    const second = await fetch(`${api.url}/api/v1/market-data/${last.symbol}`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(await second.json()).toEqual(body);
  });

  it('answers /api/v1/data/:id cache-aside with CACHE_TTL_DEFAULT (300 s)', async () => {
    const first = await fetch(`${api.url}/api/v1/data/42`);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const db = await postgres.client();
    const { rows } = await db.query(
      'SELECT id, symbol, name, sector, currency, exchange FROM symbols WHERE id = 42',
    );
    await db.end();
    expect(await first.json()).toEqual(rows[0]);
    const ttl = await redis.ttl('data:42');
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    expect((await fetch(`${api.url}/api/v1/data/42`)).headers.get('x-cache')).toBe('HIT');
  });

  it('answers a symbol’s whole price history, oldest first, cached as static data for an hour', async () => {
    const db = await postgres.client();
    const { rows } = await db.query<{ symbol: string; day: string; close: number; volume: string }>(
      "SELECT s.symbol, to_char(d.day, 'YYYY-MM-DD') AS day, d.close, d.volume FROM symbols s JOIN daily_prices d ON d.symbol_id = s.id WHERE s.id = 77 ORDER BY d.day",
    );
    await db.end();
    const symbol = rows[0]?.symbol as string;
    const first = await fetch(`${api.url}/api/v1/market-data/${symbol.toLowerCase()}/history`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('cache-control')).toBe('public, max-age=3600');
    const body = await first.json();
    expect(body).toEqual({
      symbol,
      currency: 'USD',
      from: rows[0]?.day,
      to: SEED_LAST_DAY,
      prices: rows.map((r) => ({ day: r.day, close: r.close, volume: Number(r.volume) })),
    });
    const ttl = await redis.ttl(`static_data:price_history:${symbol}`);
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);
    const second = await fetch(`${api.url}/api/v1/market-data/${symbol}/history`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(await second.json()).toEqual(body);
    const unknown = await fetch(`${api.url}/api/v1/market-data/NOPE/history`);
    expect(unknown.status).toBe(404);
  });

  it('seed --symbols adds the symbols that are missing, each with its prices, and keeps the others', async () => {
    const db = await postgres.client();
    const count = async () =>
      (
        await db.query<{ symbols: string; prices: string }>(
          'SELECT (SELECT count(*) FROM symbols WHERE id <= 305) AS symbols, (SELECT count(*) FROM daily_prices WHERE symbol_id <= 305) AS prices',
        )
      ).rows[0];
    try {
      const before = await count();
      const seeded = await exec(process.execPath, [cli, 'risk-api', 'seed', '--symbols', '305'], {
        env: { ...process.env, DATABASE_URL: postgres.url },
      });
      expect(seeded.stdout).toMatch(/^seeded 305 symbols, \d+ daily prices, 200 portfolios/);
      const after = await count();
      expect(Number(after?.symbols)).toBe(Number(before?.symbols) + 5);
      expect(Number(after?.prices)).toBe((Number(before?.prices) / 300) * 305);
    } finally {
      await db.end();
    }
  });

  it('computes VaR by historical simulation as the definition gives, and caches it 300 s', async () => {
    const response = await post(api.url, '/api/v1/risk-analysis', {
      portfolio_id: KNOWN.portfolioId,
      confidence_level: 0.95,
      time_horizon_days: 10,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, max-age=300');
    expect(response.headers.get('x-cache')).toBe('MISS');
    const body = (await response.json()) as {
      portfolio_value: number;
      observations: number;
      value_at_risk: { confidence_level: number; var: number; expected_shortfall: number }[];
    };
    const expected = expectedVaR(0.95, 10);
    expect(body.observations).toBe(expected.observations);
    expect(body.portfolio_value).toBeCloseTo(expected.value, 2);
    expect(body.value_at_risk).toHaveLength(1);
    expect(Math.abs((body.value_at_risk[0]?.var ?? 0) - expected.var)).toBeLessThanOrEqual(0.005);
    expect(Math.abs((body.value_at_risk[0]?.expected_shortfall ?? 0) - expected.es)).toBeLessThanOrEqual(
      0.005,
    );

    // Without a confidence level: the seed's var_95 and var_99.
    const both = (await (
      await post(api.url, '/api/v1/risk-analysis', { portfolio_id: KNOWN.portfolioId })
    ).json()) as {
      value_at_risk: { confidence_level: number; var: number }[];
    };
    expect(both.value_at_risk.map((v) => v.confidence_level)).toEqual([0.95, 0.99]);
    expect(Math.abs((both.value_at_risk[1]?.var ?? 0) - expectedVaR(0.99, 1).var)).toBeLessThanOrEqual(0.005);

    // Write-behind: the entry lands just after the answer.
    const key = `risk_calculations:${KNOWN.portfolioId}:10:0.95`;
    await waitFor('the risk entry in Redis', async () => ((await redis.exists(key)) ? true : undefined), {
      timeoutMs: 5000,
    });
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    expect(await redis.ttl(`static_data:portfolio:${KNOWN.portfolioId}`)).toBeGreaterThan(3500);
    const again = await post(api.url, '/api/v1/risk-analysis', {
      portfolio_id: KNOWN.portfolioId,
      confidence_level: 0.95,
      time_horizon_days: 10,
    });
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(await again.json()).toEqual(body);
  });

  it('answers a batch in request order, each as the single endpoint does, errors per item', async () => {
    const requests = [
      { portfolio_id: KNOWN.portfolioId, confidence_level: 0.99, time_horizon_days: 5 },
      { portfolio_id: 3 },
      { portfolio_id: 99_999 },
      { portfolio_id: KNOWN.portfolioId, confidence_level: 0.95, time_horizon_days: 10 },
    ];
    const response = await post(api.url, '/api/v1/batch-risk-analysis', requests);
    expect(response.status).toBe(200);
    const results = (await response.json()) as Record<string, unknown>[];
    expect(results).toHaveLength(4);
    for (const i of [0, 1, 3]) {
      const single = await (await post(api.url, '/api/v1/risk-analysis', requests[i])).json();
      expect(results[i], `item ${i}`).toEqual(single);
    }
    expect(results[2]).toEqual({
      portfolio_id: 99_999,
      status: 404,
      error: 'Not Found',
      message: 'portfolio_id: no portfolio with id 99999',
      field: 'portfolio_id',
    });
  });

  it('exports the seed’s metrics with counts that match the requests sent', async () => {
    await fetch(`${api.url}/api/v1/market-data/MSFT`); // cached from here on
    const before = await metrics(api.url);
    for (let i = 0; i < 7; i++) expect((await fetch(`${api.url}/api/v1/market-data/MSFT`)).status).toBe(200);
    for (let i = 0; i < 3; i++) await post(api.url, '/api/v1/risk-analysis', { portfolio_id: 0 });
    const after = await metrics(api.url);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sumSamples(after, name, labels) - sumSamples(before, name, labels);
    const marketData = { method: 'GET', route: '/api/v1/market-data/:symbol', status_code: '200' };
    expect(delta(`${METRIC.requestDuration}_count`, marketData)).toBe(7);
    expect(delta(`${METRIC.requestDuration}_bucket`, { ...marketData, le: '+Inf' })).toBe(7);
    expect(
      delta(`${METRIC.requestDuration}_count`, {
        method: 'POST',
        route: '/api/v1/risk-analysis',
        status_code: '400',
      }),
    ).toBe(3);
    expect(delta(METRIC.cacheHits, { data_type: 'market_data' })).toBe(7);
    expect(delta(METRIC.cacheMisses, { data_type: 'market_data' })).toBe(0);
    for (const name of [
      METRIC.connectionsActive,
      METRIC.poolSize,
      METRIC.poolMaxOverflow,
      `${METRIC.poolWait}_bucket`,
      `${METRIC.queryDuration}_bucket`,
    ]) {
      expect(after.has(name), name).toBe(true);
    }
    expect(sumSamples(after, METRIC.poolSize)).toBe(20);
    expect(sumSamples(after, METRIC.poolMaxOverflow)).toBe(30);
    expect(sumSamples(after, METRIC.cacheAvailable)).toBe(1);
  });

  const json = 'application/json';
  const badRequests: {
    method: 'GET' | 'POST';
    path: string;
    body?: string;
    type?: string;
    status: number;
    message: string;
  }[] = [
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '{"portfolio_id": 1',
      type: json,
      status: 400,
      message: 'body: malformed JSON',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '',
      type: json,
      status: 400,
      message: 'body: empty',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: 'portfolio_id=1',
      type: 'text/plain',
      status: 415,
      message: 'content-type: send application/json',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '{}',
      type: json,
      status: 400,
      message: 'portfolio_id: must be a positive integer, got nothing',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '{"portfolio_id":1,"confidence_level":1.5}',
      type: json,
      status: 400,
      message: 'confidence_level: must be a number above 0 and below 1',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '{"portfolio_id":1,"confidence_level":0}',
      type: json,
      status: 400,
      message: 'confidence_level: must be',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '{"portfolio_id":1,"time_horizon_days":0}',
      type: json,
      status: 400,
      message: 'time_horizon_days: must be an integer from 1 to 250',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '{"portfolio_id":1,"time_horizon_days":1000}',
      type: json,
      status: 400,
      message: 'time_horizon_days: must be',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: '{"portfolio_id":99999}',
      type: json,
      status: 404,
      message: 'portfolio_id: no portfolio with id 99999',
    },
    {
      method: 'POST',
      path: '/api/v1/risk-analysis',
      body: `{"portfolio_id":1,"pad":"${'x'.repeat(300_000)}"}`,
      type: json,
      status: 413,
      message: 'body: larger than',
    },
    {
      method: 'POST',
      path: '/api/v1/batch-risk-analysis',
      body: JSON.stringify(Array.from({ length: 101 }, () => ({ portfolio_id: 1 }))),
      type: json,
      status: 400,
      message: 'body: a batch holds at most 100 requests, got 101',
    },
    {
      method: 'POST',
      path: '/api/v1/batch-risk-analysis',
      body: '{}',
      type: json,
      status: 400,
      message: 'body: must be a JSON array',
    },
    {
      method: 'POST',
      path: '/api/v1/batch-risk-analysis',
      body: '[{"portfolio_id":1},{"portfolio_id":1,"confidence_level":2}]',
      type: json,
      status: 400,
      message: '[1].confidence_level: must be',
    },
    { method: 'GET', path: '/api/v1/market-data/NOPE', status: 404, message: 'symbol: unknown symbol NOPE' },
    {
      method: 'GET',
      path: `/api/v1/market-data/${encodeURIComponent("AAPL' OR '1'='1")}`,
      status: 400,
      message: 'symbol: must be 1-10 letters',
    },
    { method: 'GET', path: '/api/v1/data/abc', status: 400, message: 'id: must be a positive integer' },
    {
      method: 'GET',
      path: '/api/v1/data/1%3BDROP%20TABLE%20symbols',
      status: 400,
      message: 'id: must be a positive integer',
    },
    { method: 'GET', path: '/api/v1/data/999999', status: 404, message: 'id: no data with id 999999' },
    { method: 'GET', path: '/api/v2/nothing', status: 404, message: 'no route GET /api/v2/nothing' },
  ];

  it.each(badRequests)(
    '$method $path → $status $message',
    async ({ method, path, body, type, status, message }) => {
      const response = await fetch(`${api.url}${path}`, {
        method,
        ...(type ? { headers: { 'content-type': type } } : {}),
        ...(body !== undefined ? { body } : {}),
      });
      expect(response.status).toBe(status);
      const answer = (await response.json()) as { message: string };
      expect(answer.message).toContain(message);
      expect(api.process.isRunning()).toBe(true);
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
    },
  );

  it('perfpilot loadtest reports per endpoint and the API’s hit rate and pool usage from its /metrics', async () => {
    const { stdout, stderr } = await exec(process.execPath, [
      cli,
      'loadtest',
      api.url,
      '--rate',
      '100',
      '--duration',
      '3',
      '--connections',
      '4',
      '--json',
    ]);
    const report = JSON.parse(stdout) as {
      requests: number;
      errors: number;
      endpoints: { endpoint: string; requests: number }[];
      api: { cacheHitRatePercent: number; poolCapacity: number } | null;
    };
    expect(report.requests).toBeGreaterThan(20);
    expect(report.errors).toBe(0);
    expect(report.endpoints.map((e) => e.endpoint)).toEqual(
      expect.arrayContaining(['/api/v1/market-data/:symbol', '/api/v1/risk-analysis']),
    );
    expect(report.endpoints.reduce((n, e) => n + e.requests, 0)).toBe(report.requests);
    expect(report.api?.poolCapacity).toBe(50);
    expect(report.api?.cacheHitRatePercent).toBeGreaterThan(0);
    expect(stderr).toMatch(/phase 1\/1 \(100\/s\): \d+\/3 s/);
    const text = await exec(process.execPath, [cli, 'loadtest', api.url, '--rate', '50', '--duration', '1']);
    expect(text.stdout).toMatch(/^Load Test Results \(/);
    expect(text.stdout).toMatch(/\n {2}\/api\/v1\/market-data\/:symbol: [\d.,]+ RPS, 0\.0% errors\n/);
    expect(text.stdout).toMatch(/Average Response Time: \d+ms\n {2}95th Percentile: \d+ms/);
    expect(text.stdout).toMatch(/Cache Hit Rate: [\d.]+% \(\d+ hits, \d+ misses\)/);
    expect(text.stdout).toContain('Connection Pool Usage: peak');
  });

  it('serves without Redis when the cluster is down, says so, and uses the cache again when it is back', async () => {
    for (const node of cluster.nodes) await cluster.stopNode(node.port);
    await waitFor(
      '/ready degraded',
      async () => {
        await fetch(`${api.url}/api/v1/market-data/GOOGL`); // traffic: failed lookups tell Redis is gone
        const r = await fetch(`${api.url}/ready`);
        const body = (await r.json()) as { status: string; redis: string };
        return r.status === 200 && body.status === 'degraded' ? body : undefined;
      },
      { timeoutMs: 20_000 },
    ).then((body) => expect(body.redis).toContain('serving without the cache'));
    const before = await metrics(api.url);
    expect(sumSamples(before, METRIC.cacheAvailable)).toBe(0);
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${api.url}/api/v1/market-data/GOOGL`);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-cache')).toBe('MISS');
    }
    const during = await metrics(api.url);
    expect(sumSamples(during, METRIC.cacheHits) - sumSamples(before, METRIC.cacheHits)).toBe(0);
    expect(
      sumSamples(during, METRIC.cacheMisses, { data_type: 'market_data' }) -
        sumSamples(before, METRIC.cacheMisses, { data_type: 'market_data' }),
    ).toBe(5);

    await Promise.all(cluster.nodes.map((n) => cluster.startNode(n.port)));
    await waitFor(
      '/ready ready again',
      async () => {
        const body = (await (await fetch(`${api.url}/ready`)).json()) as { status: string };
        return body.status === 'ready' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await waitFor(
      'a cache hit after Redis came back',
      async () => {
        await fetch(`${api.url}/api/v1/market-data/GOOGL`);
        const r = await fetch(`${api.url}/api/v1/market-data/GOOGL`);
        return r.headers.get('x-cache') === 'HIT' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(sumSamples(await metrics(api.url), METRIC.cacheHits)).toBeGreaterThan(
      sumSamples(during, METRIC.cacheHits),
    );
  });

  it('finds a standalone Redis node to be one (REDIS_CLUSTER=auto) and caches in it', async () => {
    const node = await startRedis({ password });
    const standalone = await startApi(dir, 'risk-api-standalone', {
      DATABASE_URL: postgres.url,
      REDIS_HOST: node.host,
      REDIS_PORT: String(node.port),
      REDIS_PASSWORD: password,
    });
    const client = node.client();
    try {
      await waitFor(
        'standalone Redis in /ready',
        async () => {
          const body = (await (await fetch(`${standalone.url}/ready`)).json()) as {
            status: string;
            redis: string;
          };
          return body.status === 'ready' && body.redis === 'up (standalone)' ? true : undefined;
        },
        { timeoutMs: 20_000 },
      );
      expect((await fetch(`${standalone.url}/api/v1/data/7`)).headers.get('x-cache')).toBe('MISS');
      expect((await fetch(`${standalone.url}/api/v1/data/7`)).headers.get('x-cache')).toBe('HIT');
      expect(await client.ttl('data:7')).toBeGreaterThan(290);
    } finally {
      client.disconnect();
      await standalone.process.stop();
      await node.stop();
    }
  });

  describe('pool resize under load', () => {
    let volume: ConfigMapVolume;
    let resizable: ApiProcess;

    beforeAll(async () => {
      volume = configMapVolume({ DB_POOL_SIZE: '2', DB_MAX_OVERFLOW: '1', CACHE_TTL_DEFAULT: '300' });
      // No Redis (nothing listens on the port): every request reaches the database.
      resizable = await startApi(dir, 'risk-api-resizable', {
        DATABASE_URL: postgres.url,
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(await freePort()),
        REDIS_CLUSTER: 'false',
        DB_POOL_SIZE: '2',
        DB_MAX_OVERFLOW: '1',
        TUNING_CONFIG_DIR: volume.dir,
        LOG_LEVEL: 'debug',
      });
      // Ready means migrated: the load must not start before (it would get 503s by design).
      await waitFor(
        'the resizable API ready',
        async () => ((await fetch(`${resizable.url}/ready`)).status === 200 ? true : undefined),
        { timeoutMs: 30_000 },
      );
    });

    afterAll(async () => {
      await resizable?.process.stop();
      volume?.remove();
    });

    it('grows and shrinks with the mounted ConfigMap: no failed request, never above size + overflow', async () => {
      const samples: { active: number; size: number; overflow: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const m = await metrics(resizable.url);
          samples.push({
            active: sumSamples(m, METRIC.connectionsActive),
            size: sumSamples(m, METRIC.poolSize),
            overflow: sumSamples(m, METRIC.poolMaxOverflow),
          });
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const sizeIs = (size: number) =>
        waitFor(`pool size ${size}`, async () => (samples.at(-1)?.size === size ? true : undefined), {
          timeoutMs: 10_000,
          intervalMs: 20,
        });
      const load = runLoadTest({
        url: resizable.url,
        phases: [{ durationSeconds: 8, rate: 150 }],
        connections: 8,
        mix: { 'risk-analysis': 3, 'market-data': 1, data: 1, health: 0, 'batch-risk-analysis': 0 },
      });
      await new Promise((r) => setTimeout(r, 2000));
      volume.update({ DB_POOL_SIZE: '6', DB_MAX_OVERFLOW: '4', CACHE_TTL_DEFAULT: '300' });
      await sizeIs(6);
      await new Promise((r) => setTimeout(r, 2000));
      volume.update({ DB_POOL_SIZE: '1', DB_MAX_OVERFLOW: '1', CACHE_TTL_DEFAULT: '300' });
      await sizeIs(1);
      const shrunkAt = samples.length;
      const result = await load;
      sampling = false;
      await sampler;

      const statuses = Object.fromEntries(result.endpoints.map((e) => [e.endpoint, e.statusCounts]));
      const log = resizable.process.logTail(30);
      expect(result.requests).toBeGreaterThan(100);
      for (const e of result.endpoints)
        expect(Object.keys(e.statusCounts), `${e.endpoint}\n${log}`).toEqual(['200']);
      expect(result.errors, JSON.stringify(statuses)).toBe(0);
      for (const s of samples) expect(s.active).toBeLessThanOrEqual(s.size + s.overflow);
      for (const s of samples.slice(shrunkAt)) expect(s.active).toBeLessThanOrEqual(2);
      expect(samples.some((s) => s.size === 6 && s.overflow === 4)).toBe(true);
      // PostgreSQL's own count of this process's connections agrees once the surplus is closed.
      const db = await postgres.client();
      try {
        await waitFor(
          'at most 2 connections of the resized API in pg_stat_activity',
          async () => {
            const { rows } = await db.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
              [applicationNameOf(resizable.process.pid)],
            );
            return (rows[0]?.n ?? 99) <= 2 ? true : undefined;
          },
          { timeoutMs: 10_000 },
        );
      } finally {
        await db.end();
      }
    });
  });

  it('fails readiness and answers 503 with a message while PostgreSQL is down, and recovers', async () => {
    let late: ApiProcess | undefined;
    await postgres.stopServer();
    try {
      const ready = await fetch(`${api.url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { database: string }).database).toMatch(/^down: /);
      const response = await post(
        api.url,
        '/api/v1/risk-analysis',
        { portfolio_id: 77, confidence_level: 0.9, time_horizon_days: 3 },
        AbortSignal.timeout(5000),
      );
      expect(response.status).toBe(503);
      expect(((await response.json()) as { message: string }).message).toContain('database unavailable');
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
      // A replica that starts while the database is down serves /health, is not ready, and waits.
      late = await startApi(dir, 'risk-api-late', { DATABASE_URL: postgres.url, REDIS_CLUSTER: 'false' });
      const lateReady = await fetch(`${late.url}/ready`);
      expect(lateReady.status).toBe(503);
      expect(((await lateReady.json()) as { database: string }).database).toContain(
        'schema not migrated yet',
      );
      const early = await fetch(`${late.url}/api/v1/data/1`);
      expect(early.status).toBe(503);
      expect(((await early.json()) as { message: string }).message).toContain('schema is not migrated yet');
    } finally {
      await postgres.startServer();
    }
    for (const url of [api.url, late?.url ?? api.url]) {
      await waitFor(
        `${url}/ready after PostgreSQL is back`,
        async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined),
        { timeoutMs: 20_000, intervalMs: 200 },
      );
    }
    expect((await fetch(`${late?.url}/api/v1/data/1`)).status).toBe(200);
    await late?.process.stop();
    const response = await post(api.url, '/api/v1/risk-analysis', {
      portfolio_id: 77,
      confidence_level: 0.9,
      time_horizon_days: 3,
    });
    expect(response.status).toBe(200);
  });
});

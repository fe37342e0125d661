/**
 * The risk API under generated requests: `perfpilot risk-api` as its own process against a real
 * PostgreSQL (seeded) and a real redis-server, sent requests drawn by fast-check with a fixed seed
 * (methods, paths near and far from the routes, query strings, headers, JSON and non-JSON bodies
 * of many sizes). With every dependency up, no answer is a 5xx, the process never exits, and its
 * memory stays flat between a first and a last batch of the same size.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../../risk-api/src/http-server.ts';
import { type PostgresServer, startPostgres } from '../cluster/postgres.ts';
import { freePort, type ManagedProcess, RunDirectory, waitFor } from '../cluster/processes.ts';
import { type RedisServer, startRedis } from '../cluster/redis.ts';

const exec = promisify(execFile);
const cli = join(import.meta.dirname, '../..', 'bin/perfpilot.js');
const password = 'fuzz-risk-api-password';
/** The fixed seed of every draw: the same requests on every run. */
const SEED = 2026;
/** Requests per batch; the memory check compares the first batch's end with the last's. */
const BATCH = 300;
const BATCHES = 4;
/** RSS growth allowed from the end of the first batch to the end of the last (allocator noise, JIT). */
const FLAT_MEMORY_MIB = 40;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;
const ROUTES = [
  '/health',
  '/ready',
  '/metrics',
  '/api/v1/market-data/',
  '/api/v1/data/',
  '/api/v1/risk-analysis',
  '/api/v1/batch-risk-analysis',
  '/api/',
  '/',
];

/** A generated request: method, path with query, headers and body. */
interface FuzzRequest {
  readonly method: (typeof METHODS)[number];
  readonly path: string;
  readonly headers: Record<string, string>;
  /** body is text, or a JSON body padded to `padTo` bytes. */
  readonly body: string | { readonly padTo: number } | undefined;
}

const segment = fc.oneof(
  fc.constantFrom(
    'AAPL',
    'MSFT',
    '1',
    '0',
    '-1',
    '99999999999999999999',
    'history',
    '..',
    '%00',
    '%2e%2e',
    'ü',
  ),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);
const jsonBody = fc.oneof(
  fc.record(
    {
      portfolio_id: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.string(), fc.constant(null)),
      confidence_levels: fc.array(fc.oneof(fc.double(), fc.constant(0.95), fc.string()), { maxLength: 5 }),
      time_horizon_days: fc.oneof(fc.integer({ min: -10, max: 400 }), fc.constant('10')),
    },
    { requiredKeys: [] },
  ),
  fc.array(fc.record({ portfolio_id: fc.integer({ min: 0, max: 250 }) }), { maxLength: 60 }),
  fc.jsonValue({ maxDepth: 4 }),
);
const requestArbitrary: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom(...METHODS),
  path: fc
    .tuple(
      fc.constantFrom(...ROUTES),
      fc.array(segment, { maxLength: 3 }),
      fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 4 })),
    )
    .map(([route, parts, query]) => {
      const q = query ? `?${new URLSearchParams(query)}` : '';
      return `${route}${parts.join('/')}${q}`;
    }),
  headers: fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
      ),
      accept: fc.constantFrom('*/*', 'application/json', 'text/html'),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'gzip;q=0, *;q=0'),
      'x-fuzz': fc.string({ maxLength: 2000 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x')),
    },
    { requiredKeys: [] },
  ),
  body: fc.oneof(
    fc.constant(undefined),
    jsonBody.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 300 }),
    // Sizes around the body limit and far past it (built when sent: the draws stay small).
    fc
      .constantFrom(BODY_LIMIT_BYTES - 100, BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1, 4 * BODY_LIMIT_BYTES)
      .map((n) => ({ padTo: n })),
  ),
});

let postgres: PostgresServer;
let redis: RedisServer;
let dir: RunDirectory;
let api: ManagedProcess;
let url: string;

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis({ password })]);
  await exec(process.execPath, [cli, 'risk-api', 'seed', '--database-url', postgres.url]);
  dir = new RunDirectory('perfpilot-fuzz-risk-api');
  const port = await freePort();
  api = dir.start(
    'risk-api',
    process.execPath,
    [cli, 'risk-api', '--port', String(port), '--host', '127.0.0.1'],
    {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATABASE_URL: postgres.url,
      REDIS_HOST: redis.host,
      REDIS_PORT: String(redis.port),
      REDIS_PASSWORD: password,
    },
  );
  url = `http://127.0.0.1:${port}`;
  await waitFor(
    'risk API ready',
    async () => ((await fetch(`${url}/ready`).catch(() => undefined))?.ok ? true : undefined),
    { timeoutMs: 60_000, process: api },
  );
}, 180_000);

afterAll(async () => {
  await dir?.dispose();
  await redis?.stop();
  await postgres?.stop();
});

/** send sends one generated request; a connection error is returned as status 0. */
async function send(r: FuzzRequest): Promise<number> {
  const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
  const body =
    typeof r.body === 'object' ? `{"portfolio_id":"${'9'.repeat(Math.max(0, r.body.padTo - 20))}"}` : r.body;
  try {
    const response = await fetch(`${url}${r.path}`, {
      method: r.method,
      headers: r.headers,
      ...(withBody ? { body } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

describe('the risk API under generated requests', () => {
  it('answers no 5xx and no dropped connection, never exits, and keeps its memory flat', async () => {
    const requests = fc.sample(requestArbitrary, { seed: SEED, numRuns: BATCH * BATCHES });
    const bad: string[] = [];
    const rss: number[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const batch = requests.slice(b * BATCH, (b + 1) * BATCH);
      // Eight at a time, as a few clients would send them.
      for (let i = 0; i < batch.length; i += 8) {
        const slice = batch.slice(i, i + 8);
        const statuses = await Promise.all(slice.map(send));
        statuses.forEach((status, j) => {
          const r = slice[j] as FuzzRequest;
          if (status === 0 || status >= 500) {
            const size = typeof r.body === 'object' ? r.body.padTo : (r.body?.length ?? 0);
            bad.push(`${status} ${r.method} ${r.path.slice(0, 80)} body ${size} B`);
          }
        });
      }
      rss.push(rssMiB(api.pid));
    }
    expect(bad).toEqual([]);
    expect(api.isRunning()).toBe(true);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    const growth = (rss.at(-1) as number) - (rss[0] as number);
    console.log(`risk API RSS after each batch of ${BATCH}: ${rss.map((m) => m.toFixed(1)).join(', ')} MiB`);
    expect(growth).toBeLessThan(FLAT_MEMORY_MIB);
  }, 600_000);
});

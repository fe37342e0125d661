/**
 * The price-series layout against a real PostgreSQL: a database of the previous layout (schema
 * version 1, seeded) is migrated by a running risk API without losing a row, and every seeded
 * portfolio's VaR then equals what the previous computation (kept below, as it was) answers;
 * the triggers keep the series current whoever writes prices; `risk-api seed` migrates such a
 * database as the API does; seed and migration run twice change nothing, and a fresh seed gives
 * the same rows as the migrated database.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../test/cluster/postgres.ts';
import { freePort, type ManagedProcess, RunDirectory, waitFor } from '../../test/cluster/processes.ts';
import { migrateDatabase, seedDemoData } from './main.ts';
import { decodeCloses } from './price-series.ts';
import { HISTORY_CALENDAR_DAYS } from './risk-service.ts';
import { MIGRATIONS } from './schema.ts';
import { generateSeedData, SEED_PORTFOLIO_COUNT, seedDatabase } from './seed-data.ts';

const cli = join(import.meta.dirname, '../../bin/perfpilot.js');

// ---------------------------------------------------------------------------------------------
// The previous computation, as it was before the series layout: positions, then the closes of
// the days every position shares through array_agg over daily_prices, then losses on plain arrays.

interface ReferencePosition {
  readonly symbol: string;
  readonly quantity: number;
}

function referenceDailyLosses(
  positions: readonly ReferencePosition[],
  prices: ReadonlyMap<string, readonly number[]>,
): number[] {
  let days = Number.POSITIVE_INFINITY;
  for (const p of positions) days = Math.min(days, prices.get(p.symbol)?.length ?? 0);
  if (!Number.isFinite(days) || days < 2) return [];
  const losses = new Array<number>(days - 1).fill(0);
  for (const p of positions) {
    const series = prices.get(p.symbol) as readonly number[];
    const offset = series.length - days;
    const exposure = p.quantity * (series[series.length - 1] as number);
    for (let t = 1; t < days; t++) {
      const before = series[offset + t - 1] as number;
      const after = series[offset + t] as number;
      losses[t - 1] = (losses[t - 1] as number) - exposure * (after / before - 1);
    }
  }
  return losses;
}

function referencePortfolioValue(
  positions: readonly ReferencePosition[],
  prices: ReadonlyMap<string, readonly number[]>,
): number {
  let value = 0;
  for (const p of positions) {
    const series = prices.get(p.symbol);
    value += p.quantity * (series?.[series.length - 1] ?? 0);
  }
  return value;
}

const roundTo = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function referenceVaR(
  losses: readonly number[],
  value: number,
  confidenceLevel: number,
  horizonDays: number,
) {
  const sorted = [...losses].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil(confidenceLevel * sorted.length) - 1);
  const scale = Math.sqrt(horizonDays);
  const tail = sorted.slice(rank);
  const var_ = (sorted[rank] as number) * scale;
  const es = (tail.reduce((s, x) => s + x, 0) / tail.length) * scale;
  return {
    confidence_level: confidenceLevel,
    var: roundTo(var_, 2),
    var_percent: value > 0 ? Math.round((10000 * var_) / value) / 100 : 0,
    expected_shortfall: roundTo(es, 2),
  };
}

interface RiskRequest {
  readonly portfolio_id: number;
  readonly confidence_level?: number;
  readonly time_horizon_days?: number;
}

/** referenceRisk answers a request as the previous release did: the body, or the status of its error. */
async function referenceRisk(db: pg.Client, request: RiskRequest): Promise<unknown> {
  const levels = request.confidence_level === undefined ? [0.95, 0.99] : [request.confidence_level];
  const horizon = request.time_horizon_days ?? 1;
  const held = await db.query<{ symbol_id: number | null; symbol: string; quantity: number }>(
    `SELECT true AS found, p.symbol_id, s.symbol, p.quantity
       FROM portfolios f
       LEFT JOIN portfolio_positions p ON p.portfolio_id = f.id
       LEFT JOIN symbols s ON s.id = p.symbol_id
      WHERE f.id = $1
      ORDER BY s.symbol`,
    [request.portfolio_id],
  );
  if (held.rows.length === 0) return { status: 404 };
  const positions = held.rows.filter((r) => r.symbol_id !== null);
  if (positions.length === 0) return { status: 422 };
  const { rows } = await db.query<{ symbol: string; closes: number[]; last_day: string }>(
    `WITH days AS (
       SELECT day FROM daily_prices
        WHERE symbol_id = ANY($1::int[])
          AND day > (SELECT max(day) FROM daily_prices WHERE symbol_id = ANY($1::int[])) - $2::int
        GROUP BY day HAVING count(*) = cardinality($1::int[]))
     SELECT s.symbol, array_agg(d.close ORDER BY d.day) AS closes,
            to_char(max(d.day), 'YYYY-MM-DD') AS last_day
       FROM daily_prices d JOIN days USING (day) JOIN symbols s ON s.id = d.symbol_id
      WHERE d.symbol_id = ANY($1::int[])
      GROUP BY s.symbol`,
    [positions.map((p) => p.symbol_id), HISTORY_CALENDAR_DAYS],
  );
  const prices = new Map(rows.map((r) => [r.symbol, r.closes]));
  const losses = referenceDailyLosses(positions, prices);
  if (losses.length < 2) return { status: 422 };
  const value = referencePortfolioValue(positions, prices);
  return {
    portfolio_id: request.portfolio_id,
    method: 'historical-simulation',
    time_horizon_days: horizon,
    portfolio_value: roundTo(value, 2),
    observations: losses.length,
    as_of: rows[0]?.last_day ?? null,
    value_at_risk: levels.map((c) => referenceVaR(losses, value, c, horizon)),
  };
}

// ---------------------------------------------------------------------------------------------

/** The requests asked of every portfolio: the default levels, and single levels over horizons. */
const REQUESTS_PER_PORTFOLIO: readonly Omit<RiskRequest, 'portfolio_id'>[] = [
  {},
  { confidence_level: 0.9, time_horizon_days: 10 },
  { confidence_level: 0.975, time_horizon_days: 5 },
  { confidence_level: 0.999, time_horizon_days: 250 },
];

/** The tables as rows, ordered, so two databases (or two moments) compare with toEqual. */
async function tableContents(db: pg.Client): Promise<Record<string, string>> {
  const tables: Record<string, string> = {
    symbols: 'SELECT * FROM symbols ORDER BY id',
    daily_prices: 'SELECT * FROM daily_prices ORDER BY symbol_id, day',
    portfolios: 'SELECT * FROM portfolios ORDER BY id',
    portfolio_positions: 'SELECT * FROM portfolio_positions ORDER BY portfolio_id, symbol_id',
    seed_state: 'SELECT name, version FROM seed_state ORDER BY name',
  };
  const exists = await db.query("SELECT 1 FROM pg_tables WHERE tablename = 'price_series'");
  if (exists.rows.length > 0) tables.price_series = 'SELECT * FROM price_series ORDER BY symbol_id';
  const contents: Record<string, string> = {};
  for (const [name, query] of Object.entries(tables)) {
    const { rows } = await db.query<{ digest: string; count: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n'), '')) AS digest, count(*) AS count FROM (${query}) AS t`,
    );
    contents[name] = `${rows[0]?.count} rows, md5 ${rows[0]?.digest}`;
  }
  return contents;
}

/** migrateToPreviousLayout builds the schema as the previous release left it: version 1 only. */
async function migrateToPreviousLayout(db: pg.Client): Promise<void> {
  const first = MIGRATIONS[0];
  if (first?.version !== 1) throw new Error('expected migration 1 first');
  await db.query(
    `CREATE TABLE schema_migrations (
       version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  await db.query(first.sql);
  await db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
    first.version,
    first.name,
  ]);
}

async function post(url: string, body: RiskRequest): Promise<unknown> {
  const response = await fetch(`${url}/api/v1/risk-analysis`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.ok ? await response.json() : { status: response.status };
}

let postgres: PostgresServer;
let dir: RunDirectory;

beforeAll(async () => {
  postgres = await startPostgres();
  dir = new RunDirectory('perfpilot-price-series-test');
});

afterAll(async () => {
  await dir?.dispose();
  await postgres?.stop();
});

/** createDatabase adds a database to the server and returns its URL. */
async function createDatabase(name: string): Promise<string> {
  const db = await postgres.client();
  try {
    await db.query(`CREATE DATABASE ${name}`);
  } finally {
    await db.end();
  }
  return postgres.url.replace(/\/[^/]+$/, `/${name}`);
}

async function connect(url: string): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  return db;
}

describe('price series', () => {
  let previousUrl: string;
  let api: { url: string; process: ManagedProcess };
  let migratedContents: Record<string, string>;

  it('a running API migrates a previous-layout database, keeping every row, and answers every seeded portfolio as before', async () => {
    previousUrl = await createDatabase('previous_layout');
    const db = await connect(previousUrl);
    try {
      await migrateToPreviousLayout(db);
      expect((await seedDatabase(db, generateSeedData())).seeded).toBe(true);
      const before = await tableContents(db);
      expect(before.price_series).toBeUndefined();
      const expected = new Map<string, unknown>();
      for (let id = 1; id <= SEED_PORTFOLIO_COUNT; id++) {
        for (const r of REQUESTS_PER_PORTFOLIO) {
          const request = { portfolio_id: id, ...r };
          expected.set(JSON.stringify(request), await referenceRisk(db, request));
        }
      }

      // Cold: Redis is not there, so every answer is computed from PostgreSQL.
      const port = await freePort();
      const child = dir.start('risk-api', process.execPath, [cli, 'risk-api', '--port', String(port)], {
        ...process.env,
        DATABASE_URL: previousUrl,
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(await freePort()),
        REDIS_CLUSTER: 'false',
        LOG_LEVEL: 'warn',
      });
      api = { url: `http://127.0.0.1:${port}`, process: child };
      await waitFor(
        'the risk API migrated and answering',
        async () => {
          const answer = (await post(api.url, { portfolio_id: 1 }).catch(() => undefined)) as
            | { status?: number }
            | undefined;
          return answer && answer.status !== 503 ? true : undefined;
        },
        { timeoutMs: 60_000, process: child },
      );

      const versions = await db.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY 1',
      );
      expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const after = await tableContents(db);
      const { price_series: series, ...kept } = after;
      expect(kept).toEqual(before);
      expect(series).toMatch(/^300 rows/);
      migratedContents = after;

      let compared = 0;
      for (const [key, answer] of expected) {
        expect(await post(api.url, JSON.parse(key)), key).toEqual(answer);
        compared++;
      }
      expect(compared).toBe(SEED_PORTFOLIO_COUNT * REQUESTS_PER_PORTFOLIO.length);
    } finally {
      await db.end();
    }
  });

  it('keeps the series current whoever writes prices, and answers as before on gaps and ragged histories', async () => {
    const db = await connect(previousUrl);
    try {
      // Plain SQL writes, as a price loader would make them: three symbols with gaps, different
      // first and last days, and one without any price.
      await db.query(
        `INSERT INTO symbols (id, symbol, name, sector, exchange) VALUES
           (9101, 'GAPA', 'Gap A', 'Test', 'NYSE'), (9102, 'GAPB', 'Gap B', 'Test', 'NYSE'),
           (9103, 'GAPC', 'Gap C', 'Test', 'NYSE'), (9104, 'NONE', 'No prices', 'Test', 'NYSE')`,
      );
      const insert = (id: number, from: string, to: string, skipEvery: number) =>
        db.query(
          `INSERT INTO daily_prices (symbol_id, day, close, volume)
           SELECT $1::int, d::date, round((50 + 20 * sin(extract(epoch FROM d) / 86400 / 7 + $1::int))::numeric, 4), 1
             FROM generate_series($2::date, $3::date, interval '1 day') AS d
            WHERE (extract(epoch FROM d) / 86400)::int % $4 <> 0`,
          [id, from, to, skipEvery],
        );
      await insert(9101, '2023-03-01', '2025-11-30', 5);
      await insert(9102, '2024-01-10', '2025-12-20', 7);
      await insert(9103, '2023-01-01', '2025-10-15', 3);
      await db.query(
        `INSERT INTO portfolios (id, name, owner) VALUES (9101, 'Gaps', 'test'), (9102, 'None', 'test'),
           (9103, 'Empty', 'test')`,
      );
      await db.query(
        `INSERT INTO portfolio_positions (portfolio_id, symbol_id, quantity) VALUES
           (9101, 9101, 100), (9101, 9102, 37.5), (9101, 9103, 12), (9101, 1, 3),
           (9102, 9101, 1), (9102, 9104, 1)`,
      );
      const same = async (request: RiskRequest) => {
        const answer = await post(api.url, request);
        expect(answer, JSON.stringify(request)).toEqual(await referenceRisk(db, request));
        return answer as { status?: number; observations?: number; as_of?: string };
      };
      const seriesOf = async (id: number) => {
        const { rows } = await db.query<{ first_day: string; closes: Buffer }>(
          "SELECT to_char(first_day, 'YYYY-MM-DD') AS first_day, closes FROM price_series WHERE symbol_id = $1",
          [id],
        );
        const row = rows[0];
        return row && { firstDay: row.first_day, closes: [...decodeCloses(row.closes)] };
      };
      /** What the series of `id` must hold: its daily_prices on a calendar, NaN between closes. */
      const expectedSeries = async (id: number) => {
        const { rows } = await db.query<{ day: string; close: number; offset: number }>(
          `SELECT to_char(day, 'YYYY-MM-DD') AS day, close, day - min(day) OVER () AS offset
             FROM daily_prices WHERE symbol_id = $1 ORDER BY day`,
          [id],
        );
        if (rows.length === 0) return undefined;
        const closes = new Array<number>((rows.at(-1)?.offset ?? 0) + 1).fill(Number.NaN);
        for (const r of rows) closes[r.offset] = r.close;
        return { firstDay: rows[0]?.day, closes };
      };
      const current = async (id: number) =>
        expect(await seriesOf(id), `series ${id}`).toEqual(await expectedSeries(id));

      for (const id of [9101, 9102, 9103, 9104, 1]) await current(id);
      expect(await seriesOf(9104)).toBeUndefined();
      for (const r of REQUESTS_PER_PORTFOLIO) await same({ portfolio_id: 9101, ...r });
      // The last day all four close: GAPC has no 2025-10-15 close (its last day), GAPA no 2025-10-14.
      expect(await same({ portfolio_id: 9101 })).toMatchObject({ as_of: '2025-10-13' });
      expect((await same({ portfolio_id: 9101 })).observations).toBeGreaterThan(100);
      expect(await same({ portfolio_id: 9102 })).toEqual({ status: 422 });
      expect(await same({ portfolio_id: 9103 })).toEqual({ status: 422 });
      expect(await same({ portfolio_id: 9999 })).toEqual({ status: 404 });

      // An update, a delete inside the history, a delete of the last day, and a new last day.
      await db.query(
        "UPDATE daily_prices SET close = close * 1.5 WHERE symbol_id = 9102 AND day > '2025-06-01'",
      );
      await db.query(
        "DELETE FROM daily_prices WHERE symbol_id = 9101 AND day BETWEEN '2025-02-01' AND '2025-02-20'",
      );
      await db.query("DELETE FROM daily_prices WHERE symbol_id = 9103 AND day = '2025-10-15'");
      await db.query(
        "INSERT INTO daily_prices (symbol_id, day, close, volume) VALUES (9101, '2026-01-05', 61.25, 1), (1, '2026-01-05', 250, 1)",
      );
      for (const id of [9101, 9102, 9103, 1]) await current(id);
      for (const r of REQUESTS_PER_PORTFOLIO) await same({ portfolio_id: 9101, ...r });
      // Symbol 1 now closes on a day no other symbol does: the window moves, the last common day stays.
      const holder = await db.query<{ id: number }>(
        'SELECT min(portfolio_id) AS id FROM portfolio_positions WHERE symbol_id = 1 AND portfolio_id <= $1',
        [SEED_PORTFOLIO_COUNT],
      );
      const holderId = holder.rows[0]?.id as number;
      expect(holderId).toBeGreaterThan(0);
      expect(await same({ portfolio_id: holderId })).toMatchObject({ as_of: '2025-12-31' });

      // Every price of a symbol gone: its series goes too.
      await db.query('DELETE FROM daily_prices WHERE symbol_id = 9102');
      expect(await seriesOf(9102)).toBeUndefined();
      await same({ portfolio_id: 9101 });

      // Every price gone at once: no series is left to answer from.
      await db.query('TRUNCATE daily_prices');
      expect((await db.query('SELECT symbol_id FROM price_series')).rows).toEqual([]);
      expect(await same({ portfolio_id: 9101 })).toEqual({ status: 422 });
    } finally {
      await db.end();
    }
  });

  it('risk-api seed migrates a previous-layout database too, and leaves the seeded rows as they are', async () => {
    const url = await createDatabase('previous_layout_seeded');
    const db = await connect(url);
    try {
      await migrateToPreviousLayout(db);
      await seedDatabase(db, generateSeedData());
      const outcome = await seedDemoData(url);
      expect(outcome.seeded).toBe(false);
      expect(await tableContents(db)).toEqual(migratedContents);
    } finally {
      await db.end();
    }
  });

  it('seed and migrate twice change nothing, and a fresh seed writes what the migration filled', async () => {
    const freshUrl = await createDatabase('fresh');
    const first = await seedDemoData(freshUrl);
    expect(first.seeded).toBe(true);
    const db = await connect(freshUrl);
    try {
      const once = await tableContents(db);
      expect(await migrateDatabase(freshUrl)).toEqual([]);
      const again = await seedDemoData(freshUrl);
      expect(again.seeded).toBe(false);
      expect(await tableContents(db)).toEqual(once);
      // The seed is deterministic, and the series the triggers built while seeding are the
      // ones the migration filled from the previous layout's rows.
      expect(once).toEqual(migratedContents);
    } finally {
      await db.end();
    }
  });
});

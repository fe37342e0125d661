/**
 * The database schema, as numbered migrations applied at start in one transaction under an
 * advisory lock, so replicas starting together apply each migration once.
 */
import type pg from 'pg';
import { PRICE_SERIES_MIGRATION_SQL } from './price-series.ts';

/** One schema change; applied versions are recorded in schema_migrations. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration, oldest first; append, never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'symbols, daily prices, portfolios and positions',
    sql: `
      CREATE TABLE symbols (
        id integer PRIMARY KEY,
        symbol text NOT NULL UNIQUE,
        name text NOT NULL,
        sector text NOT NULL,
        currency text NOT NULL DEFAULT 'USD',
        exchange text NOT NULL
      );
      CREATE TABLE daily_prices (
        symbol_id integer NOT NULL REFERENCES symbols (id),
        day date NOT NULL,
        close double precision NOT NULL CHECK (close > 0),
        volume bigint NOT NULL,
        PRIMARY KEY (symbol_id, day)
      );
      CREATE TABLE portfolios (
        id integer PRIMARY KEY,
        name text NOT NULL,
        owner text NOT NULL
      );
      CREATE TABLE portfolio_positions (
        portfolio_id integer NOT NULL REFERENCES portfolios (id),
        symbol_id integer NOT NULL REFERENCES symbols (id),
        quantity double precision NOT NULL,
        PRIMARY KEY (portfolio_id, symbol_id)
      );
      CREATE TABLE seed_state (
        name text PRIMARY KEY,
        version integer NOT NULL,
        seeded_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    version: 2,
    name: "price series: each symbol's closes in one row, kept current by triggers",
    sql: PRICE_SERIES_MIGRATION_SQL,
  },
];

/** Advisory lock key of migrations and seeding ("perfpilot" in ASCII, truncated to 32 bits). */
export const SCHEMA_LOCK_KEY = 0x70657266;

/** migrate applies the migrations `client`'s database lacks; returns the versions it applied. */
export async function migrate(client: pg.Client): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const done: number[] = [];
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
      done.push(m.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw new Error(`schema migration failed: ${(err as Error).message}`, { cause: err });
  }
}

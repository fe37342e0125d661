/**
 * The layout a VaR reads: each symbol's closes in one `price_series` row, a bytea of big-endian
 * float64 with one slot per calendar day from `first_day` to `last_day` and a NaN where the symbol
 * did not close (weekends, holidays, gaps). A VaR then reads one row per position instead of about
 * 520 rows, the window is a byte offset (day − first_day) × 8, and the days every position shares
 * are the slots where none is NaN.
 *
 * `daily_prices` stays the table prices are written to: statement-level triggers rebuild the series
 * of the symbols a statement touched (insert, update, delete, truncate), so the series is current
 * whoever writes, the seed or a plain INSERT. The migration fills it from the rows already there.
 */
import type { ConnectionPool } from './connection-pool.ts';
import type { PositionSeries } from './value-at-risk.ts';

/** Bytes per close in a series: a float8 as `float8send` writes it (big-endian). */
export const BYTES_PER_CLOSE = 8;

/**
 * Advisory lock class of series rebuilds: a rebuild takes (class, symbol id), so two writers of
 * one symbol rebuild one after the other, the second from a snapshot that sees the first's rows.
 */
export const PRICE_SERIES_LOCK_CLASS = 0x70736572;

/** The migration to the series layout: table, rebuild function, triggers, and the fill. */
export const PRICE_SERIES_MIGRATION_SQL = `
  CREATE TABLE price_series (
    symbol_id integer PRIMARY KEY REFERENCES symbols (id) ON DELETE CASCADE,
    first_day date NOT NULL,
    last_day date NOT NULL,
    closes bytea NOT NULL,
    CHECK (length(closes) = ${BYTES_PER_CLOSE} * (last_day - first_day + 1))
  );
  -- Out of line and uncompressed: a VaR reads a slice, and PostgreSQL then fetches only its chunks.
  ALTER TABLE price_series ALTER COLUMN closes SET STORAGE EXTERNAL;

  CREATE FUNCTION refresh_price_series(ids integer[]) RETURNS void LANGUAGE plpgsql AS $fn$
  BEGIN
    -- Sorted, so two rebuilds never wait on each other in a circle.
    PERFORM pg_advisory_xact_lock(${PRICE_SERIES_LOCK_CLASS}, id) FROM unnest(ids) AS id ORDER BY id;
    DELETE FROM price_series WHERE symbol_id = ANY (ids);
    INSERT INTO price_series (symbol_id, first_day, last_day, closes)
    SELECT symbol_id, min(day), max(day),
           -- '7ff8000000000000' is a quiet NaN: one per calendar day without a close.
           string_agg(decode(repeat('7ff8000000000000', gap), 'hex') || float8send(close), ''::bytea ORDER BY day)
      FROM (SELECT symbol_id, day, close,
                   coalesce(day - lag(day) OVER (PARTITION BY symbol_id ORDER BY day) - 1, 0) AS gap
              FROM daily_prices WHERE symbol_id = ANY (ids)) AS days
     GROUP BY symbol_id;
  END
  $fn$;

  CREATE FUNCTION price_series_after_write() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      PERFORM refresh_price_series(ARRAY(SELECT DISTINCT symbol_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
      PERFORM refresh_price_series(ARRAY(SELECT DISTINCT symbol_id FROM old_rows));
    ELSIF TG_OP = 'UPDATE' THEN
      PERFORM refresh_price_series(
        ARRAY(SELECT symbol_id FROM new_rows UNION SELECT symbol_id FROM old_rows));
    ELSE
      DELETE FROM price_series;
    END IF;
    RETURN NULL;
  END
  $fn$;

  CREATE TRIGGER price_series_insert AFTER INSERT ON daily_prices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION price_series_after_write();
  CREATE TRIGGER price_series_update AFTER UPDATE ON daily_prices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION price_series_after_write();
  CREATE TRIGGER price_series_delete AFTER DELETE ON daily_prices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION price_series_after_write();
  CREATE TRIGGER price_series_truncate AFTER TRUNCATE ON daily_prices
    FOR EACH STATEMENT EXECUTE FUNCTION price_series_after_write();

  -- Writers wait until the fill commits, so no price written meanwhile is missed.
  LOCK TABLE daily_prices IN SHARE MODE;
  SELECT refresh_price_series(ARRAY(SELECT DISTINCT symbol_id FROM daily_prices));
  ANALYZE price_series;`;

/**
 * The VaR's one round trip: the portfolio's positions, each with the slice of its series from
 * the window's first day on. The window ends on the latest close of any position and spans $2
 * calendar days; `start` is the slot of the slice's first close within the window. One row with
 * a NULL symbol means a portfolio without positions; no row means no portfolio.
 */
const RISK_INPUTS_SQL = `
  SELECT symbol_id, symbol, quantity, to_char(from_day, 'YYYY-MM-DD') AS from_day,
         greatest(first_day - from_day, 0) AS start,
         substring(closes FROM ${BYTES_PER_CLOSE} * greatest(from_day - first_day, 0) + 1) AS closes
    FROM (SELECT p.symbol_id, s.symbol, p.quantity, ps.first_day, ps.closes,
                 max(ps.last_day) OVER () - ($2::int - 1) AS from_day
            FROM portfolios f
            LEFT JOIN portfolio_positions p ON p.portfolio_id = f.id
            LEFT JOIN symbols s ON s.id = p.symbol_id
            LEFT JOIN price_series ps ON ps.symbol_id = p.symbol_id
           WHERE f.id = $1) AS held
   ORDER BY symbol`;

/** What a VaR needs of a portfolio, read in one round trip. */
export interface RiskInputs {
  /** positions, ordered by symbol; empty when the portfolio holds none. */
  readonly positions: readonly (PositionSeries & { readonly symbolId: number; readonly symbol: string })[];
  /** fromDay is the window's first day (YYYY-MM-DD), slot 0; null without any close. */
  readonly fromDay: string | null;
}

/**
 * loadRiskInputs reads the positions of `portfolioId` and their closes over the last
 * `historyDays` calendar days; undefined when there is no such portfolio.
 */
export async function loadRiskInputs(
  pool: ConnectionPool,
  portfolioId: number,
  historyDays: number,
): Promise<RiskInputs | undefined> {
  const { rows } = await pool.query<{
    symbol_id: number | null;
    symbol: string | null;
    quantity: number | null;
    from_day: string | null;
    start: number | null;
    closes: Buffer | null;
  }>(RISK_INPUTS_SQL, [portfolioId, historyDays], 'risk-inputs');
  if (rows.length === 0) return undefined;
  const positions = [];
  for (const r of rows) {
    if (r.symbol === null) continue;
    positions.push({
      symbolId: r.symbol_id as number,
      symbol: r.symbol,
      quantity: r.quantity as number,
      start: r.start ?? 0,
      closes: r.closes ? decodeCloses(r.closes) : new Float64Array(0),
    });
  }
  return { positions, fromDay: rows[0]?.from_day ?? null };
}

/** decodeCloses reads big-endian float64s (PostgreSQL's `float8send`) into a Float64Array. */
export function decodeCloses(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const closes = new Float64Array(Math.floor(bytes.byteLength / BYTES_PER_CLOSE));
  for (let i = 0; i < closes.length; i++) closes[i] = view.getFloat64(i * BYTES_PER_CLOSE);
  return closes;
}

/**
 * The demo data of `perfpilot risk-api seed`, generated from a fixed seed so every run writes the
 * same rows: SEED_SYMBOL_COUNT symbols (the seed guide's AAPL, GOOGL, MSFT, TSLA, AMZN first),
 * three years of weekday closing prices from a one-factor market model, and portfolios whose
 * holdings favour popular symbols. A larger symbol count appends more listed symbols with their
 * prices (portfolios keep to the first SEED_SYMBOL_COUNT), so the first rows are the same whatever
 * the count. Seeding is idempotent: a database seeded at this version with at least as many
 * symbols is left as it is.
 */
import type pg from 'pg';
import { type SeededRandom, seededRandom } from '../../operator/src/sim/seeded-random.ts';
import { SCHEMA_LOCK_KEY } from './schema.ts';
import { zipfSampler } from './zipf.ts';

/** The seed guide's popular symbols, warmed at start and first in the symbol table. */
export const SEED_SYMBOLS = ['AAPL', 'GOOGL', 'MSFT', 'TSLA', 'AMZN'] as const;
/** How many symbols the demo data has by default; portfolios hold only these. */
export const SEED_SYMBOL_COUNT = 300;
/** The most symbols a seed may have (names are 3-4 letters). */
export const MAX_SEED_SYMBOL_COUNT = 100_000;
/** How many portfolios the demo data has (ids 1..SEED_PORTFOLIO_COUNT). */
export const SEED_PORTFOLIO_COUNT = 200;
/** The first trading day of the price history. */
export const SEED_FIRST_DAY = '2023-01-02';
/** The last trading day of the price history: the `as_of` of every answer. */
export const SEED_LAST_DAY = '2025-12-31';
/** Bumped when the generated data changes; a database seeded at this version is not seeded again. */
export const SEED_VERSION = 1;

const SECTORS = ['Technology', 'Health Care', 'Financials', 'Energy', 'Industrials', 'Consumer', 'Utilities'];
const EXCHANGES = ['NASDAQ', 'NYSE'];

/** One generated symbol. */
export interface SeedSymbol {
  readonly id: number;
  readonly symbol: string;
  readonly name: string;
  readonly sector: string;
  readonly exchange: string;
}

/** The whole generated data set. */
export interface SeedData {
  readonly symbols: readonly SeedSymbol[];
  readonly days: readonly string[];
  /** closes[i][t]: close of symbols[i] on days[t]. */
  readonly closes: readonly Float64Array[];
  readonly volumes: readonly Float64Array[];
  readonly portfolios: readonly {
    readonly id: number;
    readonly positions: readonly { symbolId: number; quantity: number }[];
  }[];
}

/** weekdays lists the dates from `first` to `last` (YYYY-MM-DD) without Saturdays and Sundays. */
export function weekdays(first: string, last: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000) {
    const day = new Date(t).getUTCDay();
    if (day !== 0 && day !== 6) days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

const SEED_RANDOM = 20_231_231;
/** Seed of the names of the symbols beyond SEED_SYMBOL_COUNT; each one's prices use SEED_RANDOM + its id. */
const EXTRA_SYMBOLS_RANDOM = 20_240_101;

function addNames(names: Set<string>, count: number, random: SeededRandom): void {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  while (names.size < count) {
    const length = 3 + Math.floor(random.uniform() * 2);
    let s = '';
    for (let i = 0; i < length; i++) s += letters[Math.floor(random.uniform() * 26)];
    names.add(s);
  }
}

function checkSymbolCount(symbolCount: number): void {
  if (
    !Number.isInteger(symbolCount) ||
    symbolCount < SEED_SYMBOL_COUNT ||
    symbolCount > MAX_SEED_SYMBOL_COUNT
  ) {
    throw new RangeError(
      `symbol count must be a whole number from ${SEED_SYMBOL_COUNT} to ${MAX_SEED_SYMBOL_COUNT}, got ${symbolCount}`,
    );
  }
}

/**
 * seedSymbols draws the first SEED_SYMBOL_COUNT symbols from `random` (the seed's five first), and
 * any more from their own stream, so the first ones do not depend on the count.
 */
function seedSymbols(random: SeededRandom, symbolCount: number): SeedSymbol[] {
  checkSymbolCount(symbolCount);
  const names = new Set<string>(SEED_SYMBOLS);
  addNames(names, SEED_SYMBOL_COUNT, random);
  addNames(names, symbolCount, seededRandom(EXTRA_SYMBOLS_RANDOM));
  return [...names].map((symbol, i) => ({
    id: i + 1,
    symbol,
    name: `${symbol} ${['Inc.', 'Corp.', 'Holdings', 'Group'][i % 4]}`,
    sector: SECTORS[i % SECTORS.length] as string,
    exchange: EXCHANGES[i % EXCHANGES.length] as string,
  }));
}

/** seedSymbolNames lists the demo data's symbols, most popular first (for load generation). */
export function seedSymbolNames(symbolCount: number = SEED_SYMBOL_COUNT): string[] {
  return seedSymbols(seededRandom(SEED_RANDOM), symbolCount).map((s) => s.symbol);
}

/** generateSeedData builds the data set of `symbolCount` symbols; the same every time. */
export function generateSeedData(symbolCount: number = SEED_SYMBOL_COUNT): SeedData {
  const random = seededRandom(SEED_RANDOM);
  const symbols = seedSymbols(random, symbolCount);
  const days = weekdays(SEED_FIRST_DAY, SEED_LAST_DAY);
  const market = days.map(() => 0.0003 + 0.009 * random.normal());
  const closes: Float64Array[] = [];
  const volumes: Float64Array[] = [];
  const pricesOf = (random: SeededRandom) => {
    const beta = 0.6 + random.uniform();
    const idiosyncratic = 0.008 + 0.025 * random.uniform();
    let price = 20 + 480 * random.uniform();
    const c = new Float64Array(days.length);
    const v = new Float64Array(days.length);
    const baseVolume = 1e5 + 5e6 * random.uniform();
    for (let t = 0; t < days.length; t++) {
      if (t > 0) price *= Math.exp(beta * (market[t] as number) + idiosyncratic * random.normal());
      c[t] = Math.round(Math.max(price, 0.01) * 10000) / 10000;
      v[t] = Math.round(baseVolume * (0.5 + random.uniform()));
    }
    closes.push(c);
    volumes.push(v);
  };
  for (let i = 0; i < SEED_SYMBOL_COUNT; i++) pricesOf(random);
  const popularity = zipfSampler(SEED_SYMBOL_COUNT, 1.1, random.uniform);
  const portfolios = [];
  for (let id = 1; id <= SEED_PORTFOLIO_COUNT; id++) {
    const count = 4 + Math.floor(random.uniform() * 9);
    const held = new Map<number, number>();
    while (held.size < count) {
      held.set(popularity.next() + 1, Math.round(10 + 990 * random.uniform()));
    }
    portfolios.push({
      id,
      positions: [...held].map(([symbolId, quantity]) => ({ symbolId, quantity })),
    });
  }
  for (const symbol of symbols.slice(SEED_SYMBOL_COUNT)) pricesOf(seededRandom(SEED_RANDOM + symbol.id));
  return { symbols, days, closes, volumes, portfolios };
}

/** What seedDatabase did. */
export interface SeedOutcome {
  readonly seeded: boolean;
  readonly symbols: number;
  readonly prices: number;
  readonly portfolios: number;
}

const PRICE_ROWS_PER_STATEMENT = 50_000;

/**
 * seedDatabase writes the generated data unless this version is there already with at least as
 * many symbols (idempotent; a larger count adds the symbols that are missing).
 */
export async function seedDatabase(
  client: pg.Client,
  data: SeedData = generateSeedData(),
): Promise<SeedOutcome> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    const state = await client.query<{ version: number }>(
      "SELECT version FROM seed_state WHERE name = 'demo'",
    );
    const priceRows = data.symbols.length * data.days.length;
    const outcome = { symbols: data.symbols.length, prices: priceRows, portfolios: data.portfolios.length };
    const present = await client.query<{ count: string }>('SELECT count(*) AS count FROM symbols');
    if (
      (state.rows[0]?.version ?? 0) >= SEED_VERSION &&
      Number(present.rows[0]?.count ?? 0) >= data.symbols.length
    ) {
      await client.query('COMMIT');
      return { seeded: false, ...outcome };
    }
    await client.query(
      `INSERT INTO symbols (id, symbol, name, sector, exchange)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT DO NOTHING`,
      [
        data.symbols.map((s) => s.id),
        data.symbols.map((s) => s.symbol),
        data.symbols.map((s) => s.name),
        data.symbols.map((s) => s.sector),
        data.symbols.map((s) => s.exchange),
      ],
    );
    let ids: number[] = [];
    let days: string[] = [];
    let closes: number[] = [];
    let volumes: number[] = [];
    const flush = async () => {
      if (ids.length === 0) return;
      await client.query(
        `INSERT INTO daily_prices (symbol_id, day, close, volume)
         SELECT * FROM unnest($1::int[], $2::date[], $3::float8[], $4::bigint[])
         ON CONFLICT DO NOTHING`,
        [ids, days, closes, volumes],
      );
      ids = [];
      days = [];
      closes = [];
      volumes = [];
    };
    for (let i = 0; i < data.symbols.length; i++) {
      const symbol = data.symbols[i] as SeedSymbol;
      for (let t = 0; t < data.days.length; t++) {
        ids.push(symbol.id);
        days.push(data.days[t] as string);
        closes.push(data.closes[i]?.[t] as number);
        volumes.push(data.volumes[i]?.[t] as number);
      }
      if (ids.length >= PRICE_ROWS_PER_STATEMENT) await flush();
    }
    await flush();
    await client.query(
      `INSERT INTO portfolios (id, name, owner)
       SELECT id, 'Portfolio ' || id, 'desk-' || (id % 10) FROM unnest($1::int[]) AS id
       ON CONFLICT DO NOTHING`,
      [data.portfolios.map((p) => p.id)],
    );
    const positions = data.portfolios.flatMap((p) => p.positions.map((x) => ({ id: p.id, ...x })));
    await client.query(
      `INSERT INTO portfolio_positions (portfolio_id, symbol_id, quantity)
       SELECT * FROM unnest($1::int[], $2::int[], $3::float8[])
       ON CONFLICT DO NOTHING`,
      [positions.map((p) => p.id), positions.map((p) => p.symbolId), positions.map((p) => p.quantity)],
    );
    await client.query(
      `INSERT INTO seed_state (name, version) VALUES ('demo', $1)
       ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, seeded_at = now()`,
      [SEED_VERSION],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE daily_prices');
    return { seeded: true, ...outcome };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw new Error(`seeding failed: ${(err as Error).message}`, { cause: err });
  }
}

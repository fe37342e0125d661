/**
 * What the endpoints answer, cache first: market data and its price history, reference data by
 * id, and portfolio VaR.
 * Each answer is cached as the JSON text sent to the client, so a hit costs one Redis GET and no
 * parsing; every query is parameterized.
 */
import type { RedisCache } from './cache.ts';
import type { ConnectionPool } from './connection-pool.ts';
import { loadRiskInputs } from './price-series.ts';
import { RequestError, type RiskAnalysisRequest } from './request-validation.ts';
import { commonDays, dailyLosses, historicalVaR, portfolioValue, sortLosses } from './value-at-risk.ts';

/** Calendar days of price history behind a VaR: two years, about 520 trading days. */
export const HISTORY_CALENDAR_DAYS = 730;

/** An answer as JSON text, and whether it came from the cache. */
export interface CachedAnswer {
  readonly body: string;
  readonly cached: boolean;
}

/** Cache keys, one place: the seed's `market_data:AAPL` and `data:{id}` forms. */
export const cacheKey = {
  marketData: (symbol: string) => `market_data:${symbol}`,
  priceHistory: (symbol: string) => `static_data:price_history:${symbol}`,
  data: (id: number) => `data:${id}`,
  portfolio: (id: number) => `static_data:portfolio:${id}`,
  risk: (r: RiskAnalysisRequest) =>
    `risk_calculations:${r.portfolio_id}:${r.time_horizon_days}:${r.confidence_levels.join(',')}`,
};

/** RiskService: see the file comment. */
export class RiskService {
  readonly #pool: ConnectionPool;
  readonly #cache: RedisCache;

  constructor(pool: ConnectionPool, cache: RedisCache) {
    this.#pool = pool;
    this.#cache = cache;
  }

  /** marketData: the latest close of `symbol`, the one before, and the change; 404 when unknown. */
  async marketData(symbol: string): Promise<CachedAnswer> {
    this.#cache.countSymbolRequest(symbol);
    const key = cacheKey.marketData(symbol);
    const hit = await this.#cache.get('market_data', key);
    if (hit !== undefined) return { body: hit, cached: true };
    const body = await this.loadMarketData(symbol);
    await this.#cache.fill('market_data', key, body);
    return { body, cached: false };
  }

  /** loadMarketData reads market data from PostgreSQL, bypassing the cache (warming uses it). */
  async loadMarketData(symbol: string): Promise<string> {
    const { rows } = await this.#pool.query<{
      symbol: string;
      name: string;
      sector: string;
      currency: string;
      exchange: string;
      day: string;
      close: number;
      volume: string;
    }>(
      `SELECT s.symbol, s.name, s.sector, s.currency, s.exchange, to_char(d.day, 'YYYY-MM-DD') AS day,
              d.close, d.volume
         FROM symbols s
         JOIN LATERAL (SELECT day, close, volume FROM daily_prices
                        WHERE symbol_id = s.id ORDER BY day DESC LIMIT 2) d ON true
        WHERE s.symbol = $1
        ORDER BY d.day DESC`,
      [symbol],
      'market-data',
    );
    const [last, previous] = rows;
    if (!last) throw new RequestError(404, 'symbol', `unknown symbol ${symbol}`);
    const change = previous ? last.close - previous.close : 0;
    return JSON.stringify({
      symbol: last.symbol,
      name: last.name,
      sector: last.sector,
      exchange: last.exchange,
      currency: last.currency,
      price: last.close,
      previous_close: previous?.close ?? null,
      change: round(change, 4),
      change_percent: previous ? round((100 * change) / previous.close, 4) : null,
      volume: Number(last.volume),
      as_of: last.day,
    });
  }

  /**
   * priceHistory: every daily close and volume of `symbol`, oldest first (about 40 KiB for three
   * years); 404 when unknown. Past closes do not change, so it is cached as static data.
   */
  async priceHistory(symbol: string): Promise<CachedAnswer> {
    const key = cacheKey.priceHistory(symbol);
    const hit = await this.#cache.get('static_data', key);
    if (hit !== undefined) return { body: hit, cached: true };
    const { rows } = await this.#pool.query<{
      symbol: string;
      currency: string;
      day: string;
      close: number;
      volume: string;
    }>(
      `SELECT s.symbol, s.currency, to_char(d.day, 'YYYY-MM-DD') AS day, d.close, d.volume
         FROM symbols s JOIN daily_prices d ON d.symbol_id = s.id
        WHERE s.symbol = $1
        ORDER BY d.day`,
      [symbol],
      'price-history',
    );
    const [first] = rows;
    if (!first) throw new RequestError(404, 'symbol', `unknown symbol ${symbol}`);
    const body = JSON.stringify({
      symbol: first.symbol,
      currency: first.currency,
      from: first.day,
      to: rows.at(-1)?.day,
      prices: rows.map((r) => ({ day: r.day, close: r.close, volume: Number(r.volume) })),
    });
    await this.#cache.fill('static_data', key, body);
    return { body, cached: false };
  }

  /** warmMarketData loads and stores each symbol's market data; returns how many it warmed. */
  async warmMarketData(symbols: readonly string[]): Promise<number> {
    let warmed = 0;
    for (const symbol of symbols) {
      try {
        await this.#cache.put('market_data', cacheKey.marketData(symbol), await this.loadMarketData(symbol));
        warmed++;
      } catch {
        // An unknown or unreadable symbol is not worth failing the start for.
      }
    }
    return warmed;
  }

  /** data is the seed's cache-aside example: an instrument's reference data by id (CACHE_TTL_DEFAULT). */
  async data(id: number): Promise<CachedAnswer> {
    const key = cacheKey.data(id);
    const hit = await this.#cache.get('default', key);
    if (hit !== undefined) return { body: hit, cached: true };
    const { rows } = await this.#pool.query(
      'SELECT id, symbol, name, sector, currency, exchange FROM symbols WHERE id = $1',
      [id],
      'reference-data',
    );
    if (rows.length === 0) throw new RequestError(404, 'id', `no data with id ${id}`);
    const body = JSON.stringify(rows[0]);
    await this.#cache.fill('default', key, body);
    return { body, cached: false };
  }

  /** riskAnalysis: the portfolio's VaR and expected shortfall at each requested confidence level. */
  async riskAnalysis(request: RiskAnalysisRequest): Promise<CachedAnswer> {
    const key = cacheKey.risk(request);
    const hit = await this.#cache.get('risk_calculations', key);
    if (hit !== undefined) return { body: hit, cached: true };
    const body = JSON.stringify(await this.computeRisk(request));
    await this.#cache.fill('risk_calculations', key, body);
    return { body, cached: false };
  }

  /**
   * computeRisk reads the positions and their closes in one round trip (price_series.ts), then
   * computes the VaR on typed arrays; the positions are also cached as static data for readers of
   * that key.
   */
  async computeRisk(request: RiskAnalysisRequest): Promise<Record<string, unknown>> {
    const id = request.portfolio_id;
    const inputs = await loadRiskInputs(this.#pool, id, HISTORY_CALENDAR_DAYS);
    if (!inputs) throw new RequestError(404, 'portfolio_id', `no portfolio with id ${id}`);
    const { positions } = inputs;
    if (positions.length === 0) {
      throw new RequestError(422, 'portfolio_id', `portfolio ${id} holds no positions`);
    }
    await this.#cache.fill(
      'static_data',
      cacheKey.portfolio(id),
      JSON.stringify({
        portfolio_id: id,
        positions: positions.map((p) => ({ symbol_id: p.symbolId, symbol: p.symbol, quantity: p.quantity })),
      }),
    );
    const days = commonDays(positions);
    const losses = dailyLosses(positions, days);
    if (losses.length < 2) {
      throw new RequestError(
        422,
        'portfolio_id',
        `portfolio ${id} has too little common price history for a VaR`,
      );
    }
    const lastDay = days[days.length - 1] as number;
    const value = portfolioValue(positions, lastDay);
    const sorted = sortLosses(losses);
    return {
      portfolio_id: id,
      method: 'historical-simulation',
      time_horizon_days: request.time_horizon_days,
      portfolio_value: round(value, 2),
      observations: losses.length,
      as_of: addDays(inputs.fromDay as string, lastDay),
      value_at_risk: request.confidence_levels.map((c) =>
        historicalVaR(sorted, value, c, request.time_horizon_days),
      ),
    };
  }
}

/** addDays gives the date `days` after `day`, both YYYY-MM-DD. */
function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

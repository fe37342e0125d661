/**
 * Portfolio Value at Risk by historical simulation, pure: today's positions revalued with each
 * past day's price changes give a distribution of one-day losses; the VaR at confidence c is the
 * loss that c of those days did not exceed, scaled to the horizon by √days (the square-root-of-
 * time rule); the expected shortfall is the mean loss of the days at or beyond it.
 */

/** One position: a quantity of a symbol. */
export interface Position {
  readonly symbol: string;
  readonly quantity: number;
}

/** Closing prices of one symbol, oldest first, on the same days as every other symbol's. */
export type PriceHistory = ReadonlyMap<string, readonly number[]>;

/** The VaR and expected shortfall at one confidence level, in currency and as a share of value. */
export interface ValueAtRisk {
  readonly confidence_level: number;
  readonly var: number;
  readonly var_percent: number;
  readonly expected_shortfall: number;
}

/** dailyLosses revalues `positions` at the last prices with every day's relative price change. */
export function dailyLosses(positions: readonly Position[], prices: PriceHistory): number[] {
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

/** portfolioValue is Σ quantity × last price. */
export function portfolioValue(positions: readonly Position[], prices: PriceHistory): number {
  let value = 0;
  for (const p of positions) {
    const series = prices.get(p.symbol);
    value += p.quantity * (series?.[series.length - 1] ?? 0);
  }
  return value;
}

/**
 * historicalVaR: the loss at rank ⌈c·n⌉ of n sorted daily losses (the smallest loss that at least
 * c of the days did not exceed), times √horizonDays; ES is the mean of the losses from that rank on.
 */
export function historicalVaR(
  losses: readonly number[],
  value: number,
  confidenceLevel: number,
  horizonDays: number,
): ValueAtRisk {
  if (losses.length === 0) throw new RangeError('historicalVaR needs at least one daily loss');
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new RangeError(`confidenceLevel must be above 0 and below 1, got ${confidenceLevel}`);
  }
  const sorted = [...losses].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil(confidenceLevel * sorted.length) - 1);
  const scale = Math.sqrt(horizonDays);
  const tail = sorted.slice(rank);
  const var_ = (sorted[rank] as number) * scale;
  const es = (tail.reduce((s, x) => s + x, 0) / tail.length) * scale;
  return {
    confidence_level: confidenceLevel,
    var: roundCents(var_),
    var_percent: value > 0 ? Math.round((10000 * var_) / value) / 100 : 0,
    expected_shortfall: roundCents(es),
  };
}

function roundCents(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Portfolio Value at Risk by historical simulation, pure: today's positions revalued with each
 * past day's price changes give a distribution of one-day losses; the VaR at confidence c is the
 * loss that c of those days did not exceed, scaled to the horizon by √days (the square-root-of-
 * time rule); the expected shortfall is the mean loss of the days at or beyond it.
 *
 * Prices come as typed arrays on a calendar (one slot per day, NaN where a symbol did not close),
 * so a VaR allocates a few arrays and no object per day.
 */

/** One position: a quantity of a symbol and its closes on consecutive calendar days. */
export interface PositionSeries {
  readonly quantity: number;
  /** start is the calendar slot of closes[0]; slot 0 is the window's first day. */
  readonly start: number;
  /** closes, one per calendar day from `start`, NaN where the symbol did not close. */
  readonly closes: Float64Array;
}

/** The VaR and expected shortfall at one confidence level, in currency and as a share of value. */
export interface ValueAtRisk {
  readonly confidence_level: number;
  readonly var: number;
  readonly var_percent: number;
  readonly expected_shortfall: number;
}

/** commonDays lists, ascending, the calendar slots on which every position has a close. */
export function commonDays(positions: readonly PositionSeries[]): Int32Array {
  if (positions.length === 0) return new Int32Array(0);
  let from = 0;
  let to = Number.POSITIVE_INFINITY;
  for (const p of positions) {
    from = Math.max(from, p.start);
    to = Math.min(to, p.start + p.closes.length);
  }
  const days = new Int32Array(Math.max(0, to - from));
  let n = 0;
  for (let slot = from; slot < to; slot++) {
    let everyOne = true;
    for (const p of positions) {
      if (Number.isNaN(p.closes[slot - p.start])) {
        everyOne = false;
        break;
      }
    }
    if (everyOne) days[n++] = slot;
  }
  return days.subarray(0, n);
}

/**
 * dailyLosses revalues `positions` at their closes on the last of `days` with the relative price
 * change of each of `days` against the one before; positions are summed in the order given.
 */
export function dailyLosses(positions: readonly PositionSeries[], days: Int32Array): Float64Array {
  if (days.length < 2) return new Float64Array(0);
  const losses = new Float64Array(days.length - 1);
  const last = days[days.length - 1] as number;
  for (const p of positions) {
    const c = p.closes;
    const exposure = p.quantity * (c[last - p.start] as number);
    let before = c[(days[0] as number) - p.start] as number;
    for (let t = 1; t < days.length; t++) {
      const after = c[(days[t] as number) - p.start] as number;
      losses[t - 1] = (losses[t - 1] as number) - exposure * (after / before - 1);
      before = after;
    }
  }
  return losses;
}

/** portfolioValue is Σ quantity × close on `day`. */
export function portfolioValue(positions: readonly PositionSeries[], day: number): number {
  let value = 0;
  for (const p of positions) value += p.quantity * (p.closes[day - p.start] ?? 0);
  return value;
}

/** sortLosses returns the losses in ascending order (a copy), as historicalVaR takes them. */
export function sortLosses(losses: Float64Array): Float64Array {
  return Float64Array.from(losses).sort();
}

/**
 * historicalVaR: the loss at rank ⌈c·n⌉ of n sorted daily losses (the smallest loss that at least
 * c of the days did not exceed), times √horizonDays; ES is the mean of the losses from that rank on.
 * `sorted` is ascending (sortLosses), so several levels share one sort.
 */
export function historicalVaR(
  sorted: Float64Array,
  value: number,
  confidenceLevel: number,
  horizonDays: number,
): ValueAtRisk {
  if (sorted.length === 0) throw new RangeError('historicalVaR needs at least one daily loss');
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new RangeError(`confidenceLevel must be above 0 and below 1, got ${confidenceLevel}`);
  }
  const rank = Math.max(0, Math.ceil(confidenceLevel * sorted.length) - 1);
  const scale = Math.sqrt(horizonDays);
  let tail = 0;
  for (let i = rank; i < sorted.length; i++) tail += sorted[i] as number;
  const var_ = (sorted[rank] as number) * scale;
  const es = (tail / (sorted.length - rank)) * scale;
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

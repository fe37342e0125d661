import { describe, expect, it } from 'vitest';
import {
  appendRate,
  DAY_SECONDS,
  EMPTY_RATE_HISTORY,
  forecastRate,
  RATE_BUCKET_SECONDS,
  type RateHistory,
  WEEK_SECONDS,
} from './forecast.ts';

/** A rate history sampled every minute from `from` to `to` seconds by `rate(t)`. */
function historyOf(from: number, to: number, rate: (t: number) => number): RateHistory {
  let h = EMPTY_RATE_HISTORY;
  for (let t = from; t < to; t += 60) h = appendRate(h, t, rate(t));
  return h;
}

/** A business day: 500 rps, 3,000 from 09:00 to 17:00. */
const day = (t: number) => {
  const hour = (((t % DAY_SECONDS) + DAY_SECONDS) % DAY_SECONDS) / 3600;
  return hour >= 9 && hour < 17 ? 3000 : 500;
};

describe('appendRate', () => {
  it('keeps the mean of each 5-minute bucket and closes it when the next begins', () => {
    const h = historyOf(0, 600, (t) => (t < 300 ? 100 : 200));
    expect(h.buckets).toEqual([{ atSeconds: 0, rps: 100 }]);
    expect(h.open).toEqual({ atSeconds: RATE_BUCKET_SECONDS, sum: 1000, count: 5 });
  });

  it('forgets what is older than fifteen days', () => {
    const h = historyOf(0, 16 * DAY_SECONDS, () => 1);
    expect(h.buckets[0]?.atSeconds).toBeGreaterThanOrEqual(DAY_SECONDS - RATE_BUCKET_SECONDS);
  });
});

describe('forecastRate', () => {
  it.each<[string, number, string | RegExp]>([
    ['off with no history', 0, /no request-rate history yet/],
    [
      'off with less than a day',
      20 * 3600,
      /20.0 h of request-rate history; the forecast needs one full day/,
    ],
    ['daily from one day', DAY_SECONDS, 'daily'],
    ['still daily with thirteen days', 13 * DAY_SECONDS, 'daily'],
    ['weekly once two weeks exist', 2 * WEEK_SECONDS, 'weekly'],
  ])('%s', (_name, seconds, expected) => {
    const now = 0;
    const f = forecastRate(historyOf(now - seconds, now, day), now, 3600);
    if (typeof expected === 'string') expect(f.on && f.season).toBe(expected);
    else expect(!f.on && f.reason).toMatch(expected);
  });

  it('sees a daily peak coming within the horizon, before the rate rises', () => {
    // Three days of history; now is 08:50, the 3,000 rps peak begins at 09:00.
    const now = 3 * DAY_SECONDS + 8 * 3600 + 50 * 60;
    const history = historyOf(0, now, day);
    expect(forecastRate(history, now, 300)).toMatchObject({ on: true, peakRps: 500 });
    expect(forecastRate(history, now, 900)).toMatchObject({ on: true, peakRps: 3000, errorPercent: 0 });
  });

  // Now is 08:50 on day 3; the usual days run 500 rps, 3,000 from 09:00 to 17:00.
  const now = 3 * DAY_SECONDS + 8 * 3600 + 50 * 60;
  it.each<[string, (t: number) => number, number, number, number | undefined]>([
    [
      // Day 1 ran at 1.5× the day before it: a level the same hour has shown.
      'today 1.5× the usual days, as day 1 was: the forecast peak follows',
      (t) => day(t) * ((t >= DAY_SECONDS && t < 2 * DAY_SECONDS) || t > now - 2 * 3600 ? 1.5 : 1),
      1.5,
      4500,
      undefined,
    ],
    [
      // The same shape an hour early: 3,000 rps from 08:00 runs 6× the usual 500, a level no past
      // day showed at that hour: kept at 1, not 2 (the bound), so the peak is forecast at 3,000.
      'a peak an hour early is not a level: the forecast keeps to the highest level the hour has run at',
      (t) => (t > now - 3000 ? 3000 : day(t)),
      1,
      3000,
      6,
    ],
    [
      'a quiet hour lowers the forecast: the floor only raises what the reactive rule asks',
      (t) => day(t) * (t > now - 2 * 3600 ? 0.6 : 1),
      0.6,
      1800,
      undefined,
    ],
  ])('%s', (_name, rate, level, peakRps, measured) => {
    const f = forecastRate(historyOf(0, now, rate), now, 900);
    expect(f.on && f.level).toBeCloseTo(level, 6);
    expect(f.on && f.peakRps).toBeCloseTo(peakRps, 6);
    expect(f.on && f.levelKept?.measured).toBe(measured);
  });

  it('follows a day that falls early from its last quarter hour, not the hour that lags it', () => {
    // 16:50 on day 3; the usual days run 3,000 until 17:00, and today fell to 500 at 16:30. The
    // hour's median is still 1 (8 of its 12 buckets ran as usual); the last quarter hour runs 1/6×,
    // within the bound 0.5: the forecast to 17:05 is 1,500, not the usual 3,000.
    const at = 3 * DAY_SECONDS + 16 * 3600 + 50 * 60;
    const f = forecastRate(
      historyOf(0, at, (t) => (t >= at - 1200 ? 500 : day(t))),
      at,
      900,
    );
    expect(f.on && f.level).toBeCloseTo(0.5, 6);
    expect(f.on && f.peakRps).toBeCloseTo(1500, 6);
    expect(f.on && f.levelFell?.hour).toBeCloseTo(1, 6);
    expect(f.on && f.levelFell?.recent).toBeCloseTo(500 / 3000, 6);
    // The same day still at 3,000: both levels are 1, and nothing fell.
    const usual = forecastRate(historyOf(0, at, day), at, 900);
    expect(usual.on && usual.peakRps).toBeCloseTo(3000, 6);
    expect(usual.on && usual.levelFell).toBeUndefined();
  });

  it('measures its error over the last season against the seasons before it', () => {
    // Day 2 ran at twice days 0 and 1: the seasonal median missed it by half.
    const history = historyOf(0, 3 * DAY_SECONDS, (t) => (t >= 2 * DAY_SECONDS ? 2 : 1) * 1000);
    const f = forecastRate(history, 3 * DAY_SECONDS, 300);
    expect(f.on && f.errorPercent).toBeCloseTo(50, 0);
  });

  it('has no error to show with one season', () => {
    const f = forecastRate(historyOf(0, DAY_SECONDS, day), DAY_SECONDS, 300);
    expect(f.on && f.errorPercent).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { DAY_SECONDS, forecastRate, RATE_BUCKET_SECONDS, RATE_HISTORY_SECONDS } from '../tuning/forecast.ts';
import { rateHistoryFromPoints, rateHistoryRange } from './rate-history.ts';

const B = RATE_BUCKET_SECONDS;

describe('rateHistoryRange', () => {
  it.each([
    ['on the grid', 1000 * B, 1000 * B],
    ['inside a bucket', 1000 * B + 17, 1000 * B],
    ['just before the next bucket', 1001 * B - 1, 1000 * B],
  ])('ends at the start of the bucket being filled, %s', (_what, now, end) => {
    expect(rateHistoryRange(now)).toEqual({
      startSeconds: end - RATE_HISTORY_SECONDS + B,
      endSeconds: end,
      stepSeconds: B,
    });
  });

  it('asks for 15 days in 4,320 points, inside the 11,000 Prometheus answers', () => {
    const { startSeconds, endSeconds, stepSeconds } = rateHistoryRange(1_800_000_000);
    expect((endSeconds - startSeconds) / stepSeconds + 1).toBe(4320);
  });
});

describe('rateHistoryFromPoints', () => {
  it.each<[string, [number, number][], { atSeconds: number; rps: number }[]]>([
    ['nothing from nothing', [], []],
    ['a point closes the bucket before it', [[10 * B, 500]], [{ atSeconds: 9 * B, rps: 500 }]],
    [
      'one bucket a point, oldest first, whatever the order of the answer',
      [
        [12 * B, 700],
        [10 * B, 500],
        [11 * B, 600],
      ],
      [
        { atSeconds: 9 * B, rps: 500 },
        { atSeconds: 10 * B, rps: 600 },
        { atSeconds: 11 * B, rps: 700 },
      ],
    ],
    [
      'a missing point is a gap, not a zero',
      [
        [10 * B, 500],
        [13 * B, 800],
      ],
      [
        { atSeconds: 9 * B, rps: 500 },
        { atSeconds: 12 * B, rps: 800 },
      ],
    ],
    ['a measured zero stays a zero', [[10 * B, 0]], [{ atSeconds: 9 * B, rps: 0 }]],
    [
      'a point off the grid goes to the bucket before its own',
      [[10 * B + 40, 500]],
      [{ atSeconds: 9 * B, rps: 500 }],
    ],
  ])('%s', (_what, points, buckets) => {
    const history = rateHistoryFromPoints(new Map(points));
    expect(history.buckets).toEqual(buckets);
    expect(history.open).toBeUndefined();
  });

  it('gives the forecast a full day from a day of points, and its peak a day later', () => {
    const now = 100 * DAY_SECONDS + 3600;
    const { startSeconds, endSeconds, stepSeconds } = rateHistoryRange(now);
    const points = new Map<number, number>();
    // Only the last day and a bit answered: 100 rps, and 400 rps from an hour to two hours after "now" a day ago.
    for (let t = startSeconds; t <= endSeconds; t += stepSeconds) {
      if (t < now - DAY_SECONDS - 3600) continue;
      const ago = t - (now - DAY_SECONDS);
      points.set(t, ago > 3600 && ago <= 7200 ? 400 : 100);
    }
    const history = rateHistoryFromPoints(points);
    const quiet = forecastRate(history, now, 600);
    const ahead = forecastRate(history, now + 3600, 600);
    expect(quiet).toMatchObject({ on: true, season: 'daily', peakRps: 100 });
    expect(ahead).toMatchObject({ on: true, season: 'daily', peakRps: 400 });
  });
});

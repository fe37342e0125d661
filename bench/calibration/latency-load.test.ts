import { describe, expect, it } from 'vitest';
import { MIN_REQUESTS_FOR_P95, measuredSeconds } from './latency-load.ts';

describe('measuredSeconds: how long one calibration run lasts', () => {
  it.each([
    // rate, seconds, minRequests, expected
    [5, 8, MIN_REQUESTS_FOR_P95, 80],
    [10, 8, MIN_REQUESTS_FOR_P95, 40],
    [40, 8, MIN_REQUESTS_FOR_P95, 10],
    [50, 8, MIN_REQUESTS_FOR_P95, 8],
    [3000, 8, MIN_REQUESTS_FOR_P95, 8],
    [7, 8, MIN_REQUESTS_FOR_P95, 58],
    [5, 4, 0, 4],
    [0, 8, MIN_REQUESTS_FOR_P95, 8],
  ])('at %d rps with %d s and %d requests lasts %d s', (rate, seconds, minRequests, expected) => {
    expect(measuredSeconds(rate, { seconds, minRequests })).toBe(expected);
  });

  it('lasts 8 s without options, as the runs recorded before the minimum did', () => {
    expect(measuredSeconds(5, {})).toBe(8);
  });
});

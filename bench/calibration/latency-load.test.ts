import { describe, expect, it } from 'vitest';
import type { EndpointResult } from '../../risk-api/src/load-report.ts';
import { byCache, MIN_REQUESTS_FOR_P95, measuredSeconds } from './latency-load.ts';

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

describe("byCache: a run's p95 of hits and of misses", () => {
  const latency = { mean: 1, p50: 1, p95: 2, p99: 3 };
  const endpoint = (hit: number | null, miss: number | null): EndpointResult => ({
    endpoint: '/api/v1/data/:id',
    requests: 10,
    rps: 1,
    errors: 0,
    errorPercent: 0,
    statusCounts: { 200: 10 },
    latencyMs: latency,
    latencyFromSendMs: latency,
    latencyFromSendByCacheMs: {
      hit: hit === null ? null : { ...latency, p95: hit, answers: 30 },
      miss: miss === null ? null : { ...latency, p95: miss, answers: 7 },
    },
  });

  it.each<[string, EndpointResult[], ReturnType<typeof byCache>]>([
    ['both kinds', [endpoint(3, 30)], { hit: { answers: 30, p95Ms: 3 }, miss: { answers: 7, p95Ms: 30 } }],
    [
      'hits only, beside an endpoint nothing marked',
      [endpoint(3, null), endpoint(null, null)],
      { hit: { answers: 30, p95Ms: 3 } },
    ],
    ['nothing marked', [endpoint(null, null)], {}],
    ['two marked endpoints, which cannot be told apart', [endpoint(3, 30), endpoint(4, 40)], {}],
  ])('%s', (_, endpoints, expected) => {
    expect(byCache({ endpoints })).toEqual(expected);
  });
});

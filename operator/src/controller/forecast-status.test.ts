import { describe, expect, it } from 'vitest';
import { forecastStatusOf } from './forecast-status.ts';

describe('forecastStatusOf', () => {
  it.each([
    [
      'a forecast with its error and the floor it applied',
      {
        forecast: {
          on: true as const,
          season: 'weekly' as const,
          seasons: 2,
          level: 1.04,
          peakRps: 3612.345,
          peakAtSeconds: 0,
          errorPercent: 7.612,
        },
        minReplicas: 5,
        applied: true,
        reason: 'forecast (weekly …) raises minReplicas to 5',
      },
      {
        mode: 'Auto',
        season: 'weekly',
        peakRequestsPerSecond: 3612.3,
        errorPercent: 7.6,
        minReplicas: 5,
        applied: true,
        message: 'forecast (weekly …) raises minReplicas to 5',
      },
    ],
    [
      'a forecast that is off says why, with no numbers',
      {
        forecast: {
          on: false as const,
          reason: '3.0 h of request-rate history; the forecast needs one full day',
        },
        applied: false,
        reason: 'forecast off: 3.0 h of request-rate history; the forecast needs one full day',
      },
      {
        mode: 'Auto',
        applied: false,
        message: 'forecast off: 3.0 h of request-rate history; the forecast needs one full day',
      },
    ],
  ])('%s', (_name, floor, status) => {
    expect(forecastStatusOf(floor, 'Auto')).toEqual(status);
  });
});

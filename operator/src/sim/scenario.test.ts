import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HPA_BEHAVIOR } from './hpa.ts';
import { loadAt, loadScenarioFile, parseScenario } from './scenario.ts';

const scenarioDir = join(import.meta.dirname, '../../../bench/scenarios');
const minimal = { name: 'x', durationMinutes: 60, load: { points: [{ minute: 0, rps: 100 }] } };

describe('scenario files', () => {
  it.each(readdirSync(scenarioDir).filter((f) => f.endsWith('.yaml')))(
    'standard scenario %s parses',
    (file) => {
      const scenario = loadScenarioFile(join(scenarioDir, file));
      expect(scenario.name).toBe(file.replace('.yaml', ''));
      expect(scenario.load.points.length).toBeGreaterThan(0);
    },
  );

  it('ships the standard scenarios: issue 5’s eight, issue 13’s three, the engine’s held-out check, issue 30’s two and a request-rate HPA', () => {
    expect(
      readdirSync(scenarioDir)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual([
      'business-week.yaml',
      'cache-bound.yaml',
      'campaign-evening.yaml',
      'db-constrained.yaml',
      'diurnal-day.yaml',
      'early-peak.yaml',
      'flash-spike.yaml',
      'growing-working-set.yaml',
      'noisy-week.yaml',
      'open-close-spikes.yaml',
      'request-rate-day.yaml',
      'slow-ramp.yaml',
      'step-up-down.yaml',
      'ttl-bound.yaml',
      'universe-swap.yaml',
    ]);
  });

  it.each<[string, object, RegExp]>([
    ['a bad name', { name: 'Bad Name' }, /name must be 1-63 lowercase/],
    [
      'a missing duration',
      { durationMinutes: undefined },
      /durationMinutes is required: a number in \[1, 20160\]/,
    ],
    [
      'reserved ≥ max connections',
      { db: { maxConnections: 10, reservedConnections: 10 } },
      /db.reservedConnections must be a number in \[0, 9\], got 10/,
    ],
    [
      'DB CPU a query above the query time',
      { db: { queryMs: 20, cores: 2, cpuMsPerQuery: 25 } },
      /db.cpuMsPerQuery must be a number in \[0.01, 20\], got 25/,
    ],
    [
      'too many history days',
      { history: { days: 40 } },
      /history.days must be a number in \[0, 28\], got 40/,
    ],
    [
      'fractional history days',
      { history: { days: 1.5 } },
      /history.days must be a whole number in \[0, 28\], got 1.5/,
    ],
    [
      'a history day curve past the day',
      { history: { days: 1, points: [{ minute: 2000, rps: 5 }] } },
      /history.points\[0\].minute must be a number in \[0, 1440\], got 2000/,
    ],
    [
      'an unknown forecast mode',
      { forecast: 'auto' },
      /forecast must be one of Off, Recommend, Auto, got "auto"/,
    ],
    [
      'a skew out of range',
      { redis: { zipfExponent: 5 } },
      /redis.zipfExponent must be a number in \[0, 3\], got 5/,
    ],
    [
      'a negative load',
      { load: { points: [{ minute: 0, rps: -5 }] } },
      /load.points\[0\].rps must be a number in \[0, 10000000\], got -5/,
    ],
    [
      'points out of order',
      {
        load: {
          points: [
            { minute: 10, rps: 1 },
            { minute: 5, rps: 1 },
          ],
        },
      },
      /load.points\[1\].minute must be a number in \[10, 60\], got 5/,
    ],
    ['no load', { load: {} }, /load.points .* or load.csv .* is required/],
    [
      'noise above 1',
      { load: { points: [{ minute: 0, rps: 1 }], noise: 2 } },
      /load.noise must be a number in \[0, 1\], got 2/,
    ],
    [
      'a metric gap ending before it starts',
      { metricGaps: [{ fromMinute: 20, toMinute: 10 }] },
      /metricGaps\[0\].toMinute must be a number in \[20, 60\]/,
    ],
    [
      'a working set growing faster than load squared',
      { redis: { keysLoadExponent: 3 } },
      /redis.keysLoadExponent must be a number in \[0, 2\], got 3/,
    ],
    [
      'universe replacements out of order',
      { redis: { universeReplacedAtMinutes: [30, 20] } },
      /redis.universeReplacedAtMinutes\[1\] must be a number in \[30, 60\], got 20/,
    ],
    [
      'a universe replacement after the end',
      { redis: { universeReplacedAtMinutes: [90] } },
      /redis.universeReplacedAtMinutes\[0\] must be a number in \[0, 60\], got 90/,
    ],
    [
      'an HPA target above 100 %',
      { app: { hpaTargetCpuUtilization: 1.5 } },
      /app.hpaTargetCpuUtilization must be a number in \[0.05, 1\], got 1.5/,
    ],
    ['a section that is not a mapping', { app: [1] }, /app must be a mapping, got \[1\]/],
    [
      'a request-rate target without bounds',
      { hpaRequestRate: { targetPerPod: 400 } },
      /hpaRequestRate.minPerPod is required: a number in \[1, 1000000\]/,
    ],
    [
      'request-rate bounds out of order',
      { hpaRequestRate: { targetPerPod: 400, minPerPod: 500, maxPerPod: 300 } },
      /hpaRequestRate.maxPerPod must be a number in \[500, 1000000\], got 300/,
    ],
    [
      'a stabilization window past an hour',
      { hpaBehavior: { scaleDownStabilizationSeconds: 7200 } },
      /hpaBehavior.scaleDownStabilizationSeconds must be a number in \[0, 3600\], got 7200/,
    ],
    [
      'a negative HPA tolerance',
      { hpaBehavior: { scaleUpTolerance: -0.1 } },
      /hpaBehavior.scaleUpTolerance must be a number in \[0, 1\], got -0.1/,
    ],
    [
      'a fractional request-rate target',
      { hpaRequestRate: { targetPerPod: 2.5, minPerPod: 1, maxPerPod: 10 } },
      /hpaRequestRate.targetPerPod must be a whole number, got 2.5/,
    ],
    [
      'a negative price',
      { prices: { redisGbHour: -1 } },
      /prices.redisGbHour must be a number in \[0, 1000\], got -1/,
    ],
  ])('rejects %s, naming the field and its range', (_name, overrides, message) => {
    expect(() => parseScenario({ ...minimal, ...overrides })).toThrow(message);
  });

  it("keeps Kubernetes' default HPA behavior unless the scenario sets its windows", () => {
    expect(parseScenario(minimal).hpaBehavior).toEqual(DEFAULT_HPA_BEHAVIOR);
    const own = parseScenario({ ...minimal, hpaBehavior: { scaleDownStabilizationSeconds: 60 } }).hpaBehavior;
    expect(own.scaleDown).toEqual({ ...DEFAULT_HPA_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 60 });
    expect(own.scaleUp).toEqual(DEFAULT_HPA_BEHAVIOR.scaleUp);
    const tolerant = parseScenario({ ...minimal, hpaBehavior: { scaleUpTolerance: 0.02 } }).hpaBehavior;
    expect(tolerant.scaleUp).toEqual({ ...DEFAULT_HPA_BEHAVIOR.scaleUp, tolerance: 0.02 });
    expect(tolerant.scaleDown.tolerance).toBeUndefined();
  });

  it('interpolates load linearly and holds the last point', () => {
    const points = [
      { minute: 0, rps: 100 },
      { minute: 10, rps: 200 },
    ];
    expect(loadAt(points, 5)).toBe(150);
    expect(loadAt(points, 99)).toBe(200);
  });
});

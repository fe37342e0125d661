import { describe, expect, it } from 'vitest';
import type { DecisionResult, PhaseResult } from './demo-result.ts';
import type { DemoSample } from './demo-sample.ts';
import { maxmemoryEffects } from './knob-effect.ts';

const phase = (name: string, fromSeconds: number, toSeconds: number) =>
  ({ name, fromSeconds, toSeconds }) as PhaseResult;

const sample = (atSeconds: number, over: Partial<DemoSample>): DemoSample => ({
  atSeconds,
  phase: 'wide',
  rps: 200,
  p95Ms: 50,
  errorRatePercent: 0,
  hitRatePercent: 50,
  poolUsagePercent: 0,
  poolSize: 5,
  maxOverflow: 0,
  maxmemoryMiB: 16,
  evictedKeysPerSecond: 0,
  redisHitRatePercent: 50,
  minReplicas: 2,
  maxReplicas: 4,
  desiredReplicas: 2,
  lastDecision: null,
  ...over,
});

const raise: DecisionResult = {
  atSeconds: 30,
  knob: 'redisMaxmemoryMiB',
  from: 16,
  to: 24,
  outcome: 'Applied',
  reason: 'eviction misses',
};

describe('maxmemoryEffects', () => {
  const samples = [
    sample(0, { redisHitRatePercent: 30 }), // a rate window before the change: not counted
    sample(20, { evictedKeysPerSecond: 40, redisHitRatePercent: 60 }),
    sample(30, { evictedKeysPerSecond: 20, redisHitRatePercent: 70, hitRatePercent: 55 }),
    sample(40, { maxmemoryMiB: 24, redisHitRatePercent: 80 }), // inside the rate window: not counted
    sample(60, { maxmemoryMiB: 24, redisHitRatePercent: 90 }),
    sample(70, { maxmemoryMiB: 24, redisHitRatePercent: 94, hitRatePercent: 91 }),
    sample(80, { phase: 'heavy', maxmemoryMiB: 24, redisHitRatePercent: 99, hitRatePercent: 99 }),
  ];
  const phases = [phase('wide', 0, 75), phase('heavy', 75, 100)];

  it('compares the rate window before a raise with its phase a rate window after it', () => {
    expect(maxmemoryEffects(samples, [raise], phases)).toEqual([
      {
        atSeconds: 30,
        phase: 'wide',
        fromMiB: 16,
        toMiB: 24,
        before: {
          fromSeconds: 20,
          toSeconds: 30,
          redisHitRatePercent: 65,
          apiHitRatePercent: 55,
          evictedKeysPerSecond: 30,
        },
        after: {
          fromSeconds: 60,
          toSeconds: 70,
          redisHitRatePercent: 92,
          apiHitRatePercent: 91,
          evictedKeysPerSecond: 0,
        },
      },
    ]);
  });

  it('leaves out shrinks and refused changes, and says when a window has no samples', () => {
    const shrink = { ...raise, from: 24, to: 16 };
    const held: DecisionResult = { ...raise, outcome: 'Blocked' };
    expect(maxmemoryEffects(samples, [shrink, held], phases)).toEqual([]);
    const late = { ...raise, atSeconds: 70 };
    const [effect] = maxmemoryEffects(samples, [late], phases);
    expect(effect?.after).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNING_SPEC, maxMemoryCeilingMiB } from '../tuning/tuning-spec.ts';
import type { TuningSpec } from '../tuning/types.ts';
import { maxMemoryConf, redisMaxMemoryCeilingMiB } from './redis-maxmemory.ts';

const tuning = (limitMiB: number, knobMaxMiB: number): TuningSpec => ({
  ...DEFAULT_TUNING_SPEC,
  redisMemoryLimitMiB: limitMiB,
  knobs: { ...DEFAULT_TUNING_SPEC.knobs, redisMaxMemoryMiB: { min: 64, max: knobMaxMiB } },
});

describe('redisMaxMemoryCeilingMiB', () => {
  it.each([
    ['0.75 × the limit', tuning(1024, 100_000), [], 768],
    ['the knob max when it is lower', tuning(1024, 600), [], 600],
    ['0.75 × the smallest container limit', tuning(1024, 100_000), [2048, 900, 1024], 675],
    ['the spec limit when containers are larger', tuning(1024, 100_000), [4096, 2048], 768],
    ['rounded down', tuning(1023, 100_000), [], 767],
  ])('is %s', (_name, spec, limits, expected) => {
    expect(redisMaxMemoryCeilingMiB({ tuning: spec, containerMemoryLimitsMiB: limits })).toBe(expected);
  });

  it('is the tuning engine’s ceiling when no container limits are known', () => {
    expect(redisMaxMemoryCeilingMiB({ tuning: DEFAULT_TUNING_SPEC })).toBe(
      maxMemoryCeilingMiB(DEFAULT_TUNING_SPEC),
    );
  });
});

describe('maxMemoryConf', () => {
  it('is the line redis.conf includes, in MiB as Redis reads "mb"', () => {
    expect(maxMemoryConf(512)).toBe('maxmemory 512mb\n');
  });
});

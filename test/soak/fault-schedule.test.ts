import { describe, expect, it } from 'vitest';
import {
  drawSchedule,
  FAULT_SECONDS,
  FAULT_TYPES,
  MIN_DURATION_SECONDS,
  seedOfDay,
  TAIL_SECONDS,
  WARMUP_SECONDS,
} from './fault-schedule.ts';

const countByType = (faults: ReturnType<typeof drawSchedule>) =>
  Object.fromEntries(FAULT_TYPES.map((t) => [t, faults.filter((f) => f.type === t).length]));

describe('drawSchedule', () => {
  it.each([
    [1, 240],
    [2, 240],
    [7, MIN_DURATION_SECONDS],
    [42, 3600],
  ])(
    'seed %i over %i s: every type at least once, inside the run, one of a type at a time',
    (seed, duration) => {
      const faults = drawSchedule(seed, duration);
      for (const n of Object.values(countByType(faults))) expect(n).toBeGreaterThanOrEqual(1);
      for (const f of faults) {
        expect(f.startSeconds).toBeGreaterThanOrEqual(WARMUP_SECONDS);
        expect(f.endSeconds).toBeLessThanOrEqual(duration - TAIL_SECONDS / 2);
        expect(f.endSeconds - f.startSeconds).toBeGreaterThanOrEqual(FAULT_SECONDS[f.type].least);
        expect(f.endSeconds - f.startSeconds).toBeLessThanOrEqual(FAULT_SECONDS[f.type].full * 1.3);
      }
      for (const type of FAULT_TYPES) {
        const ofType = faults.filter((f) => f.type === type);
        for (let i = 1; i < ofType.length; i++) {
          expect(ofType[i]?.startSeconds).toBeGreaterThan(ofType[i - 1]?.endSeconds ?? 0);
        }
      }
    },
  );

  it('a 4-minute run holds each type exactly once; an hour about one fault a minute', () => {
    expect(Object.values(countByType(drawSchedule(3, 240)))).toEqual(FAULT_TYPES.map(() => 1));
    expect(drawSchedule(3, 3600).length).toBe(Math.floor((3600 - WARMUP_SECONDS - TAIL_SECONDS) / 60));
  });

  it('is the same for the same seed, and different for another', () => {
    expect(drawSchedule(11, 600)).toEqual(drawSchedule(11, 600));
    expect(drawSchedule(11, 600)).not.toEqual(drawSchedule(12, 600));
  });

  it('overlaps some faults in an hour', () => {
    const faults = drawSchedule(5, 3600);
    const overlapping = faults.filter((f, i) => i > 0 && f.startSeconds < (faults[i - 1]?.endSeconds ?? 0));
    expect(overlapping.length).toBeGreaterThan(0);
  });

  it.each([
    [1, MIN_DURATION_SECONDS - 1, `at least ${MIN_DURATION_SECONDS}`],
    [1, 240.5, 'whole number of seconds'],
    [1, 86_401, 'at most 86400'],
    [-1, 240, 'seed must be a whole number'],
  ])('rejects seed %s and duration %s naming the bound', (seed, duration, message) => {
    expect(() => drawSchedule(seed, duration)).toThrow(message);
  });
});

describe('seedOfDay', () => {
  it('alternates between the two seeds from one day to the next', () => {
    const seeds: [number, number] = [101, 202];
    const day1 = seedOfDay(new Date('2026-03-01T10:00:00Z'), seeds);
    const day2 = seedOfDay(new Date('2026-03-02T10:00:00Z'), seeds);
    expect(new Set([day1, day2])).toEqual(new Set(seeds));
    expect(seedOfDay(new Date('2026-03-03T23:59:00Z'), seeds)).toBe(day1);
  });
});

import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';
import { ManualClock } from './clock.ts';

describe('Backoff', () => {
  it('doubles from 800 ms to a 30 s cap when jitter draws nothing', () => {
    const backoff = new Backoff({ clock: new ManualClock(), random: () => 0 });
    const delays = Array.from({ length: 8 }, () => backoff.nextDelayMs());
    expect(delays).toEqual([800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  });

  it.each([
    { random: 0, expected: 800 },
    { random: 0.5, expected: 720 },
    { random: 0.999, expected: 800 * (1 - 0.2 * 0.999) },
  ])('jitter shortens a delay by at most 20 % (random $random → $expected ms)', ({ random, expected }) => {
    const backoff = new Backoff({ clock: new ManualClock(), random: () => random });
    expect(backoff.nextDelayMs()).toBeCloseTo(expected, 6);
  });

  it('spreads delays across clients with real randomness, never above the cap', () => {
    const delays = Array.from({ length: 200 }, () => new Backoff().nextDelayMs());
    expect(Math.min(...delays)).toBeGreaterThan(640);
    expect(Math.max(...delays)).toBeLessThanOrEqual(800);
    expect(new Set(delays).size).toBeGreaterThan(100);
  });

  it('starts again from 800 ms after 120 s without failure, not before', () => {
    const clock = new ManualClock();
    const backoff = new Backoff({ clock, random: () => 0 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    clock.advance(119_000);
    expect(backoff.nextDelayMs()).toBe(3200);
    clock.advance(120_000);
    expect(backoff.nextDelayMs()).toBe(800);
  });

  it('reset() forgets failures', () => {
    const backoff = new Backoff({ clock: new ManualClock(), random: () => 0 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(800);
  });

  it('rejects nonsensical options with the option named', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(/initialMs/);
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(/maxMs/);
    expect(() => new Backoff({ jitter: 1 })).toThrow(/jitter/);
  });
});

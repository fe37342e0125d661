import { describe, expect, it } from 'vitest';
import {
  erlangC,
  littlesLaw,
  meanWaitSeconds,
  probabilityWaitExceeds,
  serversForWaitTarget,
} from './queueing.ts';

describe('queueing formulas', () => {
  it.each<[number, number, number]>([
    [1, 0.5, 0.5], // M/M/1: P(wait) = ρ
    [2, 1, 1 / 3], // textbook M/M/2 at ρ = 0.5
    [10, 8, 0.409], // standard table value, 3 decimals
    [5, 5, 1], // unstable
    [5, 0, 0],
  ])('erlangC(%d servers, %d erlangs) = %d', (servers, load, expected) => {
    expect(erlangC(servers, load)).toBeCloseTo(expected, 3);
  });

  it('Little: 200 queries/s held 30 ms keep 6 connections busy', () => {
    expect(littlesLaw(200, 0.03)).toBeCloseTo(6);
  });

  it('mean wait of M/M/1 is ρ / (μ − λ)', () => {
    expect(meanWaitSeconds(1, 5, 0.1)).toBeCloseTo(0.5 / 5);
    expect(meanWaitSeconds(1, 10, 0.1)).toBe(Number.POSITIVE_INFINITY);
  });

  it('sizes enough servers for the wait target and no more than one too many', () => {
    const c = serversForWaitTarget(200, 0.03, 0.01, 0.05, 0.8);
    expect(probabilityWaitExceeds(c, 200, 0.03, 0.01)).toBeLessThanOrEqual(0.05);
    expect((200 * 0.03) / c).toBeLessThanOrEqual(0.8);
    const fewer = c - 1;
    expect(probabilityWaitExceeds(fewer, 200, 0.03, 0.01) > 0.05 || (200 * 0.03) / fewer > 0.8).toBe(true);
  });
});

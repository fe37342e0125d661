import { describe, expect, it } from 'vitest';
import { MAX_SEED_COUNT, parseSeedCount, SEED_COUNT_RULE } from './benchmark.ts';

describe('parseSeedCount', () => {
  it.each([
    ['1', 1],
    ['3', 3],
    [' 7 ', 7],
    [String(MAX_SEED_COUNT), MAX_SEED_COUNT],
  ])('accepts %j as %i', (text, count) => {
    expect(parseSeedCount(text)).toBe(count);
  });

  it.each(['0', '-1', String(MAX_SEED_COUNT + 1), '1.5', 'many', '', ' ', 'NaN', 'Infinity'])(
    'refuses %j',
    (text) => {
      expect(parseSeedCount(text)).toBeUndefined();
    },
  );

  it('states the rule with the bound it checks', () => {
    expect(SEED_COUNT_RULE).toBe(`must be an integer from 1 to ${MAX_SEED_COUNT}`);
  });
});

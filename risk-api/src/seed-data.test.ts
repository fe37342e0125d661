import { describe, expect, it } from 'vitest';
import { generateSeedData, SEED_SYMBOL_COUNT, SEED_SYMBOLS, seedSymbolNames } from './seed-data.ts';

describe('seed data', () => {
  it('lists more symbols on request, the first ones and the portfolios unchanged', () => {
    const base = generateSeedData();
    const wide = generateSeedData(SEED_SYMBOL_COUNT + 200);
    expect(wide.symbols).toHaveLength(SEED_SYMBOL_COUNT + 200);
    expect(wide.symbols.slice(0, SEED_SYMBOL_COUNT)).toEqual(base.symbols);
    expect(wide.closes.slice(0, SEED_SYMBOL_COUNT)).toEqual(base.closes);
    expect(wide.portfolios).toEqual(base.portfolios);
    expect(new Set(wide.symbols.map((s) => s.symbol)).size).toBe(wide.symbols.length);
    expect(wide.closes.every((c) => c.length === wide.days.length && c.every((x) => x > 0))).toBe(true);
    expect(seedSymbolNames(SEED_SYMBOL_COUNT + 200)).toEqual(wide.symbols.map((s) => s.symbol));
    expect(seedSymbolNames().slice(0, SEED_SYMBOLS.length)).toEqual([...SEED_SYMBOLS]);
  });

  it('gives the symbols beyond the first their own prices, the same for any count', () => {
    const a = generateSeedData(SEED_SYMBOL_COUNT + 10);
    const b = generateSeedData(SEED_SYMBOL_COUNT + 20);
    expect(b.closes.slice(0, SEED_SYMBOL_COUNT + 10)).toEqual(a.closes);
    expect(a.closes[SEED_SYMBOL_COUNT]).not.toEqual(a.closes[SEED_SYMBOL_COUNT + 1]);
  });

  it.each([0, 299, 300.5, Number.NaN, 100_001])('refuses %s symbols, naming the range', (count) => {
    expect(() => generateSeedData(count)).toThrow(/symbol count must be a whole number from 300 to 100000/);
  });
});
